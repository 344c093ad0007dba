#include "ir/Verifier.h"

#include "interp/Interpreter.h"
#include "ops/OpDef.h"

#include <llvm/ADT/DenseSet.h>

namespace edgesplit {

void verifyGraph(const Graph &graph, const VerifyOptions &options, std::string_view afterPass) {
  const std::string where = afterPass.empty()
                                ? fmt::format("{}", graph.sourcePath)
                                : fmt::format("{} (after pass {})", graph.sourcePath, afterPass);
  auto check = [&](bool condition, std::string_view format, const auto &...args) {
    if (!condition)
      fail("{}: invalid graph: {}", where, fmt::vformat(format, fmt::make_format_args(args...)));
  };

  llvm::DenseSet<const Value *> available;
  for (const auto &value : graph.values()) {
    if (!value->isConstant()) continue;
    check(value->producer == nullptr, "constant '{}' also has a producer", value->name);
    check(value->dtype == value->constant->dtype() && value->shape &&
              llvm::ArrayRef<int64_t>(*value->shape) == value->constant->shape(),
          "constant '{}' is declared {} {} but holds {} {}", value->name,
          dtypeName(value->dtype), value->shape ? formatShape(*value->shape) : "[?]",
          dtypeName(value->constant->dtype()), formatShape(value->constant->shape()));
    available.insert(value.get());
  }
  for (const Value *input : graph.inputs) {
    check(input->producer == nullptr && !input->isConstant(),
          "graph input '{}' is produced or constant", input->name);
    check(input->dtype != DType::Undefined, "graph input '{}' has no element type", input->name);
    available.insert(input);
  }

  for (const auto &node : graph.nodes()) {
    check(!options.requireSupportedOps || node->op != nullptr,
          "{} uses an operator edgesplit does not support", node->describe());
    for (const Value *input : node->inputs)
      check(!input || available.contains(input),
            "{} reads '{}' before anything produces it", node->describe(), input->name);
    llvm::SmallVector<InferInput, 4> inferInputs;
    for (const Value *input : node->inputs) {
      if (!input) {
        inferInputs.push_back({});
        continue;
      }
      inferInputs.push_back({true, input->dtype, input->shape ? &*input->shape : nullptr,
                             input->constant.get()});
    }
    for (const Value *output : node->outputs) {
      if (!output) continue;
      check(output->producer == node.get(), "'{}' names the wrong producer", output->name);
      check(!output->isConstant(), "'{}' is both computed and constant", output->name);
      check(available.insert(output).second, "'{}' is produced twice", output->name);
    }
    if (!node->op) continue;
    // The recorded types must be what the op's own rule gives (when statically known).
    InferResult inferred = inferNode(*node, inferInputs);
    if (!inferred.complete) continue;
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      const Value *output = node->outputs[i];
      if (!output) continue;
      const auto &expected = inferred.outputs[i];
      check(output->dtype == expected.dtype && output->shape &&
                llvm::ArrayRef<int64_t>(*output->shape) == llvm::ArrayRef<int64_t>(expected.shape),
            "{} output '{}' is recorded as {} {} but the op gives {} {}", node->describe(),
            output->name, dtypeName(output->dtype),
            output->shape ? formatShape(*output->shape) : "[?]", dtypeName(expected.dtype),
            formatShape(expected.shape));
    }
  }
  for (const GraphOutput &output : graph.outputs)
    check(output.value && available.contains(output.value), "graph output '{}' is never computed",
          output.name);
}

} // namespace edgesplit
