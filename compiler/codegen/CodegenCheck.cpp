#include "codegen/CodegenCheck.h"

#include "codegen/FuseActivations.h"
#include "codegen/FuseConvGlobalPools.h"
#include "codegen/Lowering.h"
#include "ir/Verifier.h"
#include "quantize/AbsorbQdq.h"
#include "quantize/Annotate.h"
#include "support/Error.h"

#include <llvm/ADT/StringSet.h>

namespace edgesplit {
namespace {

class Recorder {
public:
  explicit Recorder(CodegenCheck &check) : check_(check) {}

  // Runs `step`; a failure is recorded (against `node` when given) and the check goes on.
  template <typename Step> bool attempt(const Node *node, Step &&step) {
    try {
      step();
      return true;
    } catch (const Error &error) {
      check_.errors.push_back(error.what());
      if (node) check_.nodeErrors.try_emplace(node->name, error.what());
      return false;
    }
  }

private:
  CodegenCheck &check_;
};

// Per-tensor parameters for the float outputs a failed annotation left bare, so that the nodes
// after it are checked for their own sake rather than for the missing parameters.
void giveStandInParameters(Node &node) {
  for (Value *output : node.outputs) {
    if (!output || output->quant || output->dtype != DType::Float32) continue;
    QuantParams params;
    params.scales = {1.0f / 128.0f};
    params.zeroPoints = {0};
    output->quant = params;
  }
}

ValueRanges standInRanges(const Graph &graph) {
  ValueRanges ranges;
  for (const auto &value : graph.values())
    if (!value->isConstant() && value->dtype == DType::Float32)
      ranges[value.get()] = ValueRange{-1.0, 1.0};
  return ranges;
}

} // namespace

CodegenCheck checkCodegen(Graph &graph, Precision precision, KernelIsa isa, bool calibrated) {
  CodegenCheck check;
  Recorder recorder(check);
  llvm::StringSet<> before;
  for (const auto &node : graph.nodes()) before.insert(node->name);
  auto noteRemovedNodes = [&](const char *why) {
    llvm::StringSet<> remaining;
    for (const auto &node : graph.nodes()) remaining.insert(node->name);
    for (const auto &name : before)
      if (!remaining.contains(name.getKey()))
        check.absorbedNodes.try_emplace(name.getKey(), why);
    before = std::move(remaining);
  };

  // As prepareInt8 and the float32 compile do: a failure here stops the compile before any node.
  if (!recorder.attempt(nullptr, [&] {
        if (precision == Precision::Int8)
          absorbQdqForInt8(graph);
        else
          absorbQdq(graph);
        verifyGraph(graph);
      })) {
    check.reachedNodes = false;
    return check;
  }
  noteRemovedNodes("absorbed into the parameters of the values around it");

  if (precision == Precision::Int8) {
    const ValueRanges ranges = calibrated ? standInRanges(graph) : ValueRanges{};
    recorder.attempt(nullptr, [&] { annotateGraphInputs(graph, ranges); });
    for (const auto &node : graph.nodes())
      if (!recorder.attempt(node.get(), [&] { annotateNode(graph, *node, ranges); }))
        giveStandInParameters(*node);
    recorder.attempt(nullptr, [&] { insertRequantisations(graph); });
  }

  llvm::DenseMap<const Node *, ActivationClamp> fused;
  if (!recorder.attempt(nullptr, [&] {
        fused = fuseActivations(graph);
        verifyGraph(graph);
      })) {
    check.reachedNodes = false;
    return check;
  }
  noteRemovedNodes("fused into the node that produces its input");
  if (precision == Precision::Int8) {
    if (!recorder.attempt(nullptr, [&] {
          if (fuseConvGlobalPools(graph, fused, isa) > 0)
            verifyGraph(graph, {}, "fuse-conv-global-pools");
        })) {
      check.reachedNodes = false;
      return check;
    }
    noteRemovedNodes("computed by one call with the 1-D convolution and global average pool "
                     "around it");
  }

  Program program;
  program.precision = precision;
  program.isa = isa;
  recorder.attempt(nullptr, [&] { lowerPorts(graph, program); });
  llvm::SmallPtrSet<const Value *, 4> fakeQuantized;
  for (const auto &node : graph.nodes())
    recorder.attempt(node.get(),
                     [&] { lowerNode(graph, *node, program, fused, fakeQuantized); });
  return check;
}

} // namespace edgesplit
