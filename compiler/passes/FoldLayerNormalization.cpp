#include "passes/InsertNode.h"
#include "passes/Passes.h"

#include "ops/OpKit.h"

#include <algorithm>

namespace edgesplit {

namespace {
// The node that produces `value` when it is `opType` of the default domain and `value` has no
// other reader (nor is a graph output): a step inside the pattern.
Node *soleProducer(const Graph &graph, const Value *value, std::string_view opType) {
  if (!value || !value->producer || value->producer->opType != opType ||
      !value->producer->domain.empty() || graph.isGraphOutput(value) ||
      graph.users(value).size() != 1)
    return nullptr;
  return value->producer;
}

std::optional<double> constantScalar(const Value *value) {
  if (!value || !value->isConstant() || value->constant->numElements() != 1) return std::nullopt;
  return value->constant->elementAsDouble(0);
}

// The first axis of the trailing block a keepdims ReduceMean averages over x's `rank` axes, or
// nothing when it reduces anything else.
std::optional<int64_t> trailingMeanAxis(const Node &mean, int64_t rank) {
  if (mean.attributes.getInt("keepdims").value_or(1) != 1) return std::nullopt;
  std::vector<int64_t> axes;
  if (mean.opset < 18) {
    axes = mean.attributes.getInts("axes").value_or(std::vector<int64_t>{});
  } else if (const Value *given = mean.input(1); given && given->isConstant()) {
    axes = given->constant->toInt64Vector();
  }
  if (axes.empty()) return std::nullopt;
  for (int64_t &axis : axes) {
    if (axis < -rank || axis >= rank) return std::nullopt;
    if (axis < 0) axis += rank;
  }
  std::sort(axes.begin(), axes.end());
  const int64_t first = axes.front();
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != first + static_cast<int64_t>(i)) return std::nullopt;
  if (axes.back() != rank - 1) return std::nullopt;
  return first;
}

// `value` is a constant that broadcasts to the normalised shape `normalized` and to nothing wider:
// returned with its leading 1s dropped, as LayerNormalization reads Scale and B.
Value *normalisedConstant(Graph &graph, Value *value, llvm::ArrayRef<int64_t> normalized) {
  if (!value || !value->isConstant() || value->dtype != DType::Float32) return nullptr;
  llvm::ArrayRef<int64_t> shape = value->constant->shape();
  while (!shape.empty() && shape.front() == 1 && shape.size() > normalized.size())
    shape = shape.drop_front();
  if (shape.size() > normalized.size()) return nullptr;
  const llvm::ArrayRef<int64_t> aligned = normalized.take_back(shape.size());
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != aligned[d] && shape[d] != 1) return nullptr;
  if (shape.size() == value->constant->rank()) return value;
  return graph.createConstant(graph.uniqueName(value->name + "_normalised"),
                              value->constant->reshaped(Shape(shape.begin(), shape.end())));
}

// The other operand of a two-input `node` when one of them is `known`.
Value *otherOperand(const Node &node, const Value *known) {
  if (node.inputs.size() != 2) return nullptr;
  return node.inputs[0] == known ? node.inputs[1] : (node.inputs[1] == known ? node.inputs[0]
                                                                             : nullptr);
}

// The single reader of `value` when it is `opType`; null otherwise.
Node *soleUser(const Graph &graph, const Value *value, std::string_view opType) {
  if (graph.isGraphOutput(value)) return nullptr;
  const auto users = graph.users(value);
  if (users.size() != 1 || users[0]->opType != opType || !users[0]->domain.empty()) return nullptr;
  return users[0];
}

// The square root of `value`'s producer when it is Sqrt(v) or Pow(v, 0.5) read only here.
Node *soleSquareRoot(const Graph &graph, const Value *value) {
  if (Node *sqrt = soleProducer(graph, value, "Sqrt")) return sqrt;
  Node *pow = soleProducer(graph, value, "Pow");
  return pow && pow->inputs.size() == 2 && constantScalar(pow->inputs[1]) == 0.5 ? pow : nullptr;
}

// The step that divides the centred x by the standard deviation: Div(d, sqrt) as PyTorch writes
// it, or Mul(d, Reciprocal(sqrt)) as tf2onnx writes TensorFlow's rsqrt (either operand order),
// the square root Sqrt or Pow(., 0.5). Returns d, and appends the steps to `steps`.
Value *matchDivision(const Graph &graph, Node &step, std::vector<Node *> &steps) {
  if (step.inputs.size() != 2 || !step.outputs[0]) return nullptr;
  if (step.opType == "Div") {
    Node *sqrt = soleSquareRoot(graph, step.inputs[1]);
    if (!sqrt) return nullptr;
    steps.insert(steps.end(), {sqrt, &step});
    return step.inputs[0];
  }
  for (size_t i : {0, 1})
    if (Node *reciprocal = soleProducer(graph, step.inputs[i], "Reciprocal"))
      if (Node *sqrt = soleSquareRoot(graph, reciprocal->inputs[0])) {
        steps.insert(steps.end(), {sqrt, reciprocal, &step});
        return step.inputs[1 - i];
      }
  return nullptr;
}

// LayerNorm written as primitives, ending at the division (PyTorch before opset 17, tf2onnx):
//   mean = ReduceMean(x, trailing axes); d = Sub(x, mean); Pow(d, 2) or Mul(d, d);
//   ReduceMean(same axes); Add(epsilon); the division above [; Mul(gamma)] [; Add(beta)]
// Folded into one LayerNormalization when every intermediate has no other reader.
bool fold(Graph &graph, Node &normalise) {
  if ((normalise.opType != "Div" && normalise.opType != "Mul") || !normalise.domain.empty())
    return false;
  std::vector<Node *> division;
  Value *centred = matchDivision(graph, normalise, division);
  if (!centred) return false;
  Node *sqrt = division.front();
  Node *addEpsilon = soleProducer(graph, sqrt->inputs[0], "Add");
  if (!addEpsilon) return false;
  Node *variance = nullptr;
  std::optional<double> epsilon;
  for (size_t i : {0, 1})
    if ((variance = soleProducer(graph, addEpsilon->inputs[i], "ReduceMean")) &&
        (epsilon = constantScalar(addEpsilon->inputs[1 - i])))
      break;
  if (!variance || !epsilon || *epsilon < 0) return false;
  Node *square = soleProducer(graph, variance->inputs[0], "Pow");
  if (square) {
    if (constantScalar(square->input(1)) != 2.0) return false;
  } else if ((square = soleProducer(graph, variance->inputs[0], "Mul"))) {
    if (square->inputs.size() != 2 || square->inputs[0] != square->inputs[1]) return false;
  } else {
    return false;
  }
  Node *sub = centred->producer;
  if (square->inputs[0] != centred || !sub || sub->opType != "Sub" || !sub->domain.empty() ||
      graph.isGraphOutput(centred))
    return false;
  for (const Node *user : graph.users(centred))
    if (user != square && user != &normalise) return false;
  Value *x = sub->inputs[0];
  Node *mean = soleProducer(graph, sub->inputs[1], "ReduceMean");
  if (!mean || mean->inputs[0] != x || !x->shape || x->dtype != DType::Float32 ||
      centred->shape != x->shape)
    return false;
  const int64_t rank = static_cast<int64_t>(x->shape->size());
  const std::optional<int64_t> axis = trailingMeanAxis(*mean, rank);
  if (!axis || trailingMeanAxis(*variance, rank) != axis) return false;
  const llvm::ArrayRef<int64_t> normalized =
      llvm::ArrayRef<int64_t>(*x->shape).drop_front(static_cast<size_t>(*axis));

  std::vector<Node *> steps = {mean, sub, square, variance, addEpsilon};
  steps.insert(steps.end(), division.begin(), division.end());
  Value *y = normalise.outputs[0];
  Value *gamma = nullptr, *beta = nullptr;
  if (Node *scale = soleUser(graph, y, "Mul"))
    if ((gamma = normalisedConstant(graph, otherOperand(*scale, y), normalized))) {
      steps.push_back(scale);
      y = scale->outputs[0];
      if (Node *shift = soleUser(graph, y, "Add"))
        if ((beta = normalisedConstant(graph, otherOperand(*shift, y), normalized))) {
          steps.push_back(shift);
          y = shift->outputs[0];
        }
    }
  if (!gamma)
    gamma = graph.createConstant(
        graph.uniqueName(normalise.name + "_scale"),
        Tensor::fromVector<float>(Shape(normalized.begin(), normalized.end()),
                                  std::vector<float>(static_cast<size_t>(numElements(normalized)),
                                                     1.0f)));
  AttributeMap attributes;
  attributes.set("axis", *axis);
  attributes.set("epsilon", static_cast<float>(*epsilon));
  llvm::SmallVector<Value *, 3> inputs = {x, gamma};
  if (beta) inputs.push_back(beta);
  // Named after the division, the step that the int8 compile refused before this pass; it takes
  // over the last step's output.
  insertNodeBefore(graph, *mean, normalise.name + "_layer_norm", "LayerNormalization", 17, inputs,
                   y, std::move(attributes));
  for (Node *step : steps) graph.eraseNode(step);
  return true;
}

// Mean and InvStdDev outputs that nothing reads are dropped, so that code generation, which
// computes Y alone, sees a node it supports.
void dropUnreadStatistics(Graph &graph, Node &node) {
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (Value *statistic = node.outputs[i];
        statistic && graph.users(statistic).empty() && !graph.isGraphOutput(statistic))
      node.outputs[i] = nullptr;
  while (node.outputs.size() > 1 && !node.outputs.back()) node.outputs.pop_back();
}
} // namespace

void foldLayerNormalization(Graph &graph) {
  for (const auto &node : graph.nodes())
    if (node->opType == "LayerNormalization" && node->domain.empty())
      dropUnreadStatistics(graph, *node);
  // A fold erases Mul nodes that are candidates too (the square, the scale): scanned afresh after
  // each fold rather than from a list that could name an erased node.
  bool folded = true;
  while (folded) {
    folded = false;
    for (const auto &node : graph.nodes())
      if (fold(graph, *node)) {
        folded = true;
        break;
      }
  }
}

} // namespace edgesplit
