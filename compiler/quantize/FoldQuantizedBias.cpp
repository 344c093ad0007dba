#include "quantize/FoldQuantizedBias.h"

#include "passes/ChannelAffine.h"

#include <cmath>

namespace edgesplit {

namespace {

// One scale per output channel from per-tensor or per-channel parameters.
float channelScale(const QuantParams &params, int64_t channel) {
  return params.scales[params.scales.size() == 1 ? 0 : static_cast<size_t>(channel)];
}

// The bias parameters after folding: the bias's own, else Sx * Sw[c] as annotateBias makes them.
QuantParams biasParams(const Node &layer, int64_t channels) {
  if (const Value *bias = layer.input(2)) return *bias->quant;
  const QuantParams &data = *layer.input(0)->quant, &weights = *layer.input(1)->quant;
  QuantParams params;
  params.storage = DType::Int32;
  for (int64_t c = 0; c < channels; ++c) {
    params.scales.push_back(data.scales[0] * channelScale(weights, c));
    params.zeroPoints.push_back(0);
  }
  params.axis = 0;
  return params;
}

// The per-channel shift (the constant, negated for Sub) when every channel is a whole number of
// bias steps and the folded int32 bias stays exact in float32 storage.
std::optional<ChannelAffine> exactBiasShift(const Node &layer, const Node &node, const Value *input,
                                            const OutputChannels &channels,
                                            const QuantParams &bias) {
  const bool sub = node.opType == "Sub";
  if ((node.opType != "Add" && !sub) || !node.domain.empty() || node.inputs.size() != 2 ||
      (sub && node.inputs[0] != input))
    return std::nullopt;
  const Value *other = node.inputs[0] == input ? node.inputs[1] : node.inputs[0];
  if (!other || other == input || !other->isConstant() || other->dtype != DType::Float32)
    return std::nullopt;
  const auto values =
      perChannelValues(*other->constant, input->shape->size(), channels.axis, channels.count);
  if (!values) return std::nullopt;
  const Value *oldBias = layer.input(2);
  ChannelAffine affine{std::vector<double>(static_cast<size_t>(channels.count), 1.0), {}};
  for (int64_t c = 0; c < channels.count; ++c) {
    const float constant = static_cast<float>((*values)[static_cast<size_t>(c)]);
    const float scale = channelScale(bias, c);
    const double steps = std::round(static_cast<double>(constant) / scale);
    if (static_cast<float>(steps * scale) != constant) return std::nullopt;
    const double old =
        oldBias ? std::round(oldBias->constant->elementAsDouble(
                                 oldBias->constant->numElements() == 1 ? 0 : c) /
                             scale)
                : 0.0;
    if (std::fabs(old + steps) >= (1 << 22)) return std::nullopt; // float32 keeps it exact
    affine.shift.push_back((sub ? -steps : steps) * scale);
  }
  return affine;
}

} // namespace

void foldQuantizedBias(Graph &graph) {
  llvm::SmallVector<Node *, 32> order;
  for (const auto &node : graph.nodes()) order.push_back(node.get());
  for (Node *node : order) {
    if (node->outputs.size() != 1 || !node->outputs[0] || !node->outputs[0]->quant) continue;
    for (Value *input : node->inputs) {
      Node *layer = input ? input->producer : nullptr;
      if (!layer || input->quant || graph.isGraphOutput(input) || graph.users(input).size() != 1)
        continue;
      const auto channels = foldableOutputChannels(*layer);
      const Value *data = layer->input(0), *weights = layer->input(1), *bias = layer->input(2);
      // Gemm's beta would scale the old bias off its grid.
      const bool unitBeta = layer->attributes.getFloat("beta").value_or(1.0f) == 1.0f;
      if (!channels || !unitBeta || !data->quant || !weights->quant ||
          (bias && (!bias->quant || bias->quant->storage != DType::Int32)) ||
          *input->shape != *node->outputs[0]->shape)
        continue;
      const QuantParams params = biasParams(*layer, channels->count);
      const auto shift = exactBiasShift(*layer, *node, input, *channels, params);
      if (!shift) continue;
      const QuantParams weightParams = *weights->quant;
      foldChannelAffine(graph, *layer, *shift);
      layer->inputs[1]->quant = weightParams;
      layer->inputs[2]->quant = params;
      if (params.axis == 0 && params.scales.size() == 1) layer->inputs[2]->quant->axis = -1;
      input->quant = node->outputs[0]->quant;
      graph.replaceAllUsesWith(node->outputs[0], input);
      graph.eraseNode(node);
      break;
    }
  }
  graph.removeUnusedValues();
}

} // namespace edgesplit
