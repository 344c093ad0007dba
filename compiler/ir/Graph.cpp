#include "ir/Graph.h"

#include "support/Error.h"

#include <llvm/ADT/DenseSet.h>

#include <fmt/format.h>

#include <algorithm>

namespace edgesplit {

std::string Node::describe() const {
  return fmt::format("node '{}' ({})", name, opType);
}

Value *Graph::createValue(std::string valueName, DType dtype) {
  if (valuesByName_.count(valueName))
    fail("two tensors are named '{}'; rename one of them in the model", valueName);
  auto value = std::make_unique<Value>();
  value->name = std::move(valueName);
  value->dtype = dtype;
  Value *raw = value.get();
  valuesByName_[raw->name] = raw;
  values_.push_back(std::move(value));
  return raw;
}

Value *Graph::createConstant(std::string valueName, Tensor tensor) {
  Value *value = createValue(std::move(valueName), tensor.dtype());
  value->shape = Shape(tensor.shape().begin(), tensor.shape().end());
  value->constant = std::make_shared<const Tensor>(std::move(tensor));
  return value;
}

Value *Graph::findValue(llvm::StringRef valueName) const {
  auto it = valuesByName_.find(valueName);
  return it == valuesByName_.end() ? nullptr : it->second;
}

std::string Graph::uniqueName(llvm::StringRef base) const {
  if (!valuesByName_.count(base)) return base.str();
  for (int suffix = 1;; ++suffix) {
    std::string candidate = fmt::format("{}_{}", base.str(), suffix);
    if (!valuesByName_.count(candidate)) return candidate;
  }
}

Node *Graph::appendNode(std::unique_ptr<Node> node) {
  for (Value *output : node->outputs)
    if (output) output->producer = node.get();
  nodes_.push_back(std::move(node));
  return nodes_.back().get();
}

Node *Graph::insertNodeBefore(const Node *position, std::unique_ptr<Node> node) {
  for (Value *output : node->outputs)
    if (output) output->producer = node.get();
  auto it = std::find_if(nodes_.begin(), nodes_.end(),
                         [&](const auto &candidate) { return candidate.get() == position; });
  return nodes_.insert(it, std::move(node))->get();
}

void Graph::eraseNode(Node *node) {
  for (Value *output : node->outputs)
    if (output && output->producer == node) output->producer = nullptr;
  llvm::erase_if(nodes_, [&](const auto &candidate) { return candidate.get() == node; });
}

llvm::SmallVector<Node *, 4> Graph::users(const Value *value) const {
  llvm::SmallVector<Node *, 4> result;
  for (const auto &node : nodes_)
    if (llvm::is_contained(node->inputs, value)) result.push_back(node.get());
  return result;
}

bool Graph::isGraphOutput(const Value *value) const {
  return llvm::any_of(outputs, [&](const GraphOutput &output) { return output.value == value; });
}

bool Graph::isGraphInput(const Value *value) const { return llvm::is_contained(inputs, value); }

void Graph::replaceAllUsesWith(Value *from, Value *to) {
  for (auto &node : nodes_)
    for (Value *&input : node->inputs)
      if (input == from) input = to;
  for (GraphOutput &output : outputs)
    if (output.value == from) output.value = to;
}

void Graph::removeUnusedValues() {
  llvm::DenseSet<const Value *> live;
  for (Value *input : inputs) live.insert(input);
  for (const GraphOutput &output : outputs) live.insert(output.value);
  for (const auto &node : nodes_) {
    for (Value *input : node->inputs) live.insert(input);
    for (Value *output : node->outputs) live.insert(output);
  }
  llvm::erase_if(values_, [&](const std::unique_ptr<Value> &value) {
    if (live.contains(value.get())) return false;
    valuesByName_.erase(value->name);
    return true;
  });
}

int64_t Graph::parameterCount() const {
  int64_t count = 0;
  for (const auto &value : values_)
    if (value->isConstant()) count += value->constant->numElements();
  return count;
}

int64_t Graph::parameterBytes() const {
  int64_t bytes = 0;
  for (const auto &value : values_)
    if (value->isConstant()) bytes += static_cast<int64_t>(value->constant->byteSize());
  return bytes;
}

} // namespace edgesplit
