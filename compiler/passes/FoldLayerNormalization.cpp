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

// `value` (a constant, or computed with a known shape) broadcasts to the normalised shape
// `normalized` and to nothing wider.
bool fitsNormalised(const Value *value, llvm::ArrayRef<int64_t> normalized) {
  if (!value || value->dtype != DType::Float32 || (!value->isConstant() && !value->shape))
    return false;
  llvm::ArrayRef<int64_t> shape =
      value->isConstant() ? value->constant->shape() : llvm::ArrayRef<int64_t>(*value->shape);
  while (!shape.empty() && shape.front() == 1 && shape.size() > normalized.size())
    shape = shape.drop_front();
  if (shape.size() > normalized.size()) return false;
  const llvm::ArrayRef<int64_t> aligned = normalized.take_back(shape.size());
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != aligned[d] && shape[d] != 1) return false;
  return true;
}

// `value` when it is a constant that fits (above), with its leading 1s dropped, as
// LayerNormalization reads Scale and B; null otherwise.
Value *normalisedConstant(Graph &graph, Value *value, llvm::ArrayRef<int64_t> normalized) {
  if (!value || !value->isConstant() || !fitsNormalised(value, normalized)) return nullptr;
  llvm::ArrayRef<int64_t> shape = value->constant->shape();
  // The dimensions beyond the normalised ones are leading 1s (fitsNormalised).
  while (shape.size() > normalized.size()) shape = shape.drop_front();
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

// The variance under the square root: Add(variance, epsilon) in either order, read only there,
// epsilon a constant scalar >= 0. Returns the Add and fills `variance` and `epsilon`.
Node *matchEpsilon(const Graph &graph, const Value *shifted, Value *&variance, double &epsilon) {
  Node *addEpsilon = soleProducer(graph, shifted, "Add");
  if (!addEpsilon || addEpsilon->inputs.size() != 2) return nullptr;
  for (size_t i : {0, 1})
    if (std::optional<double> given = constantScalar(addEpsilon->inputs[1 - i]);
        given && *given >= 0 && !addEpsilon->inputs[i]->isConstant()) {
      variance = addEpsilon->inputs[i];
      epsilon = *given;
      return addEpsilon;
    }
  return nullptr;
}

// The square producing `squared`, read only there: Pow(v, 2) as PyTorch writes it or Mul(v, v)
// (tf2onnx's SquaredDifference and Square). Returns it; v is its first input.
Node *soleSquare(const Graph &graph, const Value *squared) {
  if (Node *pow = soleProducer(graph, squared, "Pow"))
    return constantScalar(pow->input(1)) == 2.0 ? pow : nullptr;
  Node *mul = soleProducer(graph, squared, "Mul");
  return mul && mul->inputs.size() == 2 && mul->inputs[0] == mul->inputs[1] ? mul : nullptr;
}

// `value` is read by nothing but `readers` (and is no graph output).
bool readOnlyBy(const Graph &graph, const Value *value, llvm::ArrayRef<const Node *> readers) {
  if (graph.isGraphOutput(value)) return false;
  for (const Node *user : graph.users(value))
    if (!llvm::is_contained(readers, user)) return false;
  return true;
}

// The x, the keepdims mean over x's trailing axes that `mean` is, or nothing. Fills `axis`.
Node *trailingMean(const Value *mean, const Value *x, std::optional<int64_t> &axis) {
  Node *node = mean ? mean->producer : nullptr;
  if (!node || node->opType != "ReduceMean" || !node->domain.empty() || node->inputs[0] != x ||
      !x->shape || x->dtype != DType::Float32)
    return nullptr;
  axis = trailingMeanAxis(*node, static_cast<int64_t>(x->shape->size()));
  return axis ? node : nullptr;
}

// The constant beta that `shift` adds to `y`: Add(y, beta) in either order, or Sub(y, c) with
// beta = -c. Null when `shift` is neither or the constant does not fit `normalized`.
Value *matchBeta(Graph &graph, const Node &shift, const Value *y,
                 llvm::ArrayRef<int64_t> normalized) {
  if (shift.opType == "Add") return normalisedConstant(graph, otherOperand(shift, y), normalized);
  if (shift.opType != "Sub" || shift.inputs.size() != 2 || shift.inputs[0] != y) return nullptr;
  Value *subtracted = normalisedConstant(graph, shift.inputs[1], normalized);
  if (!subtracted) return nullptr;
  Tensor negated = subtracted->constant->reshaped(subtracted->constant->shape());
  for (float &element : negated.mutableValues<float>()) element = -element;
  return graph.createConstant(graph.uniqueName(subtracted->name + "_negated"), std::move(negated));
}

// Whether `value` is a constant once a pre-quantised model's QDQ pairs are absorbed: a constant,
// or the DequantizeLinear of one (onnxruntime's quantiser writes Scale and B so).
bool constantOnceAbsorbed(const Value *value) {
  if (value->isConstant()) return true;
  const Node *producer = value->producer;
  return producer && producer->opType == "DequantizeLinear" && producer->domain.empty() &&
         producer->input(0) && producer->input(0)->isConstant();
}

// A constant, or a computed value that fits (a layer's output given to Keras' LayerNormalization
// as its gamma or beta), for the node below; null otherwise.
Value *normalisedOperand(Graph &graph, Value *value, llvm::ArrayRef<int64_t> normalized) {
  if (value && !value->isConstant()) return fitsNormalised(value, normalized) ? value : nullptr;
  return normalisedConstant(graph, value, normalized);
}

// Inserts LayerNormalization(x, gamma or ones[, beta]) over the axes from `axis` writing `y`,
// named `name`, before `position`, which runs after everything it reads. Code generation folds
// constant Scale and B into the kernel (a DequantizeLinear of one is a constant once absorbed);
// a computed gamma or beta is applied after the node by a Mul and an Add (code generation has
// both in both precisions), the node's Scale then ones.
Node *insertLayerNormalization(Graph &graph, const Node &position, const std::string &name,
                               Value *x, Value *gamma, Value *beta, int64_t axis, double epsilon,
                               Value *y) {
  const llvm::ArrayRef<int64_t> normalized =
      llvm::ArrayRef<int64_t>(*x->shape).drop_front(static_cast<size_t>(axis));
  const bool gammaAfter = gamma && !constantOnceAbsorbed(gamma);
  const bool betaAfter = beta && (!constantOnceAbsorbed(beta) || gammaAfter);
  Value *scale = gamma;
  if (!gamma || gammaAfter)
    scale = graph.createConstant(
        graph.uniqueName(name + "_scale"),
        Tensor::fromVector<float>(Shape(normalized.begin(), normalized.end()),
                                  std::vector<float>(static_cast<size_t>(numElements(normalized)),
                                                     1.0f)));
  // The value each step writes: y for the last.
  auto stepOutput = [&](bool last, const char *suffix) {
    if (last) return y;
    Value *value = graph.createValue(graph.uniqueName(name + suffix), DType::Float32);
    value->shape = x->shape;
    return value;
  };
  AttributeMap attributes;
  attributes.set("axis", axis);
  attributes.set("epsilon", static_cast<float>(epsilon));
  llvm::SmallVector<Value *, 3> inputs = {x, scale};
  if (beta && !betaAfter) inputs.push_back(beta);
  Value *normalised = stepOutput(!gammaAfter && !betaAfter, "_normalised");
  Node *node = insertNodeBefore(graph, position, name, "LayerNormalization", 17, inputs,
                                normalised, std::move(attributes));
  if (gammaAfter) {
    Value *scaled = stepOutput(!betaAfter, "_scaled");
    insertNodeBefore(graph, position, graph.uniqueName(name + "_scale"), "Mul", 7,
                     {normalised, gamma}, scaled);
    normalised = scaled;
  }
  if (betaAfter)
    insertNodeBefore(graph, position, graph.uniqueName(name + "_shift"), "Add", 7,
                     {normalised, beta}, y);
  return node;
}

// Replaces `steps` (the first of them runs first, the last writes `y`) by a LayerNormalization
// named after `anchor` (above).
void replaceByLayerNormalization(Graph &graph, llvm::ArrayRef<Node *> steps, const Node &anchor,
                                 Value *x, Value *gamma, Value *beta, int64_t axis, double epsilon,
                                 Value *y) {
  // An operand that is not a constant itself (computed, or dequantised) may be written inside the
  // steps' span: then the new nodes go where the last step was.
  const bool produced = (gamma && !gamma->isConstant()) || (beta && !beta->isConstant());
  insertLayerNormalization(graph, produced ? *steps.back() : *steps.front(),
                           anchor.name + "_layer_norm", x, gamma, beta, axis, epsilon, y);
  for (Node *step : steps) graph.eraseNode(step);
}

// LayerNorm written as primitives, ending at the division (PyTorch before opset 17, tf2onnx):
//   mean = ReduceMean(x, trailing axes); d = Sub(x, mean); Pow(d, 2) or Mul(d, d);
//   ReduceMean(same axes); Add(epsilon); the division above [; Mul(gamma)]
//   [; Add(beta) or Sub(-beta)]
// Folded into one LayerNormalization when every intermediate has no other reader.
bool foldCentred(Graph &graph, Node &normalise) {
  if ((normalise.opType != "Div" && normalise.opType != "Mul") || !normalise.domain.empty())
    return false;
  std::vector<Node *> division;
  Value *centred = matchDivision(graph, normalise, division);
  if (!centred) return false;
  Value *varianceValue = nullptr;
  double epsilon = 0;
  Node *addEpsilon = matchEpsilon(graph, division.front()->inputs[0], varianceValue, epsilon);
  Node *variance = soleProducer(graph, varianceValue, "ReduceMean");
  Node *square = variance ? soleSquare(graph, variance->inputs[0]) : nullptr;
  if (!addEpsilon || !square || square->inputs[0] != centred) return false;
  Node *sub = centred->producer;
  if (!sub || sub->opType != "Sub" || !sub->domain.empty() ||
      !readOnlyBy(graph, centred, {square, &normalise}))
    return false;
  Value *x = sub->inputs[0];
  std::optional<int64_t> axis;
  Node *mean = trailingMean(sub->inputs[1], x, axis);
  if (!mean || !soleProducer(graph, sub->inputs[1], "ReduceMean") || centred->shape != x->shape ||
      trailingMeanAxis(*variance, static_cast<int64_t>(x->shape->size())) != axis)
    return false;
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
      Node *shift = soleUser(graph, y, "Add");
      if (!shift) shift = soleUser(graph, y, "Sub");
      if (shift && (beta = matchBeta(graph, *shift, y, normalized))) {
        steps.push_back(shift);
        y = shift->outputs[0];
      }
    }
  // Named after the division, the step that the int8 compile refused before this pass; it takes
  // over the last step's output.
  replaceByLayerNormalization(graph, steps, normalise, x, gamma, beta, *axis, epsilon, y);
  return true;
}

// The two products of TensorFlow's batch_normalization that `add` combines, x * inv and
// mean * inv, with the steps between the second and `add` and the beta they add.
struct ScaledShift {
  Node *scaled = nullptr, *meanScaled = nullptr;
  Node *offset = nullptr; // Sub(beta, mean * inv) or Neg(mean * inv); none for Sub(x * inv, ...)
  Value *beta = nullptr;
};

// What `add` may combine: Add(x * inv, Sub(beta, mean * inv)) in either order; with Keras'
// center=False, TensorFlow's -mean * inv, Add(x * inv, Neg(mean * inv)) or Sub(x * inv,
// mean * inv).
llvm::SmallVector<ScaledShift, 2> scaledShifts(const Graph &graph, const Node &add) {
  llvm::SmallVector<ScaledShift, 2> found;
  if (!add.domain.empty() || add.inputs.size() != 2 || !add.outputs[0]) return found;
  if (add.opType == "Sub") {
    found.push_back({soleProducer(graph, add.inputs[0], "Mul"),
                     soleProducer(graph, add.inputs[1], "Mul"), nullptr, nullptr});
  } else if (add.opType == "Add") {
    for (size_t i : {0, 1}) {
      Node *scaled = soleProducer(graph, add.inputs[i], "Mul");
      if (Node *shift = soleProducer(graph, add.inputs[1 - i], "Sub"))
        found.push_back({scaled, soleProducer(graph, shift->inputs[1], "Mul"), shift,
                         shift->inputs[0]});
      else if (Node *negate = soleProducer(graph, add.inputs[1 - i], "Neg"))
        found.push_back({scaled, soleProducer(graph, negate->inputs[0], "Mul"), negate, nullptr});
    }
  }
  return found;
}

// TensorFlow's batch_normalization, as tf2onnx writes Keras' LayerNormalization (tf.nn.moments,
// then inv = rsqrt(variance + eps) * gamma; x * inv + (beta - mean * inv)), anchored at the last
// Add (scaledShifts above). The centred x never exists; the variance is ReduceMean(Mul(d, d)) on
// a Sub(x, mean) of its own (SquaredDifference) or Pow(d, 2), or ReduceMean(x * x) - mean * mean.
// gamma may be absent (Keras' scale=False), beta too (center=False); either may be computed.
bool foldScaledShift(Graph &graph, Node &add) {
  for (const ScaledShift &candidate : scaledShifts(graph, add)) {
    Node *scaled = candidate.scaled, *meanScaled = candidate.meanScaled;
    if (!scaled || !meanScaled || scaled->inputs.size() != 2) continue;
    for (size_t j : {0, 1}) {
      Value *inv = scaled->inputs[j], *x = scaled->inputs[1 - j];
      Value *meanValue = otherOperand(*meanScaled, inv);
      std::optional<int64_t> axis;
      Node *mean = trailingMean(meanValue, x, axis);
      if (!mean || inv == x || !inv->producer || !readOnlyBy(graph, inv, {scaled, meanScaled}))
        continue;
      const int64_t rank = static_cast<int64_t>(x->shape->size());
      const llvm::ArrayRef<int64_t> normalized =
          llvm::ArrayRef<int64_t>(*x->shape).drop_front(static_cast<size_t>(*axis));
      // inv: Reciprocal(square root), or that times gamma (either order).
      std::vector<Node *> invSteps;
      Value *gamma = nullptr;
      Node *reciprocal = inv->producer;
      if (reciprocal->opType == "Mul" && reciprocal->domain.empty()) {
        invSteps.push_back(reciprocal);
        Node *gammaMul = reciprocal;
        reciprocal = nullptr;
        for (size_t k : {0, 1})
          if (Node *found = soleProducer(graph, gammaMul->inputs[k], "Reciprocal"))
            if (fitsNormalised(gammaMul->inputs[1 - k], normalized)) {
              gamma = gammaMul->inputs[1 - k];
              reciprocal = found;
              break;
            }
      } else if (reciprocal->opType != "Reciprocal" || !reciprocal->domain.empty()) {
        reciprocal = nullptr;
      }
      Node *sqrt = reciprocal ? soleSquareRoot(graph, reciprocal->inputs[0]) : nullptr;
      Value *varianceValue = nullptr;
      double epsilon = 0;
      Node *addEpsilon = sqrt ? matchEpsilon(graph, sqrt->inputs[0], varianceValue, epsilon)
                              : nullptr;
      Value *beta = candidate.beta;
      if (!addEpsilon || (beta && !fitsNormalised(beta, normalized))) continue;
      std::vector<Node *> varianceSteps;
      const Node *meanReader = nullptr;
      if (Node *variance = soleProducer(graph, varianceValue, "ReduceMean")) {
        // ReduceMean(Square(Sub(x, mean))).
        Node *square = soleSquare(graph, variance->inputs[0]);
        Node *sub = square ? soleProducer(graph, square->inputs[0], "Sub") : nullptr;
        if (!sub || sub->inputs[0] != x || sub->inputs[1] != meanValue ||
            trailingMeanAxis(*variance, rank) != axis)
          continue;
        varianceSteps = {sub, square, variance};
        meanReader = sub;
      } else if (Node *difference = soleProducer(graph, varianceValue, "Sub")) {
        // ReduceMean(Square(x)) - Square(mean).
        Node *meanOfSquares = soleProducer(graph, difference->inputs[0], "ReduceMean");
        Node *square = meanOfSquares ? soleSquare(graph, meanOfSquares->inputs[0]) : nullptr;
        Node *meanSquare = soleSquare(graph, difference->inputs[1]);
        if (!square || square->inputs[0] != x || !meanSquare ||
            meanSquare->inputs[0] != meanValue ||
            trailingMeanAxis(*meanOfSquares, rank) != axis)
          continue;
        varianceSteps = {square, meanOfSquares, meanSquare, difference};
        meanReader = meanSquare;
      } else {
        continue;
      }
      if (!readOnlyBy(graph, meanValue, {meanReader, meanScaled})) continue;
      std::vector<Node *> steps = {mean};
      steps.insert(steps.end(), varianceSteps.begin(), varianceSteps.end());
      steps.insert(steps.end(), {addEpsilon, sqrt, reciprocal});
      steps.insert(steps.end(), invSteps.begin(), invSteps.end());
      steps.insert(steps.end(), {scaled, meanScaled});
      if (candidate.offset) steps.push_back(candidate.offset);
      steps.push_back(&add);
      replaceByLayerNormalization(graph, steps, add, x, normalisedOperand(graph, gamma, normalized),
                                  normalisedOperand(graph, beta, normalized), *axis, epsilon,
                                  add.outputs[0]);
      return true;
    }
  }
  return false;
}

// A LayerNormalization given a computed Scale or B (ONNX allows any tensor there) becomes one of
// constant operands followed by the Mul and Add (insertLayerNormalization), under its own name.
bool splitComputedAffine(Graph &graph, Node &node) {
  if (node.opType != "LayerNormalization" || !node.domain.empty() || node.outputs.size() != 1 ||
      !node.outputs[0])
    return false;
  Value *x = node.input(0), *scale = node.input(1), *bias = node.input(2);
  if (!x || !x->shape || !scale ||
      (constantOnceAbsorbed(scale) && (!bias || constantOnceAbsorbed(bias))))
    return false;
  const int64_t rank = static_cast<int64_t>(x->shape->size());
  int64_t axis = node.attributes.getInt("axis").value_or(-1);
  if (axis < -rank || axis >= rank) return false;
  if (axis < 0) axis += rank;
  const llvm::ArrayRef<int64_t> normalized =
      llvm::ArrayRef<int64_t>(*x->shape).drop_front(static_cast<size_t>(axis));
  if (!fitsNormalised(scale, normalized) || (bias && !fitsNormalised(bias, normalized)))
    return false;
  const std::string name = node.name;
  Node *normalisation =
      insertLayerNormalization(graph, node, graph.uniqueName(name + "_constant_affine"), x, scale,
                               bias, axis, node.attributes.getFloat("epsilon").value_or(1e-5f),
                               node.outputs[0]);
  graph.eraseNode(&node);
  normalisation->name = name;
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
      if (foldCentred(graph, *node) || foldScaledShift(graph, *node) ||
          splitComputedAffine(graph, *node)) {
        folded = true;
        break;
      }
  }
}

} // namespace edgesplit
