#include "interp/Interpreter.h"

#include "ops/OpDef.h"

#include <llvm/ADT/DenseMap.h>

namespace edgesplit {

InferResult inferNode(const Node &node, llvm::ArrayRef<InferInput> inputs) {
  const OpDef *op = node.op;
  if (!op) fail("{}: operator '{}' is not supported by edgesplit", node.describe(), node.opType);
  // Trailing omitted inputs do not count towards the arity.
  int presentInputs = static_cast<int>(node.inputs.size());
  while (presentInputs > 0 && !node.inputs[presentInputs - 1]) --presentInputs;
  if (presentInputs < op->minInputs || presentInputs > op->maxInputs)
    fail("{}: has {} inputs, but the operator takes {} to {}; re-export the model", node.describe(),
         presentInputs, op->minInputs, op->maxInputs);
  const int outputCount = static_cast<int>(node.outputs.size());
  if (outputCount < op->minOutputs || outputCount > op->maxOutputs)
    fail("{}: has {} outputs, but the operator produces {} to {}; re-export the model",
         node.describe(), outputCount, op->minOutputs, op->maxOutputs);

  InferContext ctx(node, inputs);
  InferResult result;
  try {
    op->infer(ctx);
  } catch (const NeedsRuntimeValue &) {
    result.complete = false;
  }
  result.outputs.assign(ctx.outputs().begin(), ctx.outputs().end());
  if (result.complete)
    for (size_t i = 0; i < node.outputs.size(); ++i)
      if (node.outputs[i] && !result.outputs[i].set)
        fail("{}: internal error: shape inference did not set output {}", node.describe(), i);
  return result;
}

llvm::SmallVector<Tensor, 2> evaluateNode(const Node &node, llvm::ArrayRef<const Tensor *> inputs) {
  llvm::SmallVector<InferInput, 4> inferInputs;
  llvm::SmallVector<Shape, 4> shapes(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) {
      inferInputs.push_back({});
      continue;
    }
    shapes[i].assign(inputs[i]->shape().begin(), inputs[i]->shape().end());
    inferInputs.push_back({true, inputs[i]->dtype(), &shapes[i], inputs[i]});
  }
  InferResult inferred = inferNode(node, inferInputs);
  llvm::SmallVector<Tensor, 2> outputs;
  for (const auto &output : inferred.outputs)
    outputs.emplace_back(output.set ? Tensor(output.dtype, output.shape) : Tensor());
  KernelContext ctx(node, inputs, outputs);
  node.op->run(ctx);
  return outputs;
}

std::vector<Tensor> Interpreter::run(llvm::ArrayRef<Tensor> inputs) const {
  if (inputs.size() != graph_.inputs.size())
    fail("internal error: model takes {} inputs, got {}", graph_.inputs.size(), inputs.size());

  llvm::DenseMap<const Value *, const Tensor *> known;
  std::vector<std::unique_ptr<Tensor>> produced; // owns intermediate results
  for (const auto &value : graph_.values())
    if (value->isConstant()) known[value.get()] = value->constant.get();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value *input = graph_.inputs[i];
    if (inputs[i].dtype() != input->dtype)
      fail("internal error: input '{}': expected {} data, got {}", input->name,
           dtypeName(input->dtype), dtypeName(inputs[i].dtype()));
    if (input->shape && llvm::ArrayRef<int64_t>(*input->shape) != inputs[i].shape())
      fail("internal error: input '{}': expected shape {}, got {}", input->name,
           formatShape(*input->shape), formatShape(inputs[i].shape()));
    known[input] = &inputs[i];
  }

  for (const auto &node : graph_.nodes()) {
    llvm::SmallVector<const Tensor *, 4> nodeInputs;
    for (const Value *value : node->inputs) {
      const Tensor *tensor = value ? known.lookup(value) : nullptr;
      if (value && !tensor)
        fail("internal error: {}: input '{}' is used before it is computed", node->describe(),
             value->name);
      nodeInputs.push_back(tensor);
    }
    llvm::SmallVector<Tensor, 2> outputs = evaluateNode(*node, nodeInputs);
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      const Value *value = node->outputs[i];
      if (!value) continue;
      produced.push_back(std::make_unique<Tensor>(std::move(outputs[i])));
      known[value] = produced.back().get();
      if (observer_) observer_(*value, *produced.back());
    }
  }

  std::vector<Tensor> results;
  for (const GraphOutput &output : graph_.outputs) {
    const Tensor *tensor = known.lookup(output.value);
    if (!tensor) fail("internal error: output '{}' is never computed", output.name);
    results.push_back(*tensor);
  }
  return results;
}

} // namespace edgesplit
