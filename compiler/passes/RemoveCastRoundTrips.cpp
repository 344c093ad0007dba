#include "passes/Passes.h"

#include "ir/DType.h"

#include <cmath>
#include <limits>

namespace edgesplit {

namespace {

// What is known of a float value's elements: whole numbers within [lo, hi].
struct IntegerRange {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
};

std::optional<double> constantScalar(const Value *value) {
  if (!value || !value->isConstant() || value->constant->numElements() != 1) return std::nullopt;
  return value->constant->elementAsDouble(0);
}

bool isInteger(DType type) { return isSignedInteger(type) || isUnsignedInteger(type); }

// The range of an integer type, as doubles (exact up to 2^53, beyond which only the order counts).
std::pair<double, double> integerTypeRange(DType type) {
  return dispatchArithmetic(type, [](auto tag) {
    using T = typename decltype(tag)::type;
    return std::pair<double, double>(static_cast<double>(std::numeric_limits<T>::lowest()),
                                     static_cast<double>(std::numeric_limits<T>::max()));
  });
}

bool isWhole(double x) { return std::isfinite(x) && std::floor(x) == x; }

// Whether `value` holds whole numbers only, and their bounds: Floor/Ceil/Round give whole
// numbers, Clip with whole bounds and Relu keep them and narrow the range, a Cast from an integer
// type gives that type's range. nullopt when nothing proves it.
std::optional<IntegerRange> integerRangeOf(const Value *value, int depth = 0) {
  const Node *producer = value ? value->producer : nullptr;
  if (!producer || !producer->domain.empty() || depth > 16) return std::nullopt;
  const std::string &op = producer->opType;
  if (op == "Floor" || op == "Ceil" || op == "Round") return IntegerRange{};
  if (op == "Cast") {
    const Value *source = producer->input(0);
    if (!source || !isInteger(source->dtype)) return std::nullopt;
    const auto [lo, hi] = integerTypeRange(source->dtype);
    return IntegerRange{lo, hi};
  }
  if (op != "Clip" && op != "Relu") return std::nullopt;
  std::optional<IntegerRange> range = integerRangeOf(producer->input(0), depth + 1);
  if (!range) return std::nullopt;
  std::optional<double> lo = op == "Relu" ? 0.0 : std::optional<double>(), hi;
  if (op == "Clip") {
    if (producer->opset < 11) {
      lo = producer->attributes.getFloat("min");
      hi = producer->attributes.getFloat("max");
    } else {
      lo = constantScalar(producer->input(1));
      hi = constantScalar(producer->input(2));
      if ((producer->input(1) && !lo) || (producer->input(2) && !hi)) return std::nullopt;
    }
  }
  if ((lo && !isWhole(*lo)) || (hi && !isWhole(*hi))) return std::nullopt;
  if (lo) range->lo = std::max(range->lo, *lo);
  if (hi) range->hi = std::min(range->hi, *hi);
  return range;
}

} // namespace

void removeCastRoundTrips(Graph &graph) {
  for (const auto &node : graph.nodes()) {
    if (node->opType != "Cast" || !node->domain.empty() || node->outputs.size() != 1) continue;
    Value *source = node->input(0);
    Value *integer = node->outputs[0];
    if (!source || !integer) continue;
    // A Cast to the type its input has is the identity (exporters write them).
    // (Kept when it copies a model input to a model output: generated code needs a node there.)
    if (source->dtype == integer->dtype && source->dtype != DType::Undefined &&
        !(graph.isGraphInput(source) && graph.isGraphOutput(integer))) {
      graph.replaceAllUsesWith(integer, source);
      continue;
    }
    if (source->dtype != DType::Float32 || !isInteger(integer->dtype) ||
        graph.isGraphOutput(integer))
      continue;
    const std::optional<IntegerRange> range = integerRangeOf(source);
    if (!range) continue;
    const auto [lo, hi] = integerTypeRange(integer->dtype);
    if (range->lo < lo || range->hi > hi) continue;
    // Every user must be a Cast back to float32, which then returns exactly the source.
    const auto users = graph.users(integer);
    const bool allBack = llvm::all_of(users, [&](const Node *user) {
      return user->opType == "Cast" && user->domain.empty() && user->input(0) == integer &&
             user->outputs.size() == 1 && user->outputs[0] &&
             user->outputs[0]->dtype == DType::Float32;
    });
    if (users.empty() || !allBack) continue;
    for (Node *user : users) graph.replaceAllUsesWith(user->outputs[0], source);
  }
}

} // namespace edgesplit
