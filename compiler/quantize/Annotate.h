// int8 annotation: every float activation gets per-tensor parameters and every weight/bias
// constant its per-channel ones (Value::quant), following each op's rule (OpDef::quantize) and the
// calibrated ranges. Values that already carry parameters (pre-quantised models, after
// absorb-qdq) keep them, so both kinds of model reach lowering the same way.
#pragma once

#include "ops/OpDef.h"
#include "quantize/Calibration.h"

namespace edgesplit {

using ValueRanges = llvm::DenseMap<const Value *, ValueRange>;

class QuantizeContext : public NodeContext {
public:
  QuantizeContext(Node &node, Graph &graph, const ValueRanges &ranges)
      : NodeContext(node), mutableNode_(node), graph_(graph), ranges_(ranges) {}

  bool hasInput(size_t index) const { return mutableNode_.input(index) != nullptr; }

  // Output `index` from its calibrated range. When a Relu/Clip will fuse into this node
  // (codegen/FuseActivations.h), the activation's range is used instead, so the fused clamp and
  // the separate activation quantise alike.
  void annotateOutputFromRange(size_t index);
  // Output `index` takes input `input`'s parameters: ops that move values without changing them
  // (max pool, reshape, transpose, pad...), so no rescaling is needed.
  void annotateOutputSameAsInput(size_t index, size_t input);
  // Fixed parameters (softmax, sigmoid: 1/256 and -128; tanh: 1/128 and 0).
  void annotateOutputFixed(size_t index, double scale, int32_t zeroPoint);
  // Constant input `input` as symmetric int8 weights, one scale per slice along `channelAxis`.
  void annotateWeights(size_t input, int64_t channelAxis);
  // Constant input `input` as an int32 bias of scale S(dataInput) * S(weightInput)[c].
  void annotateBias(size_t input, size_t dataInput, size_t weightInput);
  // Constant input `input`, an operand of an element-wise op, per tensor in its own range: on the
  // value, so --emit-qdq writes the int8 values the kernel reads.
  void annotateConstantOperand(size_t input);
  // Constant input `input` in output `output`'s parameters (annotated before): a Concat's learned
  // token, which then joins the output unchanged.
  void annotateConstantAsOutput(size_t input, size_t output);

private:
  Value &outputValue(size_t index) const;
  // Gives constant input `input` the parameters `params` its role here needs (see the .cpp).
  void setConstantParams(size_t input, QuantParams params);
  Node &mutableNode_;
  Graph &graph_;
  const ValueRanges &ranges_;
};

// Annotates `graph` in execution order. Fails, naming the value, when an output needs a range
// that calibration did not provide (a float model compiled to int8 without --calibration).
void annotateQuantization(Graph &graph, const ValueRanges &ranges);
// Its three steps, for a caller that goes on past a failing node (codegen/CodegenCheck.h): the
// graph inputs, each node in execution order, then the requantising copies after value-moving
// ops whose given output parameters differ from their input's.
void annotateGraphInputs(Graph &graph, const ValueRanges &ranges);
void annotateNode(Graph &graph, Node &node, const ValueRanges &ranges);
void insertRequantisations(Graph &graph);

} // namespace edgesplit
