// Integer-deployable graphs (NEMO/DORY exports) requantise between layers in float:
// Conv/Gemm/MatMul -> Mul(M) -> Div(D) -> Floor -> Clip(lo, hi) [-> Cast round trip, removed by
// normalisation]. For int8 the chain folds into the layer: M / D scales its weights and bias, and
// Floor becomes the layer's own rounding on an integer grid (docs/int8.md).
#pragma once

#include "ir/Graph.h"

namespace edgesplit {

// Rewrites every such chain; the Clip's output keeps its name and value (calibrated ranges stay
// valid). A Floor -> Clip with no layer to fold into gets the integer grid as its parameters, so
// that it and the scalar Mul/Div before it (their own rule) lose nothing.
void foldRequantChains(Graph &graph);

} // namespace edgesplit
