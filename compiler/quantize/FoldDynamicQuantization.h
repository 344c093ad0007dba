// onnxruntime's dynamic quantisation (quantize_dynamic, "IntegerOps"): every MatMul or Conv became
//   DynamicQuantizeLinear(x) -> MatMulInteger / ConvInteger(x_q, W_q, x_zero, W_zero)
//     -> Cast(float) -> Mul(by Mul(x_scale, W_scale))
// with the activation's parameters computed at run time from its range. A microcontroller has no
// use for that: this pass turns each such layer back into the float MatMul or Conv of x with the
// dequantised weights W_scale * (W_q - W_zero), so that the model compiles like a float one
// (float32 as is, int8 with --calibration for the activations). The result differs from
// onnxruntime's by its run-time rounding of x (half a step of x's range / 255 per element).
// Layers of another form are left alone (and DynamicQuantizeLinear is then refused).
#pragma once

#include "ir/Graph.h"

namespace edgesplit {

void foldDynamicQuantization(Graph &graph);

// What is said of a DynamicQuantizeLinear this pass left (after "node '...'
// (DynamicQuantizeLinear): ").
inline constexpr const char *kDynamicQuantizationRefusal =
    "dynamic quantisation is supported only as onnxruntime writes it (DynamicQuantizeLinear -> "
    "MatMulInteger or ConvInteger with constant weights -> Cast(float) -> Mul by Mul(x_scale, "
    "constant weight scale)); quantise statically (QDQ/QOperator) or pass the float model with "
    "--calibration";

} // namespace edgesplit
