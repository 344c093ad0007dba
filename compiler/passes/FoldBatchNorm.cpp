#include "passes/ChannelAffine.h"
#include "passes/InsertNode.h"
#include "passes/Passes.h"

#include <cmath>

namespace edgesplit {

namespace {

// scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
std::optional<ChannelAffine> constantBatchNorm(const Node &bn) {
  if (bn.inputs.size() != 5 || bn.outputs.size() != 1) return std::nullopt; // training outputs
  if (bn.attributes.getInt("training_mode").value_or(0) != 0) return std::nullopt;
  for (size_t i = 1; i < 5; ++i)
    if (!bn.inputs[i] || !bn.inputs[i]->isConstant()) return std::nullopt;
  const double epsilon = bn.attributes.getFloat("epsilon").value_or(1e-5f);
  auto gamma = bn.inputs[1]->constant->toDoubleVector();
  auto beta = bn.inputs[2]->constant->toDoubleVector();
  auto mean = bn.inputs[3]->constant->toDoubleVector();
  auto var = bn.inputs[4]->constant->toDoubleVector();
  ChannelAffine result;
  for (size_t c = 0; c < gamma.size(); ++c) {
    result.scale.push_back(gamma[c] / std::sqrt(var[c] + epsilon));
    result.shift.push_back(beta[c] - mean[c] * result.scale.back());
  }
  return result;
}

// x * scale[c] + shift[c] along axis 1 of a 2-D to 4-D x, as a depthwise 1x1 convolution: int8
// then holds each channel's scale exactly (one symmetric weight per channel) and rescales once.
// A 2-D x is seen as [N, C, 1].
bool lowerToDepthwiseConv(Graph &graph, Node &bn, const ChannelAffine &affine) {
  Value *input = bn.input(0);
  if (!input || !input->shape || input->dtype != DType::Float32) return false;
  const Shape inputShape = *input->shape;
  const size_t rank = inputShape.size();
  const int64_t channels = static_cast<int64_t>(affine.scale.size());
  if (rank < 2 || rank > 4 || inputShape[1] != channels) return false;

  int added = 0; // numbers the nodes' names
  auto add = [&](std::string opType, llvm::ArrayRef<Value *> inputs, Value *output,
                 AttributeMap attributes, int minOpset) {
    std::string name = fmt::format("{}_{}{}", bn.name, llvm::StringRef(opType).lower(), added++);
    insertNodeBefore(graph, bn, std::move(name), std::move(opType), minOpset, inputs, output,
                     std::move(attributes));
  };
  auto value = [&](const std::string &what, const Shape &shape) {
    Value *result = graph.createValue(graph.uniqueName(bn.name + "_" + what), DType::Float32);
    result->shape = shape;
    return result;
  };
  auto constant = [&](const std::string &what, Tensor tensor) {
    return graph.createConstant(graph.uniqueName(bn.name + "_" + what), std::move(tensor));
  };

  Value *output = bn.outputs[0];
  bn.outputs[0] = nullptr;
  Shape convShape = inputShape;
  if (rank == 2) convShape.push_back(1);
  Value *convInput = input, *convOutput = output;
  if (rank == 2) {
    // Reshape reads its target from an input from opset 5 on.
    convInput = value("as_3d", convShape);
    add("Reshape", {input, shapeConstant(graph, bn.name + "_shape_3d", convShape)}, convInput, {},
        5);
    convOutput = value("conv", convShape);
  }
  Shape weightShape(convShape.size(), 1);
  weightShape[0] = channels;
  Tensor weights(DType::Float32, weightShape), bias(DType::Float32, {channels});
  for (int64_t c = 0; c < channels; ++c) {
    weights.data<float>()[c] = static_cast<float>(affine.scale[static_cast<size_t>(c)]);
    bias.data<float>()[c] = static_cast<float>(affine.shift[static_cast<size_t>(c)]);
  }
  AttributeMap attributes;
  attributes.set("group", channels);
  attributes.set("kernel_shape", std::vector<int64_t>(convShape.size() - 2, 1));
  add("Conv", {convInput, constant("scale", std::move(weights)), constant("shift", std::move(bias))},
      convOutput, std::move(attributes), 1);
  if (rank == 2)
    add("Reshape", {convOutput, shapeConstant(graph, bn.name + "_shape_2d", inputShape)}, output,
        {}, 5);
  return true;
}

} // namespace

void foldBatchNorm(Graph &graph) {
  // Collected first: lowering inserts nodes.
  llvm::SmallVector<Node *, 8> batchNorms, folded;
  for (const auto &node : graph.nodes())
    if (node->opType == "BatchNormalization" && node->domain.empty())
      batchNorms.push_back(node.get());
  for (Node *node : batchNorms) {
    auto bn = constantBatchNorm(*node);
    if (!bn) continue;
    Value *input = node->input(0);
    Node *producer = input ? input->producer : nullptr;
    if (producer && !graph.isGraphOutput(input) && graph.users(input).size() == 1) {
      // BatchNormalization normalises axis 1: the layer's channels must be there.
      const auto channels = foldableOutputChannels(*producer);
      if (channels && channels->axis == 1 &&
          static_cast<int64_t>(bn->scale.size()) == channels->count) {
        foldChannelAffine(graph, *producer, *bn);
        graph.replaceAllUsesWith(node->outputs[0], input);
        folded.push_back(node);
        continue;
      }
    }
    if (lowerToDepthwiseConv(graph, *node, *bn)) folded.push_back(node);
  }
  for (Node *node : folded) graph.eraseNode(node);
  graph.removeUnusedValues();
}

} // namespace edgesplit
