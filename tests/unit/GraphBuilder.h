// Builds small graphs by hand for unit tests.
#pragma once

#include "ir/Graph.h"
#include "ops/OpDef.h"
#include "passes/Passes.h"

#include <initializer_list>
#include <string>

namespace edgesplit::testing {

class GraphBuilder {
public:
  GraphBuilder() { graph_->sourcePath = "test.onnx"; }

  Value *input(const std::string &name, DType dtype, std::initializer_list<int64_t> shape) {
    Value *value = graph_->createValue(name, dtype);
    value->shape = Shape(shape);
    graph_->inputs.push_back(value);
    return value;
  }
  Value *input(const std::string &name, DType dtype, llvm::ArrayRef<int64_t> shape) {
    Value *value = graph_->createValue(name, dtype);
    value->shape = Shape(shape.begin(), shape.end());
    graph_->inputs.push_back(value);
    return value;
  }
  Value *constant(const std::string &name, Tensor tensor) {
    return graph_->createConstant(name, std::move(tensor));
  }
  // Appends `opType` reading `inputs` and producing fresh values named `outputs`; the op is
  // resolved from the registry (opset 13) and output types come from the op's own rule.
  Node *node(const std::string &opType, std::initializer_list<Value *> inputs,
             std::initializer_list<std::string> outputs, AttributeMap attributes = {}) {
    auto node = std::make_unique<Node>();
    node->opType = opType;
    node->name = opType + "_" + std::to_string(graph_->nodes().size());
    node->opset = 13;
    node->inputs.assign(inputs.begin(), inputs.end());
    for (const std::string &name : outputs) node->outputs.push_back(graph_->createValue(name));
    node->attributes = std::move(attributes);
    node->op = findOp("", opType);
    return graph_->appendNode(std::move(node));
  }
  void output(Value *value) { graph_->outputs.push_back({value->name, value}); }
  Value *value(const std::string &name) const { return graph_->findValue(name); }

  // Infers shapes and returns the finished graph.
  std::unique_ptr<Graph> finish() {
    inferShapes(*graph_);
    return std::move(graph_);
  }

private:
  std::unique_ptr<Graph> graph_ = std::make_unique<Graph>();
};

inline AttributeMap attrs(std::initializer_list<std::pair<std::string, AttributeValue>> entries) {
  AttributeMap map;
  for (const auto &[name, value] : entries) map.set(name, value);
  return map;
}

inline Tensor floats(std::initializer_list<int64_t> shape, std::initializer_list<float> values) {
  return Tensor::fromVector<float>(Shape(shape), llvm::ArrayRef<float>(values.begin(), values.end()));
}

} // namespace edgesplit::testing
