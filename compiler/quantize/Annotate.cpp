#include "quantize/Annotate.h"

#include "codegen/FuseActivations.h"
#include "quantize/QuantMath.h"

namespace edgesplit {

Value &QuantizeContext::outputValue(size_t index) const {
  if (!hasOutput(index)) fail("output {} is missing", index);
  return *mutableNode_.outputs[index];
}

void QuantizeContext::annotateOutputFromRange(size_t index) {
  Value &output = outputValue(index);
  if (output.quant || output.dtype != DType::Float32) return;
  const Value *ranged = &output;
  if (const Node *activation = fusableActivation(graph_, mutableNode_))
    ranged = activation->outputs[0];
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

void QuantizeContext::annotateWeights(size_t input, int64_t channelAxis) {
  Value *weights = mutableNode_.input(input);
  if (!weights || weights->quant || !weights->isConstant()) return;
  QuantParams params;
  for (double scale : symmetricChannelScales(*weights->constant, channelAxis)) {
    params.scales.push_back(static_cast<float>(scale));
    params.zeroPoints.push_back(0);
  }
  params.axis = channelAxis;
  weights->quant = params;
}

void QuantizeContext::annotateBias(size_t input, size_t dataInput, size_t weightInput) {
  Value *bias = mutableNode_.input(input);
  const Value *data = mutableNode_.input(dataInput);
  const Value *weights = mutableNode_.input(weightInput);
  if (!bias || bias->quant || !bias->isConstant() || !data || !data->quant || !weights ||
      !weights->quant)
    return;
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
  bias->quant = params;
}

void QuantizeContext::annotateConstantOperand(size_t input) {
  Value *operand = mutableNode_.input(input);
  if (!operand || operand->quant || !operand->isConstant() || operand->dtype != DType::Float32)
    return;
  const ActivationParams params = chooseConstantOperandParams(*operand->constant);
  QuantParams quant;
  quant.scales = {static_cast<float>(params.scale)};
  quant.zeroPoints = {params.zeroPoint};
  operand->quant = quant;
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
}

} // namespace edgesplit
