#include "quantize/Annotate.h"

#include "codegen/FuseActivations.h"
#include "interp/Interpreter.h"
#include "quantize/AbsorbQOperator.h"
#include "quantize/AbsorbQdq.h"
#include "quantize/QuantMath.h"

#include <cmath>

namespace edgesplit {

// The activations code generation computes as a 256-entry table (docs/int8.md).
constexpr std::string_view kLookupTableActivations[] = {"Sigmoid",   "Tanh",      "HardSigmoid",
                                                        "HardSwish", "LeakyRelu", "Elu", "Selu"};

// The inputs of `activation` whose int8 output under `output` is not one of the two constant
// levels it takes far out on either side: [lo, hi] such that the quantised output is the same
// for every x <= lo, and for every x >= hi. An input quantised over exactly that range loses
// nothing to clamping. nullopt when the output is one level everywhere.
static std::optional<std::pair<double, double>>
unsaturatedInputRange(const Node &activation, const QuantParams &output) {
  const double scale = output.scales[0];
  const int32_t zero = output.zeroPoints[0];
  auto levels = [&](llvm::ArrayRef<float> xs) {
    const Tensor input = Tensor::fromVector<float>({static_cast<int64_t>(xs.size())}, xs);
    llvm::SmallVector<const Tensor *, 3> inputs{&input};
    for (size_t i = 1; i < activation.inputs.size(); ++i)
      inputs.push_back(activation.inputs[i] ? activation.inputs[i]->constant.get() : nullptr);
    llvm::SmallVector<int32_t, 0> result;
    for (double y : evaluateNode(activation, inputs)[0].toDoubleVector())
      result.push_back(static_cast<int32_t>(
          std::clamp<double>(std::round(y / scale) + zero, -128.0, 127.0)));
    return result;
  };
  // A grid from -2^20 to 2^20, geometric away from 0, then bisection at each end.
  llvm::SmallVector<float, 0> grid;
  for (int k = 320; k >= -64; --k) grid.push_back(-std::exp2f(static_cast<float>(k) / 16));
  grid.push_back(0.0f);
  for (int k = -64; k <= 320; ++k) grid.push_back(std::exp2f(static_cast<float>(k) / 16));
  const auto q = levels(grid);
  size_t first = 0, last = q.size() - 1;
  while (first + 1 < q.size() && q[first + 1] == q.front()) ++first;
  while (last > 0 && q[last - 1] == q.back()) --last;
  if (first >= last) return std::nullopt;
  // The last x of `level` between `same` (at that level) and `differs` (not).
  auto edge = [&](float same, float differs, int32_t level) {
    for (int step = 0; step < 64; ++step) {
      const float middle = same + (differs - same) / 2;
      if (middle == same || middle == differs) break;
      (levels({middle})[0] == level ? same : differs) = middle;
    }
    return static_cast<double>(same);
  };
  return std::pair{edge(grid[first], grid[first + 1], q.front()),
                   edge(grid[last], grid[last - 1], q.back())};
}

Value &QuantizeContext::outputValue(size_t index) const {
  if (!hasOutput(index)) fail("output {} is missing", index);
  return *mutableNode_.outputs[index];
}

void QuantizeContext::annotateOutputFromRange(size_t index) {
  Value &output = outputValue(index);
  if (output.quant || output.dtype != DType::Float32) return;
  if (auto given = givenParamsDownstream(graph_, output)) {
    output.quant = std::move(given);
    return;
  }
  const Value *ranged = &output;
  if (const Node *activation = fusableActivation(graph_, mutableNode_))
    ranged = activation->outputs[0];
  // Before a table activation whose output alone the model quantises (DQ -> Conv -> Sigmoid -> Q)
  // and without a calibrated range: the inputs that reach the output's unsaturated levels.
  const Node *reader = soleReader(graph_, output);
  if (reader && reader->domain.empty() &&
      llvm::is_contained(kLookupTableActivations, reader->opType) && !ranges_.count(&output))
    if (auto given = givenParamsDownstream(graph_, *reader->outputs[0]);
        given && given->scales.size() == 1)
      if (auto range = unsaturatedInputRange(*reader, *given)) {
        const ActivationParams params = chooseActivationParams(range->first, range->second);
        annotateOutputFixed(index, params.scale, params.zeroPoint);
        return;
      }
  auto range = ranges_.find(ranged);
  if (range == ranges_.end())
    fail("'{}' has no int8 parameters: the model does not quantise it (no QuantizeLinear "
         "follows it) and calibration gave it no range; compile with --calibration CALIB.npz "
         "(one array per model input)",
         output.name);
  const ActivationParams params = chooseActivationParams(range->second.lo, range->second.hi);
  annotateOutputFixed(index, params.scale, params.zeroPoint);
}

void QuantizeContext::annotateOutputSameAsInput(size_t index, size_t input) {
  Value &output = outputValue(index);
  if (output.quant || output.dtype != DType::Float32) return;
  const Value *source = mutableNode_.input(input);
  if (!source || !source->quant) {
    annotateOutputFromRange(index);
    return;
  }
  output.quant = source->quant;
}

void QuantizeContext::annotateOutputFixed(size_t index, double scale, int32_t zeroPoint) {
  Value &output = outputValue(index);
  if (output.quant || output.dtype != DType::Float32) return;
  QuantParams params;
  params.scales = {static_cast<float>(scale)};
  params.zeroPoints = {zeroPoint};
  output.quant = params;
}

static bool sameQuantParams(const QuantParams &a, const QuantParams &b) {
  return a.scales == b.scales && a.zeroPoints == b.zeroPoints;
}

// A constant several nodes read may need other parameters in each: a bias shared by a Gemm (int32,
// at its input's scale times the weights') and a MatMul's Add (an int8 operand), or by two layers
// whose inputs have different scales. The first node's rule annotates the value; a later one whose
// rule wants another role (storage, channel axis) or, for an int32 bias, other scales reads its own
// copy of the constant (same data), annotated for it. Otherwise the parameters the value has are
// kept: int8 weights and operands take theirs from the constant alone, and a pre-quantised model's
// are given.
void QuantizeContext::setConstantParams(size_t input, QuantParams params) {
  Value *value = mutableNode_.input(input);
  if (!value->quant) {
    value->quant = std::move(params);
    return;
  }
  const bool sameRole = value->quant->storage == params.storage && value->quant->axis == params.axis;
  const bool fits = sameRole && (params.storage != DType::Int32 ||
                                 sameQuantParams(*value->quant, params));
  if (fits || graph_.users(value).size() < 2) return;
  Value *own = graph_.createValue(graph_.uniqueName(value->name + "_" + mutableNode_.name),
                                  value->dtype);
  own->shape = value->shape;
  own->constant = value->constant;
  own->quant = std::move(params);
  mutableNode_.inputs[input] = own;
}

// Whether the real values of `weights` are whole multiples of their scales within [-127, 127].
static bool symmetricFits(const Tensor &weights, const QuantParams &params) {
  const std::vector<double> values = weights.toDoubleVector();
  const auto shape = weights.shape();
  const int64_t axis = params.scales.size() > 1 ? params.axis : -1;
  int64_t inner = 1;
  for (size_t i = axis + 1; axis >= 0 && i < shape.size(); ++i) inner *= shape[i];
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t channel = axis < 0 ? 0 : (i / inner) % shape[axis];
    const double steps = values[i] / params.scales[channel];
    if (std::abs(steps) > 127.0 + 1e-3 || std::abs(steps - std::round(steps)) > 1e-3) return false;
  }
  return true;
}

void QuantizeContext::annotateWeights(size_t input, int64_t channelAxis) {
  Value *weights = mutableNode_.input(input);
  if (!weights || !weights->isConstant()) return;
  // Asymmetric weights a model gives (onnxruntime's uint8 weights) keep their scales with zero
  // point 0 when every q - zero fits [-127, 127] (reduce_range's 7-bit weights always do), which
  // is exact; others are quantised again, symmetric per channel, from their real values
  // (docs/int8.md).
  if (weights->quant && llvm::any_of(weights->quant->zeroPoints, [](int32_t z) { return z != 0; })) {
    if (symmetricFits(*weights->constant, *weights->quant))
      std::fill(weights->quant->zeroPoints.begin(), weights->quant->zeroPoints.end(), 0);
    else
      weights->quant.reset();
  }
  if (weights->quant && graph_.users(weights).size() < 2) return;
  QuantParams params;
  for (double scale : symmetricChannelScales(*weights->constant, channelAxis)) {
    params.scales.push_back(static_cast<float>(scale));
    params.zeroPoints.push_back(0);
  }
  params.axis = channelAxis;
  setConstantParams(input, std::move(params));
}

void QuantizeContext::annotateBias(size_t input, size_t dataInput, size_t weightInput) {
  Value *bias = mutableNode_.input(input);
  const Value *data = mutableNode_.input(dataInput);
  const Value *weights = mutableNode_.input(weightInput);
  if (!bias || !bias->isConstant() || !data || !data->quant || !weights || !weights->quant) return;
  // A given int32 bias follows its weights when they were quantised again (above).
  if (bias->quant && bias->quant->storage == DType::Int32 && !weights->quant->scales.empty()) {
    const float expected = data->quant->scales[0] * weights->quant->scales[0];
    if (std::abs(bias->quant->scales[0] - expected) > 1e-6f * expected) bias->quant.reset();
  }
  if (bias->quant && graph_.users(bias).size() < 2) return;
  QuantParams params;
  params.storage = DType::Int32;
  const int64_t channels = bias->constant->numElements();
  for (int64_t c = 0; c < channels; ++c) {
    const float weightScale =
        weights->quant->scales[weights->quant->scales.size() == 1 ? 0 : static_cast<size_t>(c)];
    params.scales.push_back(data->quant->scales[0] * weightScale);
    params.zeroPoints.push_back(0);
  }
  params.axis = channels > 1 ? 0 : -1;
  if (params.axis == -1) params.scales.resize(1), params.zeroPoints.resize(1);
  setConstantParams(input, std::move(params));
}

void QuantizeContext::annotateConstantOperand(size_t input) {
  Value *operand = mutableNode_.input(input);
  if (!operand || !operand->isConstant() || operand->dtype != DType::Float32 ||
      (operand->quant && graph_.users(operand).size() < 2))
    return;
  const ActivationParams params = chooseConstantOperandParams(*operand->constant);
  QuantParams quant;
  quant.scales = {static_cast<float>(params.scale)};
  quant.zeroPoints = {params.zeroPoint};
  setConstantParams(input, std::move(quant));
}

void QuantizeContext::annotateConstantAsOutput(size_t input, size_t output) {
  Value *operand = mutableNode_.input(input);
  const Value &result = outputValue(output);
  if (!operand || !operand->isConstant() || operand->dtype != DType::Float32 || !result.quant)
    return;
  setConstantParams(input, *result.quant);
}

// A pre-quantised model may quantise an input only after a reshape-like op (tf2onnx puts a
// Reshape first); such ops keep parameters unchanged, so the input takes its user's.
static const QuantParams *paramsThroughView(const Graph &graph, const Value &value) {
  const auto users = graph.users(&value);
  if (users.size() != 1) return nullptr;
  const Node &user = *users[0];
  static constexpr std::string_view kViews[] = {"Reshape", "Flatten", "Squeeze", "Unsqueeze",
                                                "Transpose"};
  const bool isView = user.domain.empty() && user.input(0) == &value &&
                      llvm::is_contained(kViews, user.opType);
  if (!isView || !user.outputs[0] || !user.outputs[0]->quant) return nullptr;
  return &*user.outputs[0]->quant;
}

// A pre-quantised model may give an op that only moves values (MaxPool, Reshape, ...) other
// output parameters than its input's, or calibration may have chosen the input's: the op then
// writes its input's parameters and a requantising copy, a one-input Concat (the copy that
// rescales in code generation, docs/int8.md), writes the given ones.
void insertRequantisations(Graph &graph) {
  llvm::SmallVector<Node *, 8> conflicting;
  for (const auto &node : graph.nodes()) {
    const Value *input = node->input(0);
    if (!movesValuesOnly(*node) || !input || !input->quant) continue;
    for (const Value *output : node->outputs)
      if (output && output->quant && output->dtype == DType::Float32 &&
          !sameQuantParams(*output->quant, *input->quant)) {
        conflicting.push_back(node.get());
        break;
      }
  }
  for (Node *node : conflicting) {
    for (Value *&output : node->outputs) {
      const QuantParams inputParams = *node->input(0)->quant;
      if (!output || !output->quant || sameQuantParams(*output->quant, inputParams)) continue;
      if (!output->shape || output->shape->empty())
        fail("{}: output '{}' needs a requantisation to its given int8 parameters, which "
             "edgesplit cannot insert for a tensor of unknown or scalar shape; pass "
             "--input-shape, or give the output its input's parameters",
             node->describe(), output->name);
      Value *moved = graph.createValue(graph.uniqueName(output->name + "_before_requantise"),
                                       output->dtype);
      moved->shape = output->shape;
      moved->quant = inputParams;
      auto copy = std::make_unique<Node>();
      copy->opType = "Concat";
      copy->name = graph.uniqueName(node->name + "_requantise");
      copy->opset = node->opset;
      copy->inputs = {moved};
      copy->outputs = {output};
      copy->attributes.set("axis", int64_t{0});
      copy->op = findOp("", "Concat");
      output = moved;
      moved->producer = node;
      // After `node`: before the node following it in graph order.
      const auto &nodes = graph.nodes();
      auto it = std::find_if(nodes.begin(), nodes.end(),
                             [&](const auto &candidate) { return candidate.get() == node; });
      if (++it == nodes.end()) graph.appendNode(std::move(copy));
      else graph.insertNodeBefore(it->get(), std::move(copy));
    }
  }
}

void annotateGraphInputs(Graph &graph, const ValueRanges &ranges) {
  for (const Value *input : graph.inputs) {
    Value *value = const_cast<Value *>(input);
    if (value->quant || value->dtype != DType::Float32) continue;
    if (const QuantParams *params = paramsThroughView(graph, *value)) {
      value->quant = *params;
      continue;
    }
    auto range = ranges.find(value);
    if (range == ranges.end())
      fail("{}: input '{}' has no int8 parameters and no calibrated range: compile with "
           "--calibration CALIB.npz, or give a quantised model",
           graph.sourcePath, value->name);
    const ActivationParams params = chooseActivationParams(range->second.lo, range->second.hi);
    QuantParams quant;
    quant.scales = {static_cast<float>(params.scale)};
    quant.zeroPoints = {params.zeroPoint};
    value->quant = quant;
  }
}

void annotateNode(Graph &graph, Node &node, const ValueRanges &ranges) {
  QuantizeContext context(node, graph, ranges);
  if (node.op && node.op->quantize) {
    node.op->quantize(context);
    return;
  }
  for (size_t i = 0; i < node.outputs.size(); ++i)
    if (node.outputs[i]) context.annotateOutputFromRange(i);
}

void annotateQuantization(Graph &graph, const ValueRanges &ranges) {
  annotateGraphInputs(graph, ranges);
  for (const auto &node : graph.nodes()) annotateNode(graph, *node, ranges);
  insertRequantisations(graph);
}

} // namespace edgesplit
