// Pre-quantised (QDQ) models carry their scales as QuantizeLinear/DequantizeLinear nodes;
// QOperator models (QLinearConv, ConvInteger, ...) are first rewritten into that form
// (AbsorbQOperator.h). This pass moves the scales onto the values (Value::quant) and removes the
// nodes, so calibrated and pre-quantised models reach the int8 lowering in the same form: a float
// graph whose values say how they are quantised.
#pragma once

#include "ir/Graph.h"

namespace edgesplit {

// - QOperator nodes become Q/DQ around float ops (expandQOperators), then:
// - DequantizeLinear of a constant (weights, int32 bias) becomes a float constant holding the
//   dequantised values, annotated with the model's scales and zero points.
// - QuantizeLinear -> DequantizeLinear pairs with identical parameters around an activation are
//   removed; the activation is annotated with those parameters (a graph output fed by such a
//   pair keeps its name and is the annotated float value).
// uint8 parameters map to int8 per docs/int8.md (zero point - 128). Q/DQ nodes that form no such
// pattern (e.g. an int8 model output) stay.
void absorbQdq(Graph &graph);

// absorbQdq for an int8 compile, which then folds what the absorbed pairs hid: a LayerNorm written
// as primitives with a QDQ pair on every step (onnxruntime's quantiser) becomes one
// LayerNormalization, its output keeping the model's parameters and its steps' parameters dropped
// with them (docs/int8.md). A float32 compile runs the steps, fake-quantised as the model says.
void absorbQdqForInt8(Graph &graph);

// The node that alone reads `value`, as its first input, and has one output, when `value` is no
// graph output; nullptr otherwise.
const Node *soleReader(const Graph &graph, const Value &value);

// The parameters a pre-quantised model gives `value` further on, when it quantises only after a
// Relu/Clip or an op that only moves values (DQ -> Conv -> Relu -> Q, as tf2onnx and PyTorch write
// it; DQ -> Conv -> MaxPool -> Q): quantisation is monotonic, so quantising before them with the
// parameters they keep is exact, and a Relu/Clip then fuses into the producer as a clamp.
// `value`'s own parameters when it has them; nullopt when the model gives none this way.
std::optional<QuantParams> givenParamsDownstream(const Graph &graph, const Value &value);

// Whether the model carries its own quantisation (so int8 needs no calibration data).
bool isPreQuantized(const Graph &graph);

// Whether a pre-quantised model was quantised for kernels that rescale with one rounding, as
// onnxruntime's QLinear kernels and PyTorch's quantised kernels do (float multiplier, round to
// nearest): its producer is onnxruntime's quantiser ("onnx.quantize") or PyTorch's exporter.
// Other pre-quantised models (TFLite's, converted by tf2onnx or tflite2onnx, and unknown
// producers) are taken to be made for TFLite's double rounding (docs/int8.md).
bool quantizedForSingleRounding(const Graph &graph);

} // namespace edgesplit
