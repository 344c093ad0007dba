// Shared logic of the pooling ops. The windowed pools (MaxPool, AveragePool) slide the window the
// convolution family defines (kernel_shape, strides, dilations, pads, auto_pad) plus ceil_mode, and
// walk it with forEachWindow() from ConvGeometry.h; the global pools are reductions.
#pragma once

#include "ops/ConvGeometry.h"
#include "ops/Reduction.h"

#include "es_s8.h"

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

// --- Code generation ---

// The geometry as runtime-c's 2-D pool kernels take it (P: es_pool2d_{s8,f32}_params_t), a 1-D
// pool being the 2-D one with H = 1; the precision-specific fields are left to the caller. Fails
// for 3-D and wider windows, which have no kernel.
template <typename P> P pool2dParams(const NodeContext &ctx, const PoolGeometry &geometry) {
  const ConvWindow &window = geometry.window;
  const size_t rank = window.spatialRank();
  if (rank < 1 || rank > 2) ctx.fail("code generation supports 1-D and 2-D pools, not {}-D", rank);
  // `missing` is the value of the H axis that a 1-D pool lacks.
  auto at = [&](llvm::ArrayRef<int64_t> values, size_t axis2d, int64_t missing) {
    if (rank == 1) return static_cast<int32_t>(axis2d == 0 ? missing : values[0]);
    return static_cast<int32_t>(values[axis2d]);
  };
  P p{};
  p.batch = static_cast<int32_t>(geometry.batch);
  p.channels = static_cast<int32_t>(geometry.channels);
  p.in_h = at(geometry.inputSize, 0, 1);
  p.in_w = at(geometry.inputSize, 1, 1);
  p.out_h = at(geometry.outputSize, 0, 1);
  p.out_w = at(geometry.outputSize, 1, 1);
  p.kernel_h = at(window.kernel, 0, 1);
  p.kernel_w = at(window.kernel, 1, 1);
  p.stride_h = at(window.strides, 0, 1);
  p.stride_w = at(window.strides, 1, 1);
  p.dilation_h = at(window.dilations, 0, 1);
  p.dilation_w = at(window.dilations, 1, 1);
  p.pad_top = at(window.padsBegin, 0, 0);
  p.pad_left = at(window.padsBegin, 1, 0);
  p.pad_bottom = at(window.padsEnd, 0, 0);
  p.pad_right = at(window.padsEnd, 1, 0);
  return p;
}

// The global pools' X [N, C, D...] as runtime-c walks it: N * C planes of size = prod(D).
struct GlobalPoolPlanes {
  int32_t batch = 0;
  int32_t channels = 0;
  int32_t size = 0;
};
GlobalPoolPlanes globalPoolPlanes(llvm::ArrayRef<int64_t> inputShape);

// The int8 max pool of `window` (zero points and activation range filled in here) from input 0
// to output 0. Values are moved, never rescaled, so it fails unless the output has the input's
// parameters (the MaxPool rule of docs/int8.md).
void lowerMaxPoolS8(LowerContext &ctx, es_pool2d_s8_params_t window, std::string_view kernelClass);

} // namespace edgesplit::ops
