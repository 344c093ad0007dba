// The inverse of absorb-qdq: every value annotated with quantisation parameters gets them back as
// ONNX QuantizeLinear/DequantizeLinear nodes, so the model can be written out (--emit-qdq) and
// run by onnxruntime exactly as edgesplit quantised it — an independent check of the int8 path.
#pragma once

#include "codegen/Program.h"
#include "ir/Graph.h"

namespace edgesplit {

// Constants become their quantised storage (int8 weights, int32 biases) behind a
// DequantizeLinear; activations get a QuantizeLinear -> DequantizeLinear pair that every
// consumer (and a graph output, under its own name) reads instead. Parameters are written as
// int8 zero points (docs/int8.md). Per-axis parameters need opset 13 or newer: the caller
// imports the model converted to it (ImportOptions::upgradeToOpset). The int8 ops whose float
// form onnxruntime would round differently become the integer steps the C runs: LSTM and GRU
// (rescaling with `rounding`, EmitRecurrentQdq.h), linear Resize (ResizeBlendQdq.h) and Softmax.
void insertQdq(Graph &graph, S8Rounding rounding);

// Each int8 Softmax between a DequantizeLinear and a QuantizeLinear becomes the integer steps its
// kernel computes (docs/int8.md "Softmax"), as Cast, ReduceMax, Gather, ReduceSum and integer
// Mul/Div, so onnxruntime on the file gives the C's bits where a float Softmax would round some
// probabilities the other way.
void spellOutInt8Softmax(Graph &graph);

} // namespace edgesplit
