// Shared logic of the pooling ops. The windowed pools (MaxPool, AveragePool) slide the window the
// convolution family defines (kernel_shape, strides, dilations, pads, auto_pad) plus ceil_mode, and
// walk it with forEachWindow() from ConvGeometry.h; the global pools are reductions.
#pragma once

#include "ops/ConvGeometry.h"
#include "ops/Reduction.h"

namespace edgesplit::ops {

// One windowed pool over X [N, C, D1..Dn], attributes resolved: pads explicit, output known.
struct PoolGeometry {
  ConvWindow window;
  int64_t batch = 0;    // N
  int64_t channels = 0; // C
  Shape inputSize;      // D1..Dn
  Shape outputSize;

  // The [D1..Dn] planes, one per (n, c), which are all pooled alike.
  int64_t planes() const { return batch * channels; }
  Shape outputShape() const; // [N, C, outputSize...]
};

// Reads and checks the window attributes and ceil_mode against `inputShape`. Every window is
// guaranteed to reach at least one input element, so kernels never pool an empty window.
PoolGeometry resolvePoolGeometry(const NodeContext &ctx, llvm::ArrayRef<int64_t> inputShape);

// GlobalAveragePool and GlobalMaxPool: X [N, C, D...] reduced over every spatial axis to
// [N, C, 1...].
void inferGlobalPool(InferContext &ctx);
void runGlobalPool(KernelContext &ctx, Reduction kind);

} // namespace edgesplit::ops
