#include "ops/Recurrent.h"

#include "quantize/Annotate.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
constexpr size_t kPeepholes = 7; // P: [num_directions, 3 * hidden_size], gates input, output, forget

// Gate blocks of W, R and B, in ONNX's order.
enum Gate : int64_t { kInputGate, kOutputGate, kForgetGate, kCellGate };

constexpr std::string_view kDefaultActivations[] = {"Sigmoid", "Tanh", "Tanh"}; // f, g, h
const RecurrentOpTraits kTraits{
    .gateCount = 4, .defaultActivations = kDefaultActivations, .hasCellState = true};

// input_forget couples the forget gate to the input gate (f = 1 - i).
bool parseInputForget(const NodeContext &ctx) { return parseFlagAttribute(ctx, "input_forget"); }

void infer(InferContext &ctx) {
  inferRecurrent(ctx, kTraits);
  parseInputForget(ctx);
  if (ctx.hasInput(kPeepholes)) {
    const RecurrentAttributes attributes = parseRecurrentAttributes(ctx, kTraits);
    if (ctx.inputType(kPeepholes) != ctx.inputType(kSequence))
      ctx.fail("P is {}, expected {} like X", dtypeName(ctx.inputType(kPeepholes)),
               dtypeName(ctx.inputType(kSequence)));
    const Shape expected{attributes.numDirections, 3 * attributes.hiddenSize};
    if (ctx.inputShape(kPeepholes) != llvm::ArrayRef<int64_t>(expected))
      ctx.fail("P has shape {}, expected {} (num_directions, 3 * hidden_size)",
               formatShape(ctx.inputShape(kPeepholes)), formatShape(expected));
  }
}

void run(KernelContext &ctx) {
  const RecurrentAttributes attributes = parseRecurrentAttributes(ctx, kTraits);
  const int64_t hidden = attributes.hiddenSize;
  const bool coupledForgetGate = parseInputForget(ctx);
  const Tensor peepholes = ctx.hasInput(kPeepholes)
                               ? ctx.input(kPeepholes).castTo(DType::Float64)
                               : Tensor(DType::Float64, {attributes.numDirections, 3 * hidden});
  std::vector<double> inputPart(static_cast<size_t>(4 * hidden));
  std::vector<double> recurrentPart(inputPart.size());
  runRecurrent(ctx, kTraits, attributes,
               [&](const DirectionWeights &weights, llvm::ArrayRef<double> x,
                   RecurrentState &state) {
                 applyAffine(weights.inputWeights, weights.inputBias, x, inputPart);
                 applyAffine(weights.recurrentWeights, weights.recurrentBias, state.hidden,
                             recurrentPart);
                 const double *inputPeephole =
                     peepholes.data<double>() + weights.direction * 3 * hidden;
                 const double *outputPeephole = inputPeephole + hidden;
                 const double *forgetPeephole = outputPeephole + hidden;
                 const Activation &f = weights.activations[0];
                 const Activation &g = weights.activations[1];
                 const Activation &h = weights.activations[2];
                 for (int64_t j = 0; j < hidden; ++j) {
                   auto gateSum = [&](Gate gate) {
                     const size_t row = static_cast<size_t>(gate * hidden + j);
                     return inputPart[row] + recurrentPart[row];
                   };
                   const double previousCell = state.cell[j];
                   const double inputGate = f(
                       attributes.clipped(gateSum(kInputGate) + inputPeephole[j] * previousCell));
                   const double forgetGate =
                       coupledForgetGate
                           ? 1.0 - inputGate
                           : f(attributes.clipped(gateSum(kForgetGate) +
                                                  forgetPeephole[j] * previousCell));
                   const double candidate = g(attributes.clipped(gateSum(kCellGate)));
                   const double cell = forgetGate * previousCell + inputGate * candidate;
                   // The output gate's peephole looks at the updated cell.
                   const double outputGate =
                       f(attributes.clipped(gateSum(kOutputGate) + outputPeephole[j] * cell));
                   state.cell[j] = cell;
                   state.hidden[j] = outputGate * h(cell);
                 }
               });
}

// ONNX's Wb + Rb per direction: the int8 kernel adds one bias per gate row.
std::vector<float> combinedBias(const LowerContext &ctx, const RecurrentAttributes &attributes) {
  const std::vector<float> bias = ctx.floatConstant(kBias);
  const size_t rows = static_cast<size_t>(4 * attributes.hiddenSize);
  std::vector<float> combined;
  for (int64_t direction = 0; direction < attributes.numDirections; ++direction) {
    const float *inputBias = bias.data() + direction * 2 * rows;
    for (size_t row = 0; row < rows; ++row)
      combined.push_back(inputBias[row] + inputBias[rows + row]);
  }
  return combined;
}

void lowerFloat(LowerContext &ctx, const RecurrentLowering &lowering) {
  const es_recurrent_f32_params_t p = recurrentF32Params(lowering);
  ctx.call<es_recurrent_f32_params_t>(
      "es_lstm_f32", p,
      {ctx.input(kSequence), optionalFloatArgument(ctx, kInputWeights, "w"),
       optionalFloatArgument(ctx, kRecurrentWeights, "r"),
       optionalFloatArgument(ctx, kBias, "bias"),
       optionalFloatArgument(ctx, kInitialHidden, "initial_h"),
       optionalFloatArgument(ctx, kInitialCell, "initial_c"),
       LowerContext::scratch(ES_RECURRENT_F32_SCRATCH_BYTES(&p)), optionalOutput(ctx, 0),
       optionalOutput(ctx, 1), optionalOutput(ctx, 2)},
      [](const es_recurrent_f32_params_t &p, const KernelArgs &a) {
        es_lstm_f32(&p, a.in<float>(1), a.in<float>(2), a.in<float>(3), a.in<float>(4),
                    a.in<float>(5), a.in<float>(6), a.out<float>(7), a.out<float>(8),
                    a.out<float>(9), a.out<float>(10));
      },
      kRecurrentKernelClass);
}

RecurrentS8Layer s8Layer(LowerContext &ctx, const RecurrentLowering &lowering) {
  RowQuantizedWeights w = quantizeRows(ctx, kInputWeights);
  RowQuantizedWeights r = quantizeRows(ctx, kRecurrentWeights);
  const double inputScale = ctx.inputQuant(kSequence).scale;
  const std::vector<float> bias = ctx.hasInput(kBias) ? combinedBias(ctx, lowering.attributes)
                                                      : std::vector<float>(w.scales.size(), 0.0f);
  std::vector<int32_t> quantisedBias;
  for (size_t row = 0; row < bias.size(); ++row)
    quantisedBias.push_back(quantizeBiasValue(bias[row], inputScale * w.scales[row]));

  RecurrentS8Layer layer{.operands = recurrentS8Operands(ctx, lowering, w, r),
                         .initialHidden = quantizedState(ctx, kInitialHidden, "initial_h"),
                         .initialCell = quantizedState(ctx, kInitialCell, "initial_c")};
  RecurrentS8Operands &operands = layer.operands;
  operands.bias = std::move(quantisedBias);
  es_recurrent_s8_params_t &p = operands.params;
  const QuantizedState &initialHidden = layer.initialHidden, &initialCell = layer.initialCell;
  p.cell_shift = cellShift(lowering.seqLength, initialCell.maxMagnitude);
  p.initial_h_zp = initialHidden.zeroPoint;
  p.initial_h_requant = ctx.requant(initialHidden.scale * 128.0);
  p.initial_c_zp = initialCell.zeroPoint;
  p.initial_c_requant = ctx.requant(std::ldexp(initialCell.scale, p.cell_shift));
  if (ctx.hasOutput(2)) {
    const TensorQuant cell = ctx.outputQuant(2);
    p.y_c_zp = cell.zeroPoint;
    p.y_c_requant = ctx.requant(std::ldexp(1.0, -p.cell_shift) / cell.scale);
  }
  return layer;
}

void lowerInt8(LowerContext &ctx, const RecurrentLowering &lowering) {
  RecurrentS8Layer layer = s8Layer(ctx, lowering);
  RecurrentS8Operands &operands = layer.operands;
  const es_recurrent_s8_params_t &p = operands.params;
  ctx.call<es_recurrent_s8_params_t>(
      "es_lstm_s8", p,
      {ctx.input(kSequence), ctx.constantArray("w", std::move(operands.w)),
       ctx.constantArray("r", std::move(operands.r)),
       ctx.constantArray("bias", std::move(operands.bias)),
       ctx.constantArray("input_requant", std::move(operands.inputRequant)),
       ctx.constantArray("recurrent_requant", std::move(operands.recurrentRequant)),
       ctx.constantArray("tables", std::move(operands.tables)), layer.initialHidden.arg,
       layer.initialCell.arg, LowerContext::scratch(ES_RECURRENT_S8_SCRATCH_BYTES(&p)),
       optionalOutput(ctx, 0), optionalOutput(ctx, 1), optionalOutput(ctx, 2)},
      [](const es_recurrent_s8_params_t &p, const KernelArgs &a) {
        es_lstm_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int8_t>(3), a.in<int32_t>(4),
                   a.in<es_requant_t>(5), a.in<es_requant_t>(6), a.in<int32_t>(7), a.in<int8_t>(8),
                   a.in<int8_t>(9), a.out<int8_t>(10), a.out<int8_t>(11), a.out<int8_t>(12),
                   a.out<int8_t>(13));
      },
      kRecurrentKernelClass);
}

void lower(LowerContext &ctx) {
  const RecurrentLowering lowering = checkRecurrentLowering(ctx, kTraits);
  if (ctx.hasInput(kPeepholes))
    ctx.fail("code generation does not support peepholes (input P); export the LSTM without them");
  if (parseInputForget(ctx))
    ctx.fail("code generation does not support input_forget=1; export the LSTM without it");
  if (ctx.isInt8()) lowerInt8(ctx, lowering);
  else lowerFloat(ctx, lowering);
}

void quantize(QuantizeContext &ctx) { quantizeRecurrent(ctx, kTraits); }
} // namespace

RecurrentS8Layer lstmS8Layer(LowerContext &ctx) {
  return s8Layer(ctx, checkRecurrentLowering(ctx, kTraits));
}

RecurrentS8Outputs referenceLstmS8(const RecurrentS8Operands &operands, llvm::ArrayRef<int8_t> x,
                                   const int8_t *initialHidden, const int8_t *initialCell,
                                   bool wantY, bool wantHidden, bool wantCell) {
  const S8ReferenceLayer layer(operands, x, 4);
  const es_recurrent_s8_params_t &p = layer.params();
  const int64_t hidden = layer.hidden();
  RecurrentS8Outputs out = layer.hiddenOutputs(wantY, wantHidden);
  if (wantCell) out.cell.assign(static_cast<size_t>(layer.stateElements()), 0);
  for (int64_t d = 0; d < p.directions; ++d)
    for (int64_t b = 0; b < p.batch; ++b) {
      const int64_t offset = layer.stateOffset(d, b);
      std::vector<int32_t> h =
          layer.initialState(initialHidden, offset, p.initial_h_zp, p.initial_h_requant, -128, 127);
      std::vector<int32_t> c = layer.initialState(initialCell, offset, p.initial_c_zp,
                                                  p.initial_c_requant, INT16_MIN, INT16_MAX);
      for (int64_t step = 0; step < p.seq_length; ++step) {
        const int64_t t = layer.timeOf(d, step);
        std::vector<int32_t> pre(static_cast<size_t>(4 * hidden));
        for (int64_t row = 0; row < 4 * hidden; ++row)
          pre[row] = layer.preActivation(
              d, row, layer.inputAccumulator(d, row, t, b, operands.bias[d * 4 * hidden + row]),
              layer.recurrentAccumulator(d, row, h, 0));
        for (int64_t j = 0; j < hidden; ++j) {
          const int64_t i = layer.sigmoid(pre[kInputGate * hidden + j]);
          const int64_t o = layer.sigmoid(pre[kOutputGate * hidden + j]);
          const int64_t f = layer.sigmoid(pre[kForgetGate * hidden + j]);
          const int64_t g = layer.tanh(pre[kCellGate * hidden + j]);
          c[j] =
              S8ReferenceLayer::saturate(S8ReferenceLayer::roundShift(f * c[j], 15) +
                                             S8ReferenceLayer::roundShift(i * g, 30 - p.cell_shift),
                                         INT16_MIN, INT16_MAX);
          const int32_t tanhInput =
              p.cell_shift >= 12
                  ? static_cast<int32_t>(S8ReferenceLayer::roundShift(c[j], p.cell_shift - 12))
                  : S8ReferenceLayer::saturate(int64_t{c[j]} << (12 - p.cell_shift), INT16_MIN,
                                               INT16_MAX);
          h[j] = S8ReferenceLayer::saturate(
              S8ReferenceLayer::roundShift(o * layer.tanh(tanhInput), 23), -128, 127);
        }
        layer.storeStep(out, h, t, d, b);
      }
      layer.storeLast(out, h, d, b);
      if (wantCell)
        for (int64_t j = 0; j < hidden; ++j)
          out.cell[offset + j] = static_cast<int8_t>(S8ReferenceLayer::saturate(
              int64_t{es_requantize(c[j], p.y_c_requant)} + p.y_c_zp, -128, 127));
    }
  return out;
}

extern const OpDef kLSTM{.name = "LSTM",
                         .minInputs = 3,
                         .maxInputs = 8,
                         .minOutputs = 0,
                         .maxOutputs = 3,
                         .infer = infer,
                         .run = run,
                         .macs = recurrentMacs,
                         .quantize = quantize,
                         .lower = lower};

} // namespace edgesplit::ops
