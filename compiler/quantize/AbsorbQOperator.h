// QOperator models quantise inside their ops (QLinearConv, QLinearMatMul) or leave the rescale of
// integer ops (ConvInteger, MatMulInteger) to float nodes after them. This pass rewrites both into
// the QDQ form, so that absorbQdq, which runs it first, turns every pre-quantised model into the
// same annotated float graph.
#pragma once

#include "ir/Graph.h"

namespace edgesplit {

// Rewrites in place, keeping every value that a model output or a later node reads:
// - QLinearConv / QLinearMatMul -> Conv / MatMul of the DequantizeLinear'd input, weights and
//   int32 bias (scale x_scale * w_scale), then QuantizeLinear(y_scale, y_zero_point);
// - ConvInteger / MatMulInteger whose input comes from a QuantizeLinear with constant parameters
//   and whose result goes Cast(float) -> Mul(constant a_scale * w_scale) [-> Add(constant bias)]
//   -> Conv / MatMul (Gemm when the bias folds into it) of the DequantizeLinear'd input and
//   weights, producing the Mul's (Add's) value;
// - ops that only move values (MaxPool, Reshape, Transpose, ...) applied to a quantised tensor ->
//   the same op between a DequantizeLinear and a QuantizeLinear with that tensor's parameters, so
//   every QuantizeLinear meets its DequantizeLinear.
// Weights with a zero point other than 0 (after uint8 -> int8) become float constants, which
// annotation re-quantises symmetrically per channel (docs/int8.md); so does the bias that uses
// their scales. Fails naming the node on DynamicQuantizeLinear and on QOperator nodes it cannot
// rewrite.
void expandQOperators(Graph &graph);

// Rewrites onnxruntime's QOperator ops of domain com.microsoft (QLinearAdd, QLinearMul,
// QLinearAveragePool, QLinearGlobalAveragePool, QLinearSoftmax, QLinearSigmoid, QLinearLeakyRelu,
// QLinearConcat) into DequantizeLinear -> the float op -> QuantizeLinear (with Transposes around
// the float op for channels_last=1), which is what they compute up to rounding. Runs when a model
// is loaded, so the interpreter, inspect and compile all see standard ops; absorbQdq then absorbs
// the QDQ pairs as for any QDQ model. Fails naming the node when its inputs do not fit the op.
void expandContribQOperators(Graph &graph);

// Whether `node` is one of the com.microsoft ops expandContribQOperators rewrites.
bool isContribQOperator(const Node &node);

// Whether `node` only moves or compares values (MaxPool, Reshape, Transpose, ...), so that its
// int8 outputs keep its first input's parameters (docs/int8.md).
bool movesValuesOnly(const Node &node);

// Whether `node` is one of the QOperator ops expandQOperators rewrites.
bool isQOperator(const Node &node);

} // namespace edgesplit
