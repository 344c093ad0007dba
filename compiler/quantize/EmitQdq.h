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
// imports the model converted to it (ImportOptions::upgradeToOpset). LSTM and GRU become the
// integer cell the C runs, rescaling with `rounding` (EmitRecurrentQdq.h).
void insertQdq(Graph &graph, S8Rounding rounding);

} // namespace edgesplit
