#include "ops/Recurrent.h"

#include "quantize/Annotate.h"
#include "quantize/QuantMath.h"

#include <llvm/ADT/StringRef.h>

#include <algorithm>
#include <cmath>
#include <variant>

namespace edgesplit::ops {

double Activation::operator()(double x) const {
  switch (kind_) {
  case Kind::Relu: return std::max(x, 0.0);
  case Kind::Tanh: return std::tanh(x);
  case Kind::Sigmoid: {
    // Evaluated on the side where exp() cannot overflow.
    if (x >= 0.0) return 1.0 / (1.0 + std::exp(-x));
    const double e = std::exp(x);
    return e / (1.0 + e);
  }
  case Kind::Affine: return alpha_ * x + beta_;
  case Kind::LeakyRelu: return x >= 0.0 ? x : alpha_ * x;
  case Kind::ThresholdedRelu: return x > alpha_ ? x : 0.0;
  case Kind::ScaledTanh: return alpha_ * std::tanh(beta_ * x);
  case Kind::HardSigmoid: return std::clamp(alpha_ * x + beta_, 0.0, 1.0);
  case Kind::Elu: return x >= 0.0 ? x : alpha_ * (std::exp(x) - 1.0);
  case Kind::Softsign: return x / (1.0 + std::abs(x));
  case Kind::Softplus: return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
  return x;
}

bool RecurrentAttributes::isReversed(int64_t index) const {
  return direction == Direction::Reverse || (direction == Direction::Bidirectional && index == 1);
}

double RecurrentAttributes::clipped(double x) const {
  return clip ? std::clamp(x, -*clip, *clip) : x;
}

namespace {
// An activation name, and the alpha/beta it takes with their defaults (those of the ONNX operator
// of the same name).
struct ActivationSpec {
  std::string_view name;
  Activation::Kind kind;
  bool takesAlpha = false;
  double defaultAlpha = 0.0;
  bool takesBeta = false;
  double defaultBeta = 0.0;
};

constexpr ActivationSpec kActivationSpecs[] = {
    {"Relu", Activation::Kind::Relu},
    {"Tanh", Activation::Kind::Tanh},
    {"Sigmoid", Activation::Kind::Sigmoid},
    {"Affine", Activation::Kind::Affine, true, 1.0, true, 0.0},
    {"LeakyRelu", Activation::Kind::LeakyRelu, true, 0.01},
    {"ThresholdedRelu", Activation::Kind::ThresholdedRelu, true, 1.0},
    {"ScaledTanh", Activation::Kind::ScaledTanh, true, 1.0, true, 1.0},
    {"HardSigmoid", Activation::Kind::HardSigmoid, true, 0.2, true, 0.5},
    {"Elu", Activation::Kind::Elu, true, 1.0},
    {"Softsign", Activation::Kind::Softsign},
    {"Softplus", Activation::Kind::Softplus},
};

std::vector<std::string> activationNames(const NodeContext &ctx, const RecurrentOpTraits &traits,
                                         int64_t numDirections) {
  const size_t expected = traits.defaultActivations.size() * static_cast<size_t>(numDirections);
  const AttributeValue *attribute = ctx.node().attributes.find("activations");
  if (!attribute) {
    std::vector<std::string> names;
    for (int64_t direction = 0; direction < numDirections; ++direction)
      for (std::string_view name : traits.defaultActivations) names.emplace_back(name);
    return names;
  }
  const auto *names = std::get_if<std::vector<std::string>>(attribute);
  if (!names) ctx.fail("attribute 'activations' must be a list of strings");
  if (names->size() != expected)
    ctx.fail("activations has {} entries, expected {} ({} per direction)", names->size(),
             expected, traits.defaultActivations.size());
  return *names;
}

// Each function that takes alpha (beta) consumes the next activation_alpha (activation_beta) value,
// or its default once the list runs out.
std::vector<Activation> parseActivations(const NodeContext &ctx, const RecurrentOpTraits &traits,
                                         int64_t numDirections) {
  const std::vector<float> alphas = ctx.attrFloats("activation_alpha");
  const std::vector<float> betas = ctx.attrFloats("activation_beta");
  size_t nextAlpha = 0, nextBeta = 0;
  std::vector<Activation> activations;
  const std::vector<std::string> names = activationNames(ctx, traits, numDirections);
  for (const std::string &name : names) {
    const ActivationSpec *spec = std::find_if(
        std::begin(kActivationSpecs), std::end(kActivationSpecs),
        [&](const ActivationSpec &candidate) {
          return llvm::StringRef(name).equals_insensitive(candidate.name);
        });
    if (spec == std::end(kActivationSpecs))
      ctx.fail("activation '{}' is not supported; expected Relu, Tanh, Sigmoid, Affine, LeakyRelu, "
               "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign or Softplus",
               name);
    double alpha = spec->defaultAlpha, beta = spec->defaultBeta;
    if (spec->takesAlpha && nextAlpha < alphas.size()) alpha = alphas[nextAlpha++];
    if (spec->takesBeta && nextBeta < betas.size()) beta = betas[nextBeta++];
    activations.emplace_back(spec->kind, alpha, beta);
  }
  return activations;
}
} // namespace

bool parseFlagAttribute(const NodeContext &ctx, std::string_view name) {
  const int64_t value = ctx.attrInt(name, 0);
  if (value != 0 && value != 1) ctx.fail("{} must be 0 or 1, got {}", name, value);
  return value == 1;
}

RecurrentAttributes parseRecurrentAttributes(const NodeContext &ctx,
                                             const RecurrentOpTraits &traits) {
  RecurrentAttributes attributes;
  attributes.hiddenSize = ctx.requireAttrInt("hidden_size");
  if (attributes.hiddenSize <= 0)
    ctx.fail("hidden_size must be positive, got {}", attributes.hiddenSize);

  const std::string direction = ctx.attrString("direction", "forward");
  if (direction == "forward") attributes.direction = RecurrentAttributes::Direction::Forward;
  else if (direction == "reverse") attributes.direction = RecurrentAttributes::Direction::Reverse;
  else if (direction == "bidirectional")
    attributes.direction = RecurrentAttributes::Direction::Bidirectional;
  else
    ctx.fail("direction '{}' is not supported; expected forward, reverse or bidirectional",
             direction);
  attributes.numDirections =
      attributes.direction == RecurrentAttributes::Direction::Bidirectional ? 2 : 1;

  attributes.batchMajor = parseFlagAttribute(ctx, "layout");

  if (ctx.hasAttr("clip")) {
    const double clip = ctx.attrFloat("clip", 0.0f);
    if (!(clip > 0.0)) ctx.fail("clip must be positive, got {}", clip);
    attributes.clip = clip;
  }
  attributes.activations = parseActivations(ctx, traits, attributes.numDirections);
  const std::vector<std::string> names = activationNames(ctx, traits, attributes.numDirections);
  for (size_t i = 0; i < names.size(); ++i)
    attributes.defaultActivations &= llvm::StringRef(names[i]).equals_insensitive(
        traits.defaultActivations[i % traits.defaultActivations.size()]);
  return attributes;
}

namespace {
void expectShape(const InferContext &ctx, size_t index, std::string_view name,
                 llvm::ArrayRef<int64_t> expected, std::string_view meaning) {
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(index);
  if (shape != expected)
    ctx.fail("{} has shape {}, expected {} ({})", name, formatShape(shape), formatShape(expected),
             meaning);
}

// The dimensions of X, whichever the layout.
struct SequenceDims {
  int64_t seqLength;
  int64_t batchSize;
  int64_t inputSize;
};

SequenceDims sequenceDims(llvm::ArrayRef<int64_t> shape, bool batchMajor) {
  return {batchMajor ? shape[1] : shape[0], batchMajor ? shape[0] : shape[1], shape[2]};
}

Shape stateShape(const RecurrentAttributes &attributes, int64_t batchSize) {
  if (attributes.batchMajor) return {batchSize, attributes.numDirections, attributes.hiddenSize};
  return {attributes.numDirections, batchSize, attributes.hiddenSize};
}
} // namespace

void inferRecurrent(InferContext &ctx, const RecurrentOpTraits &traits) {
  const RecurrentAttributes attributes = parseRecurrentAttributes(ctx, traits);
  const DType type = ctx.inputType(kSequence);
  if (!isFloatingPoint(type)) ctx.fail("X must be a floating-point tensor, got {}", dtypeName(type));
  for (size_t index : {kInputWeights, kRecurrentWeights, kBias, kInitialHidden, kInitialCell})
    if (ctx.hasInput(index) && ctx.inputType(index) != type)
      ctx.fail("input {} is {}, expected {} like X", index, dtypeName(ctx.inputType(index)),
               dtypeName(type));

  const llvm::ArrayRef<int64_t> xShape = ctx.inputShape(kSequence);
  if (xShape.size() != 3) ctx.fail("X must be 3-D, got shape {}", formatShape(xShape));
  const SequenceDims dims = sequenceDims(xShape, attributes.batchMajor);
  const int64_t directions = attributes.numDirections, hidden = attributes.hiddenSize;
  const int64_t gateRows = traits.gateCount * hidden;
  const std::string gateRowsMeaning = fmt::format("{} * hidden_size", traits.gateCount);
  expectShape(ctx, kInputWeights, "W", {directions, gateRows, dims.inputSize},
              fmt::format("num_directions, {}, input_size", gateRowsMeaning));
  expectShape(ctx, kRecurrentWeights, "R", {directions, gateRows, hidden},
              fmt::format("num_directions, {}, hidden_size", gateRowsMeaning));
  if (ctx.hasInput(kBias))
    expectShape(ctx, kBias, "B", {directions, 2 * gateRows},
                fmt::format("num_directions, 2 * {}", gateRowsMeaning));
  if (ctx.hasInput(kSequenceLengths)) {
    const DType lengthType = ctx.inputType(kSequenceLengths);
    if (isFloatingPoint(lengthType) || lengthType == DType::Bool)
      ctx.fail("sequence_lens must be an integer tensor, got {}", dtypeName(lengthType));
    expectShape(ctx, kSequenceLengths, "sequence_lens", {dims.batchSize}, "batch_size");
  }
  const Shape states = stateShape(attributes, dims.batchSize);
  const std::string_view stateMeaning = attributes.batchMajor
                                            ? "batch_size, num_directions, hidden_size"
                                            : "num_directions, batch_size, hidden_size";
  if (ctx.hasInput(kInitialHidden))
    expectShape(ctx, kInitialHidden, "initial_h", states, stateMeaning);
  if (traits.hasCellState && ctx.hasInput(kInitialCell))
    expectShape(ctx, kInitialCell, "initial_c", states, stateMeaning);

  if (ctx.hasOutput(0)) {
    const Shape y =
        attributes.batchMajor
            ? Shape{dims.batchSize, dims.seqLength, directions, hidden}
            : Shape{dims.seqLength, directions, dims.batchSize, hidden};
    ctx.setOutput(0, type, y);
  }
  if (ctx.hasOutput(1)) ctx.setOutput(1, type, states);
  if (traits.hasCellState && ctx.hasOutput(2)) ctx.setOutput(2, type, states);
}

void runRecurrent(KernelContext &ctx, const RecurrentOpTraits &traits,
                  const RecurrentAttributes &attributes, RecurrentCell cell) {
  const DType type = ctx.input(kSequence).dtype();
  const Tensor x = ctx.input(kSequence).castTo(DType::Float64);
  const SequenceDims dims = sequenceDims(x.shape(), attributes.batchMajor);
  const int64_t directions = attributes.numDirections, hidden = attributes.hiddenSize;
  const int64_t gateRows = traits.gateCount * hidden;
  const bool batchMajor = attributes.batchMajor;
  auto doubleInput = [&](size_t index, llvm::ArrayRef<int64_t> shapeWhenOmitted) {
    return ctx.hasInput(index) ? ctx.input(index).castTo(DType::Float64)
                               : Tensor(DType::Float64, shapeWhenOmitted);
  };
  const Shape states = stateShape(attributes, dims.batchSize);
  const Tensor inputWeights = ctx.input(kInputWeights).castTo(DType::Float64);
  const Tensor recurrentWeights = ctx.input(kRecurrentWeights).castTo(DType::Float64);
  const Tensor bias = doubleInput(kBias, {directions, 2 * gateRows});
  const Tensor initialHidden = doubleInput(kInitialHidden, states);
  const Tensor initialCell = traits.hasCellState ? doubleInput(kInitialCell, states) : Tensor();

  std::vector<int64_t> lengths(static_cast<size_t>(dims.batchSize), dims.seqLength);
  if (ctx.hasInput(kSequenceLengths)) lengths = ctx.input(kSequenceLengths).toInt64Vector();
  for (int64_t length : lengths)
    if (length < 0 || length > dims.seqLength)
      ctx.fail("sequence_lens value {} is outside [0, {}]", length, dims.seqLength);

  // Element offsets of one batch entry's vectors in X, Y and the state tensors, for either layout.
  auto inputOffset = [&](int64_t t, int64_t b) {
    return (batchMajor ? b * dims.seqLength + t : t * dims.batchSize + b) * dims.inputSize;
  };
  auto outputOffset = [&](int64_t t, int64_t direction, int64_t b) {
    return (batchMajor ? (b * dims.seqLength + t) * directions + direction
                       : (t * directions + direction) * dims.batchSize + b) *
           hidden;
  };
  auto stateOffset = [&](int64_t direction, int64_t b) {
    return (batchMajor ? b * directions + direction : direction * dims.batchSize + b) * hidden;
  };

  Tensor y(DType::Float64, batchMajor ? Shape{dims.batchSize, dims.seqLength, directions, hidden}
                                      : Shape{dims.seqLength, directions, dims.batchSize, hidden});
  Tensor finalHidden(DType::Float64, states), finalCell(DType::Float64, states);
  const size_t perDirection = traits.defaultActivations.size();
  for (int64_t direction = 0; direction < directions; ++direction) {
    const DirectionWeights weights{
        .inputWeights = inputWeights.data<double>() + direction * gateRows * dims.inputSize,
        .recurrentWeights = recurrentWeights.data<double>() + direction * gateRows * hidden,
        .inputBias = bias.data<double>() + direction * 2 * gateRows,
        .recurrentBias = bias.data<double>() + direction * 2 * gateRows + gateRows,
        .direction = direction,
        .activations = llvm::ArrayRef<Activation>(attributes.activations)
                           .slice(static_cast<size_t>(direction) * perDirection, perDirection)};
    for (int64_t b = 0; b < dims.batchSize; ++b) {
      const int64_t offset = stateOffset(direction, b);
      RecurrentState state;
      state.hidden.assign(initialHidden.data<double>() + offset,
                          initialHidden.data<double>() + offset + hidden);
      if (traits.hasCellState)
        state.cell.assign(initialCell.data<double>() + offset,
                          initialCell.data<double>() + offset + hidden);
      const int64_t length = lengths[static_cast<size_t>(b)];
      for (int64_t step = 0; step < length; ++step) {
        // A reversed direction walks each entry's own valid prefix backwards.
        const int64_t t = attributes.isReversed(direction) ? length - 1 - step : step;
        cell(weights,
             llvm::ArrayRef<double>(x.data<double>() + inputOffset(t, b),
                                    static_cast<size_t>(dims.inputSize)),
             state);
        std::copy(state.hidden.begin(), state.hidden.end(),
                  y.data<double>() + outputOffset(t, direction, b));
      }
      // onnxruntime reports zero final states for an empty sequence, not the initial ones.
      if (length == 0) {
        std::fill(state.hidden.begin(), state.hidden.end(), 0.0);
        std::fill(state.cell.begin(), state.cell.end(), 0.0);
      }
      std::copy(state.hidden.begin(), state.hidden.end(), finalHidden.data<double>() + offset);
      std::copy(state.cell.begin(), state.cell.end(), finalCell.data<double>() + offset);
    }
  }
  if (ctx.hasOutput(0)) ctx.output(0) = y.castTo(type);
  if (ctx.hasOutput(1)) ctx.output(1) = finalHidden.castTo(type);
  if (traits.hasCellState && ctx.hasOutput(2)) ctx.output(2) = finalCell.castTo(type);
}

void applyAffine(const double *matrix, const double *bias, llvm::ArrayRef<double> vector,
                 llvm::MutableArrayRef<double> result) {
  const size_t columns = vector.size();
  for (size_t row = 0; row < result.size(); ++row) {
    const double *weights = matrix + row * columns;
    double sum = bias[row];
    for (size_t column = 0; column < columns; ++column) sum += weights[column] * vector[column];
    result[row] = sum;
  }
}

RecurrentLowering checkRecurrentLowering(LowerContext &ctx, const RecurrentOpTraits &traits) {
  RecurrentLowering lowering;
  lowering.attributes = parseRecurrentAttributes(ctx, traits);
  if (!lowering.attributes.defaultActivations)
    ctx.fail("code generation supports only the default activations (Sigmoid for the gates, Tanh "
             "elsewhere); export the layer without the activations attribute");
  const SequenceDims dims = sequenceDims(ctx.inputShape(kSequence), lowering.attributes.batchMajor);
  lowering.seqLength = dims.seqLength;
  lowering.batchSize = dims.batchSize;
  lowering.inputSize = dims.inputSize;
  if (ctx.hasInput(kSequenceLengths)) {
    // Exporters that pass sequence_lens for fixed-length input give every entry the full length.
    if (!ctx.inputIsConstant(kSequenceLengths))
      ctx.fail("code generation needs a constant sequence_lens (the full sequence length); "
               "remove the input or make it a constant");
    for (int64_t length : ctx.constantInput(kSequenceLengths).toInt64Vector())
      if (length != dims.seqLength)
        ctx.fail("code generation supports sequence_lens only equal to the sequence length {}, "
                 "got {}; pad the sequences to full length",
                 dims.seqLength, length);
  }
  return lowering;
}

namespace {
// The dimension and direction fields that es_recurrent_f32_params_t and
// es_recurrent_s8_params_t share.
template <typename KernelParams>
void setRecurrentShape(KernelParams &p, const RecurrentLowering &lowering) {
  const RecurrentAttributes &attributes = lowering.attributes;
  p.seq_length = static_cast<int32_t>(lowering.seqLength);
  p.batch = static_cast<int32_t>(lowering.batchSize);
  p.input_size = static_cast<int32_t>(lowering.inputSize);
  p.hidden_size = static_cast<int32_t>(attributes.hiddenSize);
  p.directions = static_cast<int32_t>(attributes.numDirections);
  p.reverse = attributes.direction == RecurrentAttributes::Direction::Reverse;
  p.batch_major = attributes.batchMajor;
}
} // namespace

es_recurrent_f32_params_t recurrentF32Params(const RecurrentLowering &lowering) {
  es_recurrent_f32_params_t p{};
  setRecurrentShape(p, lowering);
  p.clip = lowering.attributes.clip ? static_cast<float>(*lowering.attributes.clip) : INFINITY;
  return p;
}

KernelArg optionalFloatArgument(LowerContext &ctx, size_t index, const std::string &suffix) {
  if (!ctx.hasInput(index)) return LowerContext::null();
  if (ctx.inputIsConstant(index)) return ctx.constantArray(suffix, ctx.floatConstant(index));
  return ctx.input(index);
}

KernelArg optionalOutput(LowerContext &ctx, size_t index) {
  return ctx.hasOutput(index) ? ctx.output(index) : LowerContext::null();
}

RowQuantizedWeights quantizeRows(const LowerContext &ctx, size_t index) {
  const Tensor &weights = ctx.constantInput(index);
  const llvm::ArrayRef<int64_t> shape = weights.shape();
  PerChannelWeights rows =
      quantizeWeightsPerChannel(weights.reshaped({shape[0] * shape[1], shape[2]}));
  return {rows.values.values<int8_t>().vec(), std::move(rows.scales)};
}

namespace {
// Gate formats of docs/int8.md: pre-activations Q3.12, gate values Q0.15, hidden state 2^-7.
constexpr double kPreActivationScale = 1.0 / 4096.0;
constexpr double kHiddenScale = 1.0 / 128.0;
constexpr int kMaxCellRangeLog2 = 4; // the cell state saturates at +-16
} // namespace

std::vector<int32_t> recurrentGateTables() {
  std::vector<int32_t> tables;
  for (const Activation &f :
       {Activation(Activation::Kind::Sigmoid, 0, 0), Activation(Activation::Kind::Tanh, 0, 0)})
    for (int i = 0; i < ES_RECURRENT_TABLE_SIZE; ++i)
      tables.push_back(
          static_cast<int32_t>(roundHalfAway(32768.0 * f(-8.0 + i / 16.0), INT16_MIN, INT16_MAX)));
  return tables;
}

int32_t quantizeBiasValue(double value, double scale) {
  return static_cast<int32_t>(roundHalfAway(value / scale, INT32_MIN, INT32_MAX));
}

QuantizedState quantizedState(LowerContext &ctx, size_t index, const std::string &suffix) {
  QuantizedState state{LowerContext::null()};
  if (!ctx.hasInput(index)) return state;
  if (ctx.inputIsConstant(index)) {
    const std::vector<float> values = ctx.floatConstant(index);
    double maxAbs = 0.0;
    for (float v : values) maxAbs = std::max(maxAbs, std::fabs(static_cast<double>(v)));
    state.scale = maxAbs > 0.0 ? maxAbs / 127.0 : 1.0;
    std::vector<int8_t> quantised;
    for (float v : values)
      quantised.push_back(static_cast<int8_t>(roundHalfAway(v / state.scale, -127, 127)));
    state.arg = ctx.constantArray(suffix, std::move(quantised));
    state.maxMagnitude = maxAbs;
    return state;
  }
  const TensorQuant quant = ctx.inputQuant(index);
  state.arg = ctx.input(index);
  state.zeroPoint = quant.zeroPoint;
  state.scale = quant.scale;
  state.maxMagnitude =
      quant.scale * std::max(std::abs(-128 - quant.zeroPoint), std::abs(127 - quant.zeroPoint));
  return state;
}

RecurrentS8Operands recurrentS8Operands(LowerContext &ctx, const RecurrentLowering &lowering,
                                        RowQuantizedWeights &inputWeights,
                                        RowQuantizedWeights &recurrentWeights) {
  const RecurrentAttributes &attributes = lowering.attributes;
  const TensorQuant input = ctx.inputQuant(kSequence);
  RecurrentS8Operands operands;
  es_recurrent_s8_params_t &p = operands.params;
  setRecurrentShape(p, lowering);
  p.input_zp = input.zeroPoint;
  p.gate_clip = attributes.clip ? static_cast<int32_t>(roundHalfAway(
                                      *attributes.clip / kPreActivationScale, 0, INT16_MAX))
                                : INT16_MAX;
  p.cell_shift = 15;
  for (double scale : inputWeights.scales)
    operands.inputRequant.push_back(ctx.requant(input.scale * scale / kPreActivationScale));
  for (double scale : recurrentWeights.scales)
    operands.recurrentRequant.push_back(ctx.requant(kHiddenScale * scale / kPreActivationScale));
  operands.w = std::move(inputWeights.values);
  operands.r = std::move(recurrentWeights.values);
  operands.tables = recurrentGateTables();
  // Y and Y_h rescale the hidden state; by exactly 1 (an identity) for their default parameters.
  const std::pair<int32_t *, es_requant_t *> hiddenOutputs[] = {{&p.y_zp, &p.y_requant},
                                                                {&p.y_h_zp, &p.y_h_requant}};
  for (size_t index : {0, 1}) {
    const TensorQuant quant =
        ctx.hasOutput(index) ? ctx.outputQuant(index) : TensorQuant{kHiddenScale, 0};
    *hiddenOutputs[index].first = quant.zeroPoint;
    *hiddenOutputs[index].second = ctx.requant(kHiddenScale / quant.scale);
  }
  return operands;
}

void quantizeRecurrent(QuantizeContext &ctx, const RecurrentOpTraits &traits) {
  for (size_t index : {0, 1})
    if (ctx.hasOutput(index)) ctx.annotateOutputFixed(index, kHiddenScale, 0);
  if (traits.hasCellState && ctx.hasOutput(2)) ctx.annotateOutputFromRange(2);
}

int32_t cellShift(int64_t seqLength, double initialCellBound) {
  const double bound = static_cast<double>(seqLength) + initialCellBound;
  const int rangeLog2 =
      std::clamp(static_cast<int>(std::ceil(std::log2(bound))), 0, kMaxCellRangeLog2);
  return 15 - rangeLog2;
}

S8ReferenceLayer::S8ReferenceLayer(const RecurrentS8Operands &operands, llvm::ArrayRef<int8_t> x,
                                   int64_t gates)
    : operands_(operands), p_(operands.params), x_(x), gates_(gates) {}

int64_t S8ReferenceLayer::outputOffset(int64_t t, int64_t direction, int64_t b) const {
  const int64_t vector = p_.batch_major ? (b * p_.seq_length + t) * p_.directions + direction
                                        : (t * p_.directions + direction) * p_.batch + b;
  return vector * p_.hidden_size;
}

int64_t S8ReferenceLayer::stateOffset(int64_t direction, int64_t b) const {
  return (p_.batch_major ? b * p_.directions + direction : direction * p_.batch + b) *
         p_.hidden_size;
}

int64_t S8ReferenceLayer::timeOf(int64_t direction, int64_t step) const {
  return p_.reverse || direction == 1 ? p_.seq_length - 1 - step : step;
}

int32_t S8ReferenceLayer::saturate(int64_t x, int64_t lo, int64_t hi) {
  return static_cast<int32_t>(std::clamp(x, lo, hi));
}

int64_t S8ReferenceLayer::roundShift(int64_t x, int n) {
  if (n == 0) return x;
  const int64_t magnitude = (std::abs(x) + (int64_t{1} << (n - 1))) >> n;
  return x < 0 ? -magnitude : magnitude;
}

int32_t S8ReferenceLayer::inputAccumulator(int64_t direction, int64_t row, int64_t t, int64_t b,
                                           int32_t bias) const {
  const int64_t in = p_.input_size;
  const int64_t vector = p_.batch_major ? b * p_.seq_length + t : t * p_.batch + b;
  const int8_t *weights = operands_.w.data() + (direction * gates_ * p_.hidden_size + row) * in;
  int64_t sum = bias;
  for (int64_t k = 0; k < in; ++k) sum += (int64_t{x_[vector * in + k]} - p_.input_zp) * weights[k];
  return saturate(sum, INT32_MIN, INT32_MAX);
}

int32_t S8ReferenceLayer::recurrentAccumulator(int64_t direction, int64_t row,
                                               llvm::ArrayRef<int32_t> state, int32_t bias) const {
  const int64_t hidden = p_.hidden_size;
  const int8_t *weights = operands_.r.data() + (direction * gates_ * hidden + row) * hidden;
  int64_t sum = bias;
  for (int64_t k = 0; k < hidden; ++k) sum += int64_t{state[k]} * weights[k];
  return saturate(sum, INT32_MIN, INT32_MAX);
}

es_requant_t S8ReferenceLayer::inputFactor(int64_t direction, int64_t row) const {
  return operands_.inputRequant[direction * gates_ * p_.hidden_size + row];
}

es_requant_t S8ReferenceLayer::recurrentFactor(int64_t direction, int64_t row) const {
  return operands_.recurrentRequant[direction * gates_ * p_.hidden_size + row];
}

int32_t S8ReferenceLayer::clipGate(int64_t z) const {
  return saturate(saturate(z, INT16_MIN, INT16_MAX), -p_.gate_clip, p_.gate_clip);
}

int32_t S8ReferenceLayer::preActivation(int64_t direction, int64_t row, int32_t inputAcc,
                                        int32_t recurrentAcc) const {
  return clipGate(int64_t{es_requantize(inputAcc, inputFactor(direction, row))} +
                  es_requantize(recurrentAcc, recurrentFactor(direction, row)));
}

int8_t S8ReferenceLayer::hiddenOutput(int32_t h, es_requant_t factor, int32_t zeroPoint) {
  return static_cast<int8_t>(saturate(int64_t{es_requantize(h, factor)} + zeroPoint, -128, 127));
}

int64_t S8ReferenceLayer::stateElements() const {
  return int64_t{p_.directions} * p_.batch * p_.hidden_size;
}

RecurrentS8Outputs S8ReferenceLayer::hiddenOutputs(bool wantY, bool wantHidden) const {
  RecurrentS8Outputs out;
  if (wantY) out.y.assign(static_cast<size_t>(p_.seq_length * stateElements()), 0);
  if (wantHidden) out.hidden.assign(static_cast<size_t>(stateElements()), 0);
  return out;
}

void S8ReferenceLayer::storeStep(RecurrentS8Outputs &out, llvm::ArrayRef<int32_t> h, int64_t t,
                                 int64_t direction, int64_t b) const {
  if (out.y.empty()) return;
  const int64_t offset = outputOffset(t, direction, b);
  for (int64_t j = 0; j < p_.hidden_size; ++j)
    out.y[offset + j] = hiddenOutput(h[j], p_.y_requant, p_.y_zp);
}

void S8ReferenceLayer::storeLast(RecurrentS8Outputs &out, llvm::ArrayRef<int32_t> h,
                                 int64_t direction, int64_t b) const {
  if (out.hidden.empty()) return;
  const int64_t offset = stateOffset(direction, b);
  for (int64_t j = 0; j < p_.hidden_size; ++j)
    out.hidden[offset + j] = hiddenOutput(h[j], p_.y_h_requant, p_.y_h_zp);
}

int32_t S8ReferenceLayer::lookup(int table, int32_t z) const {
  const int32_t *entries = operands_.tables.data() + table * ES_RECURRENT_TABLE_SIZE;
  const int32_t position = z + 32768; // 256 positions per table step
  const int32_t i = position / 256, fraction = position % 256;
  return entries[i] +
         static_cast<int32_t>(roundShift(int64_t{entries[i + 1] - entries[i]} * fraction, 8));
}

std::vector<int32_t> S8ReferenceLayer::initialState(const int8_t *state, int64_t offset,
                                                    int32_t zeroPoint, es_requant_t factor,
                                                    int32_t lo, int32_t hi) const {
  std::vector<int32_t> values(static_cast<size_t>(p_.hidden_size), 0);
  if (!state) return values;
  for (int64_t j = 0; j < p_.hidden_size; ++j)
    values[j] = saturate(es_requantize(state[offset + j] - zeroPoint, factor), lo, hi);
  return values;
}

int64_t recurrentMacs(const Node &node) {
  const Value *x = node.input(kSequence);
  const Value *w = node.input(kInputWeights);
  const Value *r = node.input(kRecurrentWeights);
  if (!x || !w || !r || !x->shape || !w->shape || !r->shape || x->shape->size() != 3) return 0;
  // seq_length * batch_size in either layout; each step multiplies its input by W and the hidden
  // state by R, in every direction.
  const int64_t steps = (*x->shape)[0] * (*x->shape)[1];
  return steps * (numElements(*w->shape) + numElements(*r->shape));
}

} // namespace edgesplit::ops
