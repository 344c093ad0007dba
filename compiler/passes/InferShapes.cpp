#include "interp/Interpreter.h"
#include "ir/Limits.h"
#include "ops/OpDef.h"
#include "passes/Passes.h"

namespace edgesplit {

void inferNodeShapes(Node &node) {
  if (!node.op) return; // unsupported: keep what ONNX shape inference declared
  // An input of unknown type comes from an unsupported op that ONNX could not type either (only
  // `inspect` loads such models): nothing to infer from, and no error that would be this node's.
  if (llvm::any_of(node.inputs, [](const Value *v) { return v && v->dtype == DType::Undefined; }))
    return;
  llvm::SmallVector<InferInput, 4> inputs;
  for (const Value *input : node.inputs) {
    if (!input) {
      inputs.push_back({});
      continue;
    }
    inputs.push_back({true, input->dtype, input->shape ? &*input->shape : nullptr,
                      input->constant.get()});
  }
  InferResult inferred = inferNode(node, inputs);
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    Value *output = node.outputs[i];
    if (!output || !inferred.outputs[i].set) continue; // data-dependent: keep declared
    // Constant folding allocates what is inferred here: refuse it with the node's name first.
    checkTensorLimits(inferred.outputs[i].dtype, inferred.outputs[i].shape,
                      fmt::format("{}: output '{}'", node.describe(), output->name));
    output->dtype = inferred.outputs[i].dtype;
    output->shape = inferred.outputs[i].shape;
  }
}

void inferShapes(Graph &graph) {
  for (const auto &node : graph.nodes()) inferNodeShapes(*node);
}

} // namespace edgesplit
