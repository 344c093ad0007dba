// Integer-deployable graphs (NEMO/DORY exports) requantise between layers in float:
// Conv/Gemm/MatMul -> Mul(M) -> Div(D) -> Floor -> Clip(lo, hi) [-> Cast round trip, removed by
// normalisation]. For int8 the chain folds into the layer: M / D scales its weights and bias, and
// Floor becomes the layer's own rounding on an integer grid (docs/int8.md).
#pragma once

#include "ir/Graph.h"

namespace edgesplit {

// Rewrites every such chain; the Clip's output keeps its name and value (calibrated ranges stay
// valid). Chains that do not fit the pattern are left to the per-op lowerings.
void foldRequantChains(Graph &graph);

} // namespace edgesplit
