#include "codegen/FuseConvGlobalPools.h"

#include "ops/Conv1dGlobalAveragePool.h"

namespace edgesplit {
namespace {

bool hasPerTensorQuant(const Value *value) {
  return value && value->quant && value->quant->scales.size() == 1;
}

bool sameQuant(const Value &a, const Value &b) {
  return a.quant->scales == b.quant->scales && a.quant->zeroPoints == b.quant->zeroPoints;
}

// `value`'s only reader is `reader`, through its first input, and the graph does not export it.
bool onlyReadBy(const Graph &graph, const Value *value, const Node &reader) {
  const auto users = graph.users(value);
  return !graph.isGraphOutput(value) && users.size() == 1 && users[0] == &reader &&
         reader.input(0) == value && llvm::count(reader.inputs, value) == 1;
}

bool isDefaultDomain(const Node &node) { return node.domain.empty() || node.domain == "ai.onnx"; }

// A Transpose (0, 2, 1) of a rank-3 value with the same int8 parameters on both sides.
bool isNwcTranspose(const Node &node) {
  if (node.opType != "Transpose" || !isDefaultDomain(node) || node.outputs.size() != 1)
    return false;
  const Value *in = node.input(0), *out = node.outputs[0];
  return in && out && in->shape && in->shape->size() == 3 && !in->isConstant() &&
         node.attributes.getInts("perm") == std::vector<int64_t>{0, 2, 1} &&
         hasPerTensorQuant(in) && hasPerTensorQuant(out) && sameQuant(*in, *out);
}

// A 1-D Conv with constant weights (and bias), group 1 and dilation 1, and per-tensor int8
// parameters on its input and output.
bool isFusableConv(const Node &conv) {
  if (conv.opType != "Conv" || !isDefaultDomain(conv) || conv.outputs.size() != 1) return false;
  const Value *x = conv.input(0), *w = conv.input(1), *b = conv.input(2), *y = conv.outputs[0];
  if (!x || !w || !y || !w->isConstant() || (b && !b->isConstant()) || !x->shape || !w->shape ||
      x->shape->size() != 3 || w->shape->size() != 3 || !hasPerTensorQuant(x) ||
      !hasPerTensorQuant(y))
    return false;
  if (conv.attributes.getInt("group").value_or(1) != 1) return false;
  const auto dilations = conv.attributes.getInts("dilations");
  if (dilations && !llvm::all_of(*dilations, [](int64_t d) { return d == 1; })) return false;
  const auto strides = conv.attributes.getInts("strides");
  return ops::conv1dMeanHasFastEntry((*w->shape)[1], (*w->shape)[2],
                                     strides && strides->size() == 1 ? (*strides)[0] : 1);
}

// es_conv1d_nwc_mean_s8's arithmetic is exact for the Conv as annotated (the condition the
// Conv's own specialised kernels have, asked of the same weights).
bool kernelIsExact(const Node &conv, KernelIsa isa) {
  Program probe;
  probe.precision = Precision::Int8;
  probe.isa = isa;
  const LowerContext ctx(conv, probe, std::nullopt);
  return ops::conv1dMeanWeights(ctx, ctx.inputQuant(0), ctx.outputQuant()).has_value();
}

} // namespace

int fuseConvGlobalPools(Graph &graph, llvm::DenseMap<const Node *, ActivationClamp> &fused,
                        KernelIsa isa) {
  struct Match {
    Node *transpose, *conv, *pool;
  };
  std::vector<Match> matches;
  for (const auto &node : graph.nodes()) {
    Node *pool = node.get();
    if (pool->opType != "GlobalAveragePool" || !isDefaultDomain(*pool) || !pool->input(0) ||
        pool->outputs.size() != 1 || !hasPerTensorQuant(pool->outputs[0]))
      continue;
    Node *conv = pool->input(0)->producer;
    if (!conv || !isFusableConv(*conv) || !onlyReadBy(graph, conv->outputs[0], *pool) ||
        !kernelIsExact(*conv, isa))
      continue;
    Node *transpose = conv->input(0)->producer;
    if (transpose &&
        !(isNwcTranspose(*transpose) && onlyReadBy(graph, transpose->outputs[0], *conv)))
      transpose = nullptr;
    matches.push_back({transpose, conv, pool});
  }
  for (const Match &match : matches) {
    const Value &convOutput = *match.conv->outputs[0];
    auto node = std::make_unique<Node>();
    node->name = match.conv->name;
    node->opType = std::string(ops::kConv1dGlobalAveragePool.name);
    node->domain = std::string(ops::kConv1dGlobalAveragePoolDomain);
    node->opset = match.conv->opset;
    node->op = &ops::kConv1dGlobalAveragePool;
    node->attributes = match.conv->attributes;
    node->attributes.set(std::string(ops::kChannelsLastAttr), int64_t{match.transpose != nullptr});
    node->attributes.set(std::string(ops::kConvScaleAttr), convOutput.quant->scales[0]);
    node->attributes.set(
        std::string(ops::kConvZeroPointAttr),
        int64_t{convOutput.quant->zeroPoints.empty() ? 0 : convOutput.quant->zeroPoints[0]});
    if (auto clamp = fused.find(match.conv); clamp != fused.end()) {
      node->attributes.set(std::string(ops::kConvClampLoAttr), clamp->second.lo);
      node->attributes.set(std::string(ops::kConvClampHiAttr), clamp->second.hi);
      fused.erase(clamp);
    }
    node->inputs = match.conv->inputs;
    if (match.transpose) node->inputs[0] = match.transpose->input(0);
    Value *result = match.pool->outputs[0];
    match.pool->outputs[0] = nullptr;
    node->outputs = {result};
    Node *position = match.transpose ? match.transpose : match.conv;
    Node *fusedNode = graph.insertNodeBefore(position, std::move(node));
    result->producer = fusedNode;
    if (auto clamp = fused.find(match.pool); clamp != fused.end()) {
      const ActivationClamp poolClamp = clamp->second;
      fused.erase(clamp);
      fused[fusedNode] = poolClamp;
    }
    graph.eraseNode(match.pool);
    graph.eraseNode(match.conv);
    if (match.transpose) graph.eraseNode(match.transpose);
  }
  graph.removeUnusedValues();
  return static_cast<int>(matches.size());
}

} // namespace edgesplit
