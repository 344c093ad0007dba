#include "passes/Passes.h"

#include "ops/OpDef.h"

#include <algorithm>
#include <limits>

namespace edgesplit {

namespace {

std::optional<double> constantScalar(const Value *value) {
  if (!value || !value->isConstant() || value->constant->numElements() != 1) return std::nullopt;
  return value->constant->elementAsDouble(0);
}

// Turns `node` into an opset-11 Clip of `input` between the constant bounds (absent: no bound).
void becomeClip(Graph &graph, Node &node, Value *input, std::optional<double> lo,
                std::optional<double> hi) {
  auto bound = [&](std::optional<double> value, const char *which) -> Value * {
    if (!value) return nullptr;
    return graph.createConstant(graph.uniqueName(node.name + "_" + which),
                                Tensor::scalar<float>(static_cast<float>(*value)));
  };
  Value *low = bound(lo, "min");
  Value *high = bound(hi, "max");
  node.opType = "Clip";
  node.op = findOp("", "Clip");
  node.opset = std::max(node.opset, 11);
  node.attributes = {};
  node.inputs = {input, low};
  if (high) node.inputs.push_back(high);
}

std::optional<double> asDouble(std::optional<float> value) {
  if (!value) return std::nullopt;
  return *value;
}

// The bounds of a Clip whose bounds are constant (or absent), as (lo, hi).
std::optional<std::pair<std::optional<double>, std::optional<double>>> clipBounds(const Node &node) {
  if (node.opType != "Clip" || !node.domain.empty()) return std::nullopt;
  if (node.opset < 11)
    return std::pair(asDouble(node.attributes.getFloat("min")),
                     asDouble(node.attributes.getFloat("max")));
  std::optional<double> bounds[2];
  for (size_t index : {1, 2}) {
    const Value *value = node.input(index);
    if (!value) continue;
    bounds[index - 1] = constantScalar(value);
    if (!bounds[index - 1]) return std::nullopt;
  }
  return std::pair(bounds[0], bounds[1]);
}

std::optional<double> tighter(std::optional<double> a, std::optional<double> b, bool lower) {
  if (!a) return b;
  if (!b) return a;
  return lower ? std::max(*a, *b) : std::min(*a, *b);
}

} // namespace

void minMaxToClip(Graph &graph) {
  for (const auto &nodePtr : graph.nodes()) {
    Node &node = *nodePtr;
    if ((node.opType != "Min" && node.opType != "Max") || !node.domain.empty() ||
        node.inputs.size() != 2 || node.outputs.size() != 1 || !node.outputs[0] ||
        node.outputs[0]->dtype != DType::Float32 || !node.outputs[0]->hasStaticShape())
      continue;
    for (size_t constant : {0, 1}) {
      Value *input = node.input(1 - constant);
      const std::optional<double> bound = constantScalar(node.input(constant));
      if (!bound || !input || input->isConstant() || input->shape != node.outputs[0]->shape)
        continue;
      if (node.opType == "Min") becomeClip(graph, node, input, std::nullopt, bound);
      else becomeClip(graph, node, input, bound, std::nullopt);
      break;
    }
  }
  // Clip(Clip(x)) (Relu6 as Max(Min(x, 6), 0)) is one Clip, so that it fuses into the layer.
  for (const auto &nodePtr : graph.nodes()) {
    Node &outer = *nodePtr;
    const auto outerBounds = clipBounds(outer);
    Node *inner = outer.input(0) ? outer.input(0)->producer : nullptr;
    if (!outerBounds || !inner || graph.isGraphOutput(inner->outputs[0]) ||
        graph.users(inner->outputs[0]).size() != 1)
      continue;
    const auto innerBounds = clipBounds(*inner);
    if (!innerBounds) continue;
    const std::optional<double> lo = tighter(outerBounds->first, innerBounds->first, true);
    const std::optional<double> hi = tighter(outerBounds->second, innerBounds->second, false);
    if (lo && hi && *lo > *hi) continue; // clip(clip(x)) is then a constant: left as written
    becomeClip(graph, outer, inner->input(0), lo, hi);
  }
}

} // namespace edgesplit
