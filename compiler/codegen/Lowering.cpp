#include "codegen/Lowering.h"

#include "codegen/LowerContext.h"

#include <llvm/ADT/SmallPtrSet.h>

namespace edgesplit {
namespace {

ProgramPort makePort(const Graph &graph, std::string name, const Value &value,
                     Precision precision) {
  if (!value.shape)
    fail("{}: '{}' has no static shape; pass --input-shape {}=DIMS", graph.sourcePath, name,
         name);
  if (value.isConstant())
    fail("{}: output '{}' is a constant; nothing to generate code for", graph.sourcePath, name);
  if (value.dtype == DType::Bool)
    fail("{}: output '{}' is bool (a comparison's mask); generated code keeps a mask only for a "
         "Where to read; Cast it to float in the model",
         graph.sourcePath, name);
  ProgramPort port;
  port.name = std::move(name);
  port.value = &value;
  port.shape = *value.shape;
  if (precision == Precision::Int8 && isIndexOutput(graph, value)) {
    port.scale = 1.0f;
    port.zeroPoint = kInt8IndexZeroPoint;
  } else if (precision == Precision::Int8) {
    if (!value.quant || value.quant->scales.size() != 1)
      fail("{}: '{}' has no int8 parameters: compile with --calibration, or give a quantised "
           "model",
           graph.sourcePath, port.name);
    port.scale = value.quant->scales[0];
    port.zeroPoint = value.quant->zeroPoints.empty() ? 0 : value.quant->zeroPoints[0];
  }
  return port;
}

// A whole-number tensor that generated code keeps as float32: made by a Cast from float32 to an
// integer type and read only by Casts back to float32 (a truncation PyTorch and integer-deployable
// exports write). Float32 holds every value such a Cast of a float32 can give, so nothing is
// lost; integer arithmetic on it would wrap where float does not, hence only Casts may read it.
bool isCastRoundTripValue(const Graph &graph, const Value &value) {
  const Node *producer = value.producer;
  if (!producer || producer->opType != "Cast" || !producer->domain.empty() ||
      !producer->input(0) || producer->input(0)->dtype != DType::Float32 ||
      graph.isGraphOutput(&value))
    return false;
  const auto users = graph.users(&value);
  return !users.empty() && llvm::all_of(users, [](const Node *user) {
    return user->opType == "Cast" && user->domain.empty() && user->outputs.size() == 1 &&
           user->outputs[0] && user->outputs[0]->dtype == DType::Float32;
  });
}

} // namespace

bool isIndexOutput(const Graph &graph, const Value &value) {
  const Node *producer = value.producer;
  return producer && producer->opType == "ArgMax" && producer->domain.empty() &&
         value.dtype == DType::Int64 && graph.isGraphOutput(&value) && graph.users(&value).empty();
}

bool isComparisonMask(const Value &value) {
  static constexpr std::string_view kComparisons[] = {"Equal", "Greater", "GreaterOrEqual", "Less",
                                                      "LessOrEqual"};
  const Node *producer = value.producer;
  if (value.dtype != DType::Bool || !producer || !producer->domain.empty()) return false;
  // A Not of a mask is a mask (PyTorch's x >= t before opset 12).
  if (producer->opType == "Not") return producer->input(0) && isComparisonMask(*producer->input(0));
  return llvm::is_contained(kComparisons, producer->opType);
}

void lowerPorts(const Graph &graph, Program &program) {
  for (const Value *input : graph.inputs)
    program.inputs.push_back(makePort(graph, input->name, *input, program.precision));
  for (const GraphOutput &output : graph.outputs)
    program.outputs.push_back(makePort(graph, output.name, *output.value, program.precision));
}

void lowerNode(const Graph &graph, const Node &node, Program &program,
               const llvm::DenseMap<const Node *, ActivationClamp> &fused,
               llvm::SmallPtrSetImpl<const Value *> &fakeQuantized) {
  const NodeContext nodeContext(node);
  if (!node.op || !node.op->lower)
    nodeContext.fail("code generation does not support {} yet (supported by the reference "
                     "interpreter only)",
                     node.opType);
  for (const Value *value : node.outputs) {
    if (!value) continue;
    if (!value->shape)
      nodeContext.fail("output '{}' has no static shape; pass --input-shape", value->name);
    if (value->dtype != DType::Float32 && !isCastRoundTripValue(graph, *value) &&
        !isIndexOutput(graph, *value) &&
        !(isComparisonMask(*value) && !graph.isGraphOutput(value)))
      nodeContext.fail("output '{}' is {} at run time; generated code computes float32 "
                       "tensors (int8 when quantised) only",
                       value->name, dtypeName(value->dtype));
  }
  auto clamp = fused.find(&node);
  LowerContext context(node, program,
                       clamp == fused.end() ? std::nullopt
                                            : std::optional<ActivationClamp>(clamp->second));
  // A pre-quantised model compiled to float keeps its quantisation as fake quantisation.
  const Precision precision = program.precision;
  if (precision == Precision::Float32) {
    for (const Value *input : node.inputs)
      if (input && input->quant && graph.isGraphInput(input) && fakeQuantized.insert(input).second)
        context.fakeQuantize(*input);
  }
  node.op->lower(context);
  if (precision == Precision::Float32)
    for (const Value *output : node.outputs)
      if (output && output->quant) context.fakeQuantize(*output);
}

Program lowerGraph(const Graph &graph, Precision precision, KernelIsa isa, S8Rounding rounding,
                   llvm::ArrayRef<const Node *> order,
                   const llvm::DenseMap<const Node *, ActivationClamp> &fused) {
  Program program;
  program.precision = precision;
  program.isa = isa;
  program.rounding = rounding;
  lowerPorts(graph, program);
  llvm::SmallPtrSet<const Value *, 4> fakeQuantized;
  for (const Node *node : order) lowerNode(graph, *node, program, fused, fakeQuantized);
  return program;
}

} // namespace edgesplit
