#include "passes/Passes.h"

#include <cmath>

namespace edgesplit {

namespace {

struct BatchNormScale {
  std::vector<double> scale; // gamma / sqrt(var + eps)
  std::vector<double> shift; // beta - mean * scale
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
  if (!weights || !weights->isConstant() || weights->dtype != DType::Float32) return false;
  const Value *bias = conv.input(2);
  if (bias && (!bias->isConstant() || bias->dtype != DType::Float32)) return false;
  const int64_t outChannels = weights->constant->dim(0);
  if (static_cast<int64_t>(bn.scale.size()) != outChannels) return false;

  Tensor newWeights = *weights->constant;
  const int64_t perChannel = newWeights.numElements() / outChannels;
  float *w = newWeights.data<float>();
  for (int64_t m = 0; m < outChannels; ++m)
    for (int64_t k = 0; k < perChannel; ++k)
      w[m * perChannel + k] = static_cast<float>(w[m * perChannel + k] * bn.scale[m]);
  Tensor newBias(DType::Float32, {outChannels});
  for (int64_t m = 0; m < outChannels; ++m) {
    const double old = bias ? bias->constant->data<float>()[m] : 0.0;
    newBias.data<float>()[m] = static_cast<float>(old * bn.scale[m] + bn.shift[m]);
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
  if (!b || !b->isConstant() || b->dtype != DType::Float32 || b->constant->rank() != 2)
    return false;
  const bool transB = gemm.attributes.getInt("transB").value_or(0) != 0;
  const int64_t n = transB ? b->constant->dim(0) : b->constant->dim(1);
  const int64_t k = transB ? b->constant->dim(1) : b->constant->dim(0);
  if (static_cast<int64_t>(bn.scale.size()) != n) return false;
  const Value *c = gemm.input(2);
  if (c && (!c->isConstant() || c->dtype != DType::Float32 ||
            (c->constant->numElements() != 1 && c->constant->numElements() != n) ||
            (c->constant->rank() == 2 && c->constant->dim(0) != 1)))
    return false;
  const double beta = gemm.attributes.getFloat("beta").value_or(1.0f);

  Tensor newB = *b->constant;
  float *w = newB.data<float>();
  for (int64_t row = 0; row < k; ++row)
    for (int64_t col = 0; col < n; ++col) {
      float &element = transB ? w[col * k + row] : w[row * n + col];
      element = static_cast<float>(element * bn.scale[col]);
    }
  Tensor newC(DType::Float32, {n});
  for (int64_t col = 0; col < n; ++col) {
    double old = 0.0;
    if (c) old = beta * c->constant->data<float>()[c->constant->numElements() == 1 ? 0 : col];
    newC.data<float>()[col] = static_cast<float>(old * bn.scale[col] + bn.shift[col]);
  }
  gemm.inputs[1] = graph.createConstant(graph.uniqueName(b->name + "_bnfolded"), std::move(newB));
  if (gemm.inputs.size() < 3) gemm.inputs.resize(3, nullptr);
  gemm.inputs[2] = graph.createConstant(graph.uniqueName(gemm.name + "_bias_bnfolded"),
                                        std::move(newC));
  gemm.attributes.set("beta", 1.0f);
  return true;
}

} // namespace

void foldBatchNorm(Graph &graph) {
  llvm::SmallVector<Node *, 8> folded;
  for (const auto &node : graph.nodes()) {
    if (node->opType != "BatchNormalization" || !node->domain.empty()) continue;
    Value *input = node->input(0);
    Node *producer = input ? input->producer : nullptr;
    if (!producer || graph.isGraphOutput(input) || graph.users(input).size() != 1) continue;
    auto bn = constantBatchNorm(*node);
    if (!bn) continue;
    bool done = false;
    if (producer->opType == "Conv") done = foldIntoConv(graph, *producer, *bn);
    else if (producer->opType == "Gemm") done = foldIntoGemm(graph, *producer, *bn);
    if (!done) continue;
    graph.replaceAllUsesWith(node->outputs[0], input);
    folded.push_back(node.get());
  }
  for (Node *node : folded) graph.eraseNode(node);
  graph.removeUnusedValues();
}

} // namespace edgesplit
