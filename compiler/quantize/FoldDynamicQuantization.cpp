#include "quantize/FoldDynamicQuantization.h"

#include "passes/InsertNode.h"

#include <llvm/ADT/SmallPtrSet.h>

namespace edgesplit {

namespace {

Node *soleUser(const Graph &graph, const Value *value) {
  if (!value || graph.isGraphOutput(value)) return nullptr;
  auto users = graph.users(value);
  return users.size() == 1 ? users[0] : nullptr;
}

// `node`'s other operand when it is a two-input Mul reading `value`.
Value *otherMulOperand(const Node *node, const Value *value) {
  if (!node || node->opType != "Mul" || !node->domain.empty() || node->inputs.size() != 2)
    return nullptr;
  if (node->inputs[0] == value) return node->inputs[1];
  return node->inputs[1] == value ? node->inputs[0] : nullptr;
}

// One integer layer of the pattern, reading the DynamicQuantizeLinear's outputs.
struct IntegerLayer {
  Node *op = nullptr;
  Node *cast = nullptr;
  Node *rescale = nullptr;     // Mul(float sums, scales)
  Node *scaleProduct = nullptr; // Mul(x_scale, W_scale)
  Tensor realWeights;
};

// Whether a constant of `count` elements broadcasts per tensor, or per column of a MatMul's
// [..., N] result (`columns`; 0 for a Conv, which takes one scale only).
bool perTensorOrColumn(int64_t count, int64_t columns) {
  return count == 1 || (columns > 0 && count == columns);
}

std::optional<IntegerLayer> matchLayer(const Graph &graph, Node &op, const Node &dynamic) {
  const Value *xq = dynamic.outputs[0];
  const Value *xs = dynamic.outputs.size() > 1 ? dynamic.outputs[1] : nullptr;
  const Value *xz = dynamic.outputs.size() > 2 ? dynamic.outputs[2] : nullptr;
  const bool isConv = op.opType == "ConvInteger";
  if ((!isConv && op.opType != "MatMulInteger") || !op.domain.empty() || op.input(0) != xq ||
      !xs || (op.input(2) && op.input(2) != xz) || op.outputs.size() != 1)
    return std::nullopt;
  const Value *weights = op.input(1);
  const Value *weightZero = op.input(3);
  if (!weights || !weights->isConstant() || (weightZero && !weightZero->isConstant()))
    return std::nullopt;
  IntegerLayer layer;
  layer.op = &op;
  layer.cast = soleUser(graph, op.outputs[0]);
  if (!layer.cast || layer.cast->opType != "Cast" || !layer.cast->outputs[0] ||
      layer.cast->outputs[0]->dtype != DType::Float32)
    return std::nullopt;
  layer.rescale = soleUser(graph, layer.cast->outputs[0]);
  const Value *scales = otherMulOperand(layer.rescale, layer.cast->outputs[0]);
  layer.scaleProduct = scales ? scales->producer : nullptr;
  const Value *weightScale = otherMulOperand(layer.scaleProduct, xs);
  if (!weightScale || !weightScale->isConstant()) return std::nullopt;

  const Tensor &w = *weights->constant;
  const int64_t columns = isConv ? 0 : w.dim(w.rank() - 1);
  const std::vector<double> wScales = weightScale->constant->toDoubleVector();
  const std::vector<int64_t> wZeros =
      weightZero ? weightZero->constant->toInt64Vector() : std::vector<int64_t>{0};
  if (w.rank() < 2 || !perTensorOrColumn(static_cast<int64_t>(wScales.size()), columns) ||
      !perTensorOrColumn(static_cast<int64_t>(wZeros.size()), columns))
    return std::nullopt;
  const std::vector<int64_t> q = w.toInt64Vector();
  std::vector<float> real(q.size());
  for (size_t i = 0; i < q.size(); ++i) {
    const size_t column = columns > 0 ? i % static_cast<size_t>(columns) : 0;
    const double scale = wScales[wScales.size() == 1 ? 0 : column];
    const int64_t zero = wZeros[wZeros.size() == 1 ? 0 : column];
    real[i] = static_cast<float>(scale * static_cast<double>(q[i] - zero));
  }
  layer.realWeights = Tensor::fromVector<float>(w.shape(), real);
  return layer;
}

} // namespace

void foldDynamicQuantization(Graph &graph) {
  llvm::SmallVector<Node *, 4> dynamics;
  for (const auto &node : graph.nodes())
    if (node->opType == "DynamicQuantizeLinear" && node->domain.empty() && node->input(0) &&
        node->outputs.size() == 3 && node->outputs[0])
      dynamics.push_back(node.get());
  for (Node *dynamic : dynamics) {
    llvm::SmallVector<IntegerLayer, 2> layers;
    bool complete = !llvm::any_of(dynamic->outputs, [&](const Value *v) {
      return v && graph.isGraphOutput(v);
    });
    for (Node *user : graph.users(dynamic->outputs[0])) {
      auto layer = matchLayer(graph, *user, *dynamic);
      if (!layer) complete = false;
      else layers.push_back(std::move(*layer));
    }
    if (!complete || layers.empty()) continue; // refused, naming the DynamicQuantizeLinear
    for (IntegerLayer &layer : layers) {
      const bool isConv = layer.op->opType == "ConvInteger";
      Value *weights = graph.createConstant(graph.uniqueName(layer.op->input(1)->name + "_real"),
                                            std::move(layer.realWeights));
      Value *result = layer.rescale->outputs[0];
      layer.rescale->outputs[0] = nullptr;
      insertNodeBefore(graph, *layer.op, layer.op->name, isConv ? "Conv" : "MatMul", 1,
                       {dynamic->input(0), weights}, result,
                       isConv ? layer.op->attributes : AttributeMap{});
      for (Node *replaced : {layer.rescale, layer.cast, layer.op}) graph.eraseNode(replaced);
    }
    // The scale products and the DynamicQuantizeLinear are read by nothing else now.
    llvm::SmallPtrSet<Node *, 2> products;
    for (IntegerLayer &layer : layers) products.insert(layer.scaleProduct);
    for (Node *product : products)
      if (graph.users(product->outputs[0]).empty()) graph.eraseNode(product);
    if (llvm::all_of(dynamic->outputs, [&](const Value *v) { return !v || graph.users(v).empty(); }))
      graph.eraseNode(dynamic);
  }
  graph.removeUnusedValues();
}

} // namespace edgesplit
