// Building the integer steps --emit-qdq writes in place of an int8 op whose float form onnxruntime
// would round differently (EmitRecurrentQdq.cpp, EmitSoftmaxQdq.cpp).
#pragma once

#include "ir/Graph.h"
#include "ops/OpDef.h"

#include <fmt/format.h>

#include <map>
#include <string_view>
#include <vector>

namespace edgesplit {

// Emits int64 ONNX nodes in front of one node of the graph, each named after its output, which
// is named after that node.
class IntegerBuilder {
public:
  IntegerBuilder(Graph &graph, const Node &position)
      : graph_(graph), position_(position), prefix_(position.name + "/") {}

  llvm::SmallVector<Value *, 4> emitMany(std::string_view opType, llvm::ArrayRef<Value *> inputs,
                                         std::string_view name, size_t outputs,
                                         AttributeMap attributes = {}, DType type = DType::Int64) {
    llvm::SmallVector<Value *, 4> results;
    for (size_t i = 0; i < outputs; ++i)
      results.push_back(graph_.createValue(graph_.uniqueName(prefix_ + std::string(name)), type));
    insert(opType, inputs, results, results.front()->name, std::move(attributes));
    return results;
  }
  // A node writing an existing value: the spelled-out op's own output keeps its name in the file.
  void emitInto(std::string_view opType, llvm::ArrayRef<Value *> inputs, Value *output,
                AttributeMap attributes = {}) {
    insert(opType, inputs, {output}, prefix_ + "to_" + output->name, std::move(attributes));
  }
  Value *emit(std::string_view opType, llvm::ArrayRef<Value *> inputs, std::string_view name,
              AttributeMap attributes = {}, DType type = DType::Int64) {
    return emitMany(opType, inputs, name, 1, std::move(attributes), type).front();
  }

  Value *constant(std::string_view name, Tensor tensor) {
    return graph_.createConstant(graph_.uniqueName(prefix_ + std::string(name)), std::move(tensor));
  }
  // Small constants are made once per layer, by value (every time step reuses them).
  Value *scalar(int64_t value) {
    auto [it, added] = scalars_.try_emplace(value, nullptr);
    if (added) it->second = constant(fmt::format("c{}", value), Tensor::scalar<int64_t>(value));
    return it->second;
  }
  Value *ints(std::string_view name, llvm::ArrayRef<int64_t> values) {
    auto [it, added] = vectors_.try_emplace(values.vec(), nullptr);
    if (added)
      it->second = constant(
          name, Tensor::fromVector<int64_t>({static_cast<int64_t>(values.size())}, values));
    return it->second;
  }
  // One value per element of the last axis: a scalar when they are all equal.
  Value *perRow(std::string_view name, llvm::ArrayRef<int64_t> values) {
    if (llvm::all_of(values, [&](int64_t v) { return v == values.front(); }))
      return scalar(values.front());
    return ints(name, values);
  }

  Value *add(Value *a, Value *b, std::string_view name) { return emit("Add", {a, b}, name); }
  Value *sub(Value *a, Value *b, std::string_view name) { return emit("Sub", {a, b}, name); }
  Value *mul(Value *a, Value *b, std::string_view name) { return emit("Mul", {a, b}, name); }
  // Integer Div truncates toward zero (as C99's `/`).
  Value *div(Value *a, Value *b, std::string_view name) { return emit("Div", {a, b}, name); }
  // fmod = 0: the remainder takes the divisor's sign (floor modulo).
  Value *mod(Value *a, Value *b, std::string_view name) {
    AttributeMap attributes;
    attributes.set("fmod", int64_t{0});
    return emit("Mod", {a, b}, name, std::move(attributes));
  }
  Value *clip(Value *x, int64_t lo, int64_t hi, std::string_view name) {
    return emit("Clip", {x, scalar(lo), scalar(hi)}, name);
  }
  Value *matmul(Value *a, Value *b, std::string_view name) { return emit("MatMul", {a, b}, name); }
  // `negative` where x < 0, else `positive`.
  Value *bySign(Value *x, Value *negative, Value *positive, std::string_view name) {
    Value *isNegative =
        emit("Less", {x, scalar(0)}, std::string(name) + "_negative", {}, DType::Bool);
    return emit("Where", {isNegative, negative, positive}, name);
  }
  Value *cast(Value *x, DType type, std::string_view name) {
    AttributeMap attributes;
    attributes.set("to", static_cast<int64_t>(type));
    return emit("Cast", {x}, name, std::move(attributes), type);
  }
  Value *transpose(Value *x, std::vector<int64_t> perm, std::string_view name, DType type) {
    AttributeMap attributes;
    attributes.set("perm", std::move(perm));
    return emit("Transpose", {x}, name, std::move(attributes), type);
  }
  Value *unsqueeze(Value *x, int64_t axis, std::string_view name) {
    return emit("Unsqueeze", {x, ints(std::string(name) + "_axes", {axis})}, name);
  }
  Value *squeeze(Value *x, int64_t axis, std::string_view name) {
    return emit("Squeeze", {x, ints(std::string(name) + "_axes", {axis})}, name);
  }
  Value *concat(llvm::ArrayRef<Value *> parts, int64_t axis, std::string_view name) {
    AttributeMap attributes;
    attributes.set("axis", axis);
    return emit("Concat", parts, name, std::move(attributes));
  }
  // Equal parts along `axis`, or parts of the given sizes.
  llvm::SmallVector<Value *, 4> split(Value *x, int64_t axis, size_t parts, std::string_view name,
                                      llvm::ArrayRef<int64_t> sizes = {}) {
    AttributeMap attributes;
    attributes.set("axis", axis);
    llvm::SmallVector<Value *, 2> inputs{x};
    if (!sizes.empty()) inputs.push_back(ints(std::string(name) + "_sizes", sizes));
    return emitMany("Split", inputs, name, parts, std::move(attributes));
  }

private:
  void insert(std::string_view opType, llvm::ArrayRef<Value *> inputs,
              llvm::ArrayRef<Value *> outputs, std::string name, AttributeMap attributes) {
    auto node = std::make_unique<Node>();
    node->opType = std::string(opType);
    node->name = std::move(name);
    node->opset = graph_.opset;
    node->inputs.assign(inputs.begin(), inputs.end());
    node->outputs.assign(outputs.begin(), outputs.end());
    node->attributes = std::move(attributes);
    node->op = findOp("", opType);
    graph_.insertNodeBefore(&position_, std::move(node));
  }

  Graph &graph_;
  const Node &position_;
  std::string prefix_;
  // Ordered maps: nothing depends on their iteration, but lookups stay deterministic.
  std::map<int64_t, Value *> scalars_;
  std::map<std::vector<int64_t>, Value *> vectors_;
};

} // namespace edgesplit
