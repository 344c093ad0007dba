// --emit-qdq for LSTM and GRU. ONNX has no integer recurrent op, and a float LSTM or GRU between
// quantisers computes other numbers than the integer cell of docs/int8.md ("LSTM and GRU"): each
// int8 layer is written out as that cell, in standard ONNX ops on int64 codes (MatMul, Mul, Div,
// Mod, Where, Clip, Gather on the gate tables, the time steps unrolled), from the operands its
// lowering builds, so that onnxruntime on the file computes the C's integers.
#pragma once

#include "codegen/Program.h"
#include "ir/Graph.h"

#include <vector>

namespace edgesplit {

struct LoweredRecurrentLayer;

class RecurrentQdqExpansion {
public:
  // Lowers every LSTM and GRU of `graph`, whose values still carry their int8 parameters.
  explicit RecurrentQdqExpansion(Graph &graph);
  ~RecurrentQdqExpansion();

  // Once insertQdq has quantised the layers' inputs and outputs: replaces each layer and its
  // outputs' QuantizeLinear nodes by the integer cell, which reads the int8 input (and initial
  // states) and writes the int8 outputs that their DequantizeLinear nodes read. `rounding` is
  // the build's rule for every requantize (docs/int8.md "Fixed-point rescaling").
  void expand(S8Rounding rounding);

private:
  Graph &graph_;
  std::vector<LoweredRecurrentLayer> layers_;
};

} // namespace edgesplit
