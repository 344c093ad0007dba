#include "ir/Verifier.h"

#include "interp/Interpreter.h"
#include "ops/OpDef.h"

#include <llvm/ADT/DenseSet.h>

namespace edgesplit {

void verifyGraph(const Graph &graph, const VerifyOptions &options, std::string_view afterPass) {
  const std::string where = afterPass.empty()
                                ? fmt::format("{}", graph.sourcePath)
                                : fmt::format("{} (after pass {})", graph.sourcePath, afterPass);
  // Message arguments are evaluated only once a check failed: they may dereference what the
  // check just found missing.
  auto invalid = [&](std::string_view format, const auto &...args) {
    fail("{}: invalid graph: {}", where, fmt::vformat(format, fmt::make_format_args(args...)));
  };

  llvm::DenseSet<const Value *> available;
  for (const auto &value : graph.values()) {
    if (!value->isConstant()) continue;
    if (value->producer != nullptr) invalid("constant '{}' also has a producer", value->name);
    if (!(value->dtype == value->constant->dtype() && value->shape &&
          llvm::ArrayRef<int64_t>(*value->shape) == value->constant->shape()))
      invalid("constant '{}' is declared {} {} but holds {} {}", value->name,
              dtypeName(value->dtype), value->shape ? formatShape(*value->shape) : "[?]",
              dtypeName(value->constant->dtype()), formatShape(value->constant->shape()));
    available.insert(value.get());
  }
  for (const Value *input : graph.inputs) {
    if (input->producer != nullptr || input->isConstant())
      invalid("graph input '{}' is produced or constant", input->name);
    if (input->dtype == DType::Undefined)
      invalid("graph input '{}' has no element type", input->name);
    available.insert(input);
  }

  for (const auto &node : graph.nodes()) {
    if (options.requireSupportedOps && node->op == nullptr)
      invalid("{} uses an operator edgesplit does not support", node->describe());
    for (const Value *input : node->inputs)
      if (input && !available.contains(input))
        invalid("{} reads '{}' before anything produces it", node->describe(), input->name);
    llvm::SmallVector<InferInput, 4> inferInputs;
    for (const Value *input : node->inputs) {
      if (!input) {
        inferInputs.push_back({});
        continue;
      }
      inferInputs.push_back(
          {true, input->dtype, input->shape ? &*input->shape : nullptr, input->constant.get()});
    }
    for (const Value *output : node->outputs) {
      if (!output) continue;
      if (output->producer != node.get()) invalid("'{}' names the wrong producer", output->name);
      if (output->isConstant()) invalid("'{}' is both computed and constant", output->name);
      if (!available.insert(output).second) invalid("'{}' is produced twice", output->name);
    }
    // Nothing to check against where an unsupported op (only `inspect` loads those) left an
    // input of unknown type.
    if (!node->op || llvm::any_of(node->inputs, [](const Value *v) {
          return v && v->dtype == DType::Undefined;
        }))
      continue;
    // The recorded types must be what the op's own rule gives (when statically known).
    InferResult inferred = inferNode(*node, inferInputs);
    if (!inferred.complete) continue;
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      const Value *output = node->outputs[i];
      if (!output) continue;
      const auto &expected = inferred.outputs[i];
      // No recorded shape is not a wrong one: ONNX's inference, all the importer records, may
      // leave dimensions open that edgesplit's own (the infer-shapes pass) then fills, e.g. an
      // opset 9 Slice's on a batch-symbolic input.
      if (!(output->dtype == expected.dtype &&
            (!output->shape ||
             llvm::ArrayRef<int64_t>(*output->shape) == llvm::ArrayRef<int64_t>(expected.shape))))
        invalid("{} output '{}' is recorded as {} {} but the op gives {} {}", node->describe(),
                output->name, dtypeName(output->dtype),
                output->shape ? formatShape(*output->shape) : "[?]", dtypeName(expected.dtype),
                formatShape(expected.shape));
    }
  }
  for (const GraphOutput &output : graph.outputs)
    if (!output.value || !available.contains(output.value))
      invalid("graph output '{}' is never computed", output.name);
}

} // namespace edgesplit
