#include "passes/InsertNode.h"
#include "passes/Passes.h"

#include <cmath>

namespace edgesplit {

namespace {

struct BatchNormScale {
  std::vector<double> scale; // gamma / sqrt(var + eps)
  std::vector<double> shift; // beta - mean * scale
  // One entry stands for every channel.
  double scaleAt(int64_t c) const { return scale[scale.size() == 1 ? 0 : static_cast<size_t>(c)]; }
  double shiftAt(int64_t c) const { return shift[shift.size() == 1 ? 0 : static_cast<size_t>(c)]; }
  bool fits(int64_t channels) const {
    return (scale.size() == 1 || static_cast<int64_t>(scale.size()) == channels) &&
           (shift.size() == 1 || static_cast<int64_t>(shift.size()) == channels);
  }
};

std::optional<BatchNormScale> constantBatchNorm(const Node &bn) {
  if (bn.inputs.size() != 5 || bn.outputs.size() != 1) return std::nullopt; // training outputs
  if (bn.attributes.getInt("training_mode").value_or(0) != 0) return std::nullopt;
  for (size_t i = 1; i < 5; ++i)
    if (!bn.inputs[i] || !bn.inputs[i]->isConstant()) return std::nullopt;
  const double epsilon = bn.attributes.getFloat("epsilon").value_or(1e-5f);
  auto gamma = bn.inputs[1]->constant->toDoubleVector();
  auto beta = bn.inputs[2]->constant->toDoubleVector();
  auto mean = bn.inputs[3]->constant->toDoubleVector();
  auto var = bn.inputs[4]->constant->toDoubleVector();
  BatchNormScale result;
  for (size_t c = 0; c < gamma.size(); ++c) {
    result.scale.push_back(gamma[c] / std::sqrt(var[c] + epsilon));
    result.shift.push_back(beta[c] - mean[c] * result.scale.back());
  }
  return result;
}

// W[m, ...] *= scale[m]; bias[m] = bias[m] * scale[m] + shift[m].
bool foldIntoConv(Graph &graph, Node &conv, const BatchNormScale &bn) {
  const Value *weights = conv.input(1);
  if (!weights || !weights->isConstant() || weights->dtype != DType::Float32 || weights->quant)
    return false;
  const Value *bias = conv.input(2);
  if (bias && (!bias->isConstant() || bias->dtype != DType::Float32 || bias->quant)) return false;
  const int64_t outChannels = weights->constant->dim(0);
  if (!bn.fits(outChannels)) return false;

  Tensor newWeights = *weights->constant;
  const int64_t perChannel = newWeights.numElements() / outChannels;
  float *w = newWeights.data<float>();
  for (int64_t m = 0; m < outChannels; ++m)
    for (int64_t k = 0; k < perChannel; ++k)
      w[m * perChannel + k] = static_cast<float>(w[m * perChannel + k] * bn.scaleAt(m));
  Tensor newBias(DType::Float32, {outChannels});
  for (int64_t m = 0; m < outChannels; ++m) {
    const double old = bias ? bias->constant->data<float>()[m] : 0.0;
    newBias.data<float>()[m] = static_cast<float>(old * bn.scaleAt(m) + bn.shiftAt(m));
  }
  conv.inputs[1] = graph.createConstant(graph.uniqueName(weights->name + "_bnfolded"),
                                        std::move(newWeights));
  Value *biasValue = graph.createConstant(graph.uniqueName(conv.name + "_bias_bnfolded"),
                                          std::move(newBias));
  if (conv.inputs.size() < 3) conv.inputs.resize(3, nullptr);
  conv.inputs[2] = biasValue;
  return true;
}

// Y = alpha * A * op(B) + beta * C: scale the output columns of op(B), rebuild C as a vector.
bool foldIntoGemm(Graph &graph, Node &gemm, const BatchNormScale &bn) {
  const Value *b = gemm.input(1);
  if (!b || !b->isConstant() || b->dtype != DType::Float32 || b->constant->rank() != 2 || b->quant)
    return false;
  const bool transB = gemm.attributes.getInt("transB").value_or(0) != 0;
  const int64_t n = transB ? b->constant->dim(0) : b->constant->dim(1);
  const int64_t k = transB ? b->constant->dim(1) : b->constant->dim(0);
  if (!bn.fits(n)) return false;
  const Value *c = gemm.input(2);
  if (c && (!c->isConstant() || c->dtype != DType::Float32 || c->quant ||
            (c->constant->numElements() != 1 && c->constant->numElements() != n) ||
            (c->constant->rank() == 2 && c->constant->dim(0) != 1)))
    return false;
  const double alpha = gemm.attributes.getFloat("alpha").value_or(1.0f);
  const double beta = gemm.attributes.getFloat("beta").value_or(1.0f);

  Tensor newB = *b->constant;
  float *w = newB.data<float>();
  for (int64_t row = 0; row < k; ++row)
    for (int64_t col = 0; col < n; ++col) {
      float &element = transB ? w[col * k + row] : w[row * n + col];
      element = static_cast<float>(alpha * element * bn.scaleAt(col));
    }
  Tensor newC(DType::Float32, {n});
  for (int64_t col = 0; col < n; ++col) {
    double old = 0.0;
    if (c) old = beta * c->constant->data<float>()[c->constant->numElements() == 1 ? 0 : col];
    newC.data<float>()[col] = static_cast<float>(old * bn.scaleAt(col) + bn.shiftAt(col));
  }
  gemm.inputs[1] = graph.createConstant(graph.uniqueName(b->name + "_bnfolded"), std::move(newB));
  if (gemm.inputs.size() < 3) gemm.inputs.resize(3, nullptr);
  gemm.inputs[2] = graph.createConstant(graph.uniqueName(gemm.name + "_bias_bnfolded"),
                                        std::move(newC));
  gemm.attributes.set("alpha", 1.0f);
  gemm.attributes.set("beta", 1.0f);
  return true;
}

bool foldIntoProducer(Graph &graph, Node &producer, const BatchNormScale &affine);

// A MatMul of a 2-D activation and constant [K, N] weights is a Gemm without bias: it becomes
// one, so that the batch norm folds like after a Gemm.
bool foldIntoMatMul(Graph &graph, Node &matmul, const BatchNormScale &bn) {
  const Value *a = matmul.input(0);
  if (!a || !a->shape || a->shape->size() != 2) return false;
  matmul.opType = "Gemm";
  matmul.op = findOp("", "Gemm");
  if (foldIntoGemm(graph, matmul, bn)) return true;
  matmul.opType = "MatMul";
  matmul.op = findOp("", "MatMul");
  return false;
}

// x * scale[c] + shift[c] along axis 1 of a 2-D to 4-D x, as a depthwise 1x1 convolution: int8
// then holds each channel's scale exactly (one symmetric weight per channel) and rescales once.
// A 2-D x is seen as [N, C, 1].
bool lowerToDepthwiseConv(Graph &graph, Node &bn, const BatchNormScale &affine) {
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
    weights.data<float>()[c] = static_cast<float>(affine.scaleAt(c));
    bias.data<float>()[c] = static_cast<float>(affine.shiftAt(c));
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

bool foldIntoProducer(Graph &graph, Node &producer, const BatchNormScale &affine) {
  if (!producer.domain.empty()) return false;
  if (producer.opType == "Conv") return foldIntoConv(graph, producer, affine);
  if (producer.opType == "Gemm") return foldIntoGemm(graph, producer, affine);
  if (producer.opType == "MatMul") return foldIntoMatMul(graph, producer, affine);
  return false;
}

} // namespace

bool foldChannelAffine(Graph &graph, Node &producer, std::vector<double> scale,
                       std::vector<double> shift) {
  return foldIntoProducer(graph, producer, BatchNormScale{std::move(scale), std::move(shift)});
}

void foldBatchNorm(Graph &graph) {
  // Collected first: rewriting inserts nodes.
  llvm::SmallVector<Node *, 8> batchNorms, folded;
  for (const auto &node : graph.nodes())
    if (node->opType == "BatchNormalization" && node->domain.empty()) batchNorms.push_back(node.get());
  for (Node *node : batchNorms) {
    Value *input = node->input(0);
    auto bn = constantBatchNorm(*node);
    if (!bn) continue;
    Node *producer = input ? input->producer : nullptr;
    if (producer && !graph.isGraphOutput(input) && graph.users(input).size() == 1) {
      if (foldIntoProducer(graph, *producer, *bn)) {
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
