// --emit-qdq of an int8 linear Resize: the file computes the blend the C computes, bit for bit
// (docs/int8.md "Resize"). A float32 DequantizeLinear -> Resize -> QuantizeLinear, as insertQdq
// writes it, blends the dequantised values in float32 and lands the many exact halves of a scale
// of 2 or 0.75 either way in onnxruntime, where the kernel blends the int8 codes with Q20 weights
// and rounds once, ties to even.
#pragma once

#include "ir/Graph.h"

namespace edgesplit {

// Rewrites every linear Resize that reads a DequantizeLinear of int8 codes (what insertQdq left)
// into the kernel's integer blend spelled out in exact double arithmetic: the codes Cast to
// double, one MatMul per axis with the kernel's own Q20 weights (ops::linearFixedWeightMatrix),
// Mul by 2^-40, Round (half to even), Cast to int8 and a DequantizeLinear in the input's
// parameters, which a linear Resize keeps. Nearest copies codes and cubic already agrees: both
// are left as they are.
void spellOutLinearResizes(Graph &graph);

} // namespace edgesplit
