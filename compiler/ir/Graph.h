// The graph IR every pass works on: Values (tensors) produced and consumed by Nodes, kept in a
// valid execution order. Graph owns everything; Values and Nodes are referenced by pointer.
#pragma once

#include "ir/Attribute.h"
#include "ir/Tensor.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringMap.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgesplit {

struct OpDef;
class Node;

// Affine int8/uint8 quantisation: real = scale * (q - zeroPoint). One entry per tensor, or one per
// slice along `axis` (per-channel).
struct QuantParams {
  llvm::SmallVector<float, 1> scales;
  llvm::SmallVector<int32_t, 1> zeroPoints;
  int64_t axis = -1;            // -1 when per-tensor
  DType storage = DType::Int8;  // Int32 for biases
};

class Value {
public:
  std::string name;
  DType dtype = DType::Undefined;
  // Static shape; nullopt while it depends on run-time data (the reference interpreter can still
  // run such graphs, code generation cannot).
  std::optional<Shape> shape;
  std::shared_ptr<const Tensor> constant; // initialisers and folded values
  std::optional<QuantParams> quant;
  Node *producer = nullptr;

  bool isConstant() const { return constant != nullptr; }
  bool hasStaticShape() const { return shape.has_value(); }
};

class Node {
public:
  std::string name;
  std::string opType;
  std::string domain; // "" for the default ONNX domain
  int opset = 0;      // version of `domain` the model imports
  // nullptr marks an omitted optional input/output (ONNX's empty name).
  llvm::SmallVector<Value *, 4> inputs;
  llvm::SmallVector<Value *, 2> outputs;
  AttributeMap attributes;
  const OpDef *op = nullptr; // null when edgesplit does not implement the op

  Value *input(size_t index) const { return index < inputs.size() ? inputs[index] : nullptr; }
  // "node 'conv1' (Conv)" — the prefix of every message about this node.
  std::string describe() const;
};

// A graph output keeps its ONNX name even when passes rewire which Value feeds it.
struct GraphOutput {
  std::string name;
  Value *value = nullptr;
};

class Graph {
public:
  Graph() = default;
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  std::string name;
  std::string sourcePath; // the model file, for error messages
  int opset = 0;          // the default-domain opset the model imports
  std::string producer;   // producer_name and version from the model, for inspect
  llvm::SmallVector<Value *, 4> inputs;
  llvm::SmallVector<GraphOutput, 4> outputs;

  Value *createValue(std::string name, DType dtype = DType::Undefined);
  Value *createConstant(std::string name, Tensor tensor);
  Value *findValue(llvm::StringRef name) const;
  // A name not used by any value yet, derived from `base`.
  std::string uniqueName(llvm::StringRef base) const;

  Node *appendNode(std::unique_ptr<Node> node);
  Node *insertNodeBefore(const Node *position, std::unique_ptr<Node> node);
  void eraseNode(Node *node);

  // Nodes in execution order.
  const std::vector<std::unique_ptr<Node>> &nodes() const { return nodes_; }
  std::vector<std::unique_ptr<Node>> &mutableNodes() { return nodes_; }
  const std::vector<std::unique_ptr<Value>> &values() const { return values_; }

  llvm::SmallVector<Node *, 4> users(const Value *value) const;
  bool isGraphOutput(const Value *value) const;
  bool isGraphInput(const Value *value) const;
  // Rewires every use of `from` (node inputs and graph outputs) to `to`.
  void replaceAllUsesWith(Value *from, Value *to);
  // Drops values nothing produces, consumes or exports, and constant values no one reads.
  void removeUnusedValues();

  int64_t parameterCount() const;
  int64_t parameterBytes() const;

private:
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Value>> values_;
  llvm::StringMap<Value *> valuesByName_;
};

} // namespace edgesplit
