// From a device graph to its Program: activations fused, every node lowered by its op's hook in
// the planned execution order, and the input/output ports with their int8 parameters.
#pragma once

#include "codegen/FuseActivations.h"
#include "codegen/Program.h"

#include <llvm/ADT/SmallPtrSet.h>

namespace edgesplit {

// An index a graph output holds (ArgMax's int64 result, read by nothing else): generated code
// writes it in the program's element type, a float, or in int8 the code index + this zero point
// at scale 1 (indices 0 to 255), which the output port's parameters say.
constexpr int32_t kInt8IndexZeroPoint = -128;
bool isIndexOutput(const Graph &graph, const Value &value);
// A bool mask of a comparison (Greater, Less, GreaterOrEqual, LessOrEqual, Equal, or a Not of
// one), which
// generated code keeps as one element of the program's type per value, 1 or 0, for a Where to
// read; as a graph output it is refused (codegen-dtype).
bool isComparisonMask(const Value &value);

// `order` holds every node of `graph` (the memory plan's). Fails naming the first node whose op
// has no lowering or whose shapes are not static. `rounding` is the build's int8 rule: the
// kernels' and the tables' the lowering computes.
Program lowerGraph(const Graph &graph, Precision precision, KernelIsa isa, S8Rounding rounding,
                   llvm::ArrayRef<const Node *> order,
                   const llvm::DenseMap<const Node *, ActivationClamp> &fused);

// lowerGraph's steps, for a caller that goes on past a failing node (codegen/CodegenCheck.h):
// the input/output ports of `program` (whose precision, isa and rounding are set), then each node
// in order.
// `fakeQuantized` collects the graph inputs a float32 lowering has fake-quantised already.
void lowerPorts(const Graph &graph, Program &program);
void lowerNode(const Graph &graph, const Node &node, Program &program,
               const llvm::DenseMap<const Node *, ActivationClamp> &fused,
               llvm::SmallPtrSetImpl<const Value *> &fakeQuantized);

} // namespace edgesplit
