// What a kernel call's loops do, counted from its lowering: the features the targets' measured
// kernel_costs weigh (tools/calibrate-costs fits the weights per kernel function under QEMU).
#pragma once

#include "codegen/Program.h"

#include <llvm/ADT/StringMap.h>

#include <string_view>
#include <utility>
#include <vector>

namespace edgesplit {

// Feature name and value, in a fixed order per kind of call. The names (all listed by
// costFeatureNames) are those of a target's kernel_costs entries and of the report's
// per-layer `cost_features`.
using CostFeatures = std::vector<std::pair<std::string_view, double>>;

// The features of one call, from its runtime parameter struct where the kernel has one (loop
// bounds: MACs, output pixels and rows, window taps inside the input, taps of windows that
// overlap the padding, rows padded to the SIMD bodies' blocks, ...), else from its tensors'
// element counts. A copy (view, memcpy) has none.
CostFeatures costFeatures(const KernelCall &call);

// Every name costFeatures can return, for checking a target's kernel_costs.
const std::vector<std::string_view> &costFeatureNames();

// Sets each call's inputZeroShares from the shares of exact zeros measured per value name
// (zeroShares in quantize/Calibration.h); an activation the samples never reached (one a pass
// created) counts as without zeros.
void setInputZeroShares(Program &program, const llvm::StringMap<double> &shares);

} // namespace edgesplit
