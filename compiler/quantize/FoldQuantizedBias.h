// A constant Add or Sub after a quantised layer folds into its int32 bias when that is exact.
#pragma once

#include "ir/Graph.h"

namespace edgesplit {

// After absorbQdq: a Conv, ConvTranspose, Gemm or 2-D MatMul with quantised input and weights
// whose float result (not quantised itself) goes only to an Add (or Sub) of a constant, one value
// or one per output channel, whose result is quantised. The constant joins the layer's int32
// bias, in its grid Sb[c] (the bias's own scale, else Sx * Sw[c]), only when each channel's value
// is a whole number of steps: round(c / Sb[c]) * Sb[c] == c in float32, as a DequantizeLinear of
// the new bias would give. The layer then writes the Add's quantised result directly; anything
// else (a constant between grid steps, a layer output quantised before the Add) stays as it is.
void foldQuantizedBias(Graph &graph);

} // namespace edgesplit
