// Shared machinery of the shape and data-movement ops (Reshape, Flatten, Transpose, Squeeze,
// Unsqueeze, Concat, Split, Slice, Gather, Shape, Pad): integer-list operands that moved from
// attributes to inputs across opsets, axis lists, and element-type-agnostic copies.
#pragma once

#include "ops/OpKit.h"

#include "es_common.h"

#include <optional>

namespace edgesplit {
struct KernelArg;
}

namespace edgesplit::ops {

// An integer-list input (axes, pads, starts...) read the same way by an op's infer and its kernel,
// so one template computes the op's parameters in both phases. Inference checks the element type
// and throws NeedsRuntimeValue when the value is only known at run time; the kernel runs after a
// successful inference and trusts it.
inline std::vector<int64_t> intListInput(const InferContext &ctx, size_t index) {
  return readInt64s(ctx, index);
}
inline std::vector<int64_t> intListInput(const KernelContext &ctx, size_t index) {
  return ctx.input(index).toInt64Vector();
}
// Code generation needs the list at compile time: the input must be a constant.
std::vector<int64_t> intListInput(const LowerContext &ctx, size_t index);

// An integer list that opsets before `firstInputOpset` carry as attribute `name` and later ones as
// input `index`; nullopt when the model omits it. Giving it the other way is a model error.
template <typename Context>
std::optional<std::vector<int64_t>> attrOrInputInts(const Context &ctx, std::string_view name,
                                                    size_t index, int firstInputOpset) {
  if (ctx.opset() < firstInputOpset) {
    if (ctx.hasInput(index))
      ctx.fail("'{}' is an attribute before opset {}, not input {}", name, firstInputOpset, index);
    if (!ctx.hasAttr(name)) return std::nullopt;
    return ctx.attrInts(name);
  }
  if (ctx.hasAttr(name))
    ctx.fail("'{}' is input {} from opset {} on, not an attribute", name, index, firstInputOpset);
  if (!ctx.hasInput(index)) return std::nullopt;
  return intListInput(ctx, index);
}

// Normalises possibly negative axes against `rank`, keeping their order; fails on repeats.
std::vector<int64_t> normalizeAxes(const NodeContext &ctx, llvm::ArrayRef<int64_t> axes,
                                   int64_t rank, std::string_view what = "axes");

// Where element (i0, i1, ...) of an N-d block lives in a tensor: at offset + sum(i_k * strides[k]),
// counted in elements. Strides may be negative (reversed slices) or permuted (transposes).
struct StridedLayout {
  int64_t offset = 0;
  Shape strides;
};

// The dense row-major layout of a whole tensor of `shape`.
StridedLayout denseLayout(llvm::ArrayRef<int64_t> shape);

// Copies the block of `extent` elements laid out as `from` in `source` to the place laid out as
// `to` in `destination` (same element type). Works on bytes, so it serves every dtype.
void copyStrided(const Tensor &source, const StridedLayout &from, Tensor &destination,
                 const StridedLayout &to, llvm::ArrayRef<int64_t> extent);

// Kernel of the ops that only relabel the shape (Reshape, Flatten, Squeeze, Unsqueeze): the
// elements stay in order, the output takes the shape inference gave it.
void runReshapeLike(KernelContext &ctx);

// --- Code generation ---

// A dimension or count as the kernels' int32_t; fails naming `what` when it does not fit.
int32_t kernelInt(const NodeContext &ctx, int64_t value, std::string_view what);

// `shape` as the 4-D shape of the layout and broadcasting kernels: right-aligned, missing leading
// dimensions 1. Fails above 4-D and on empty or too large dimensions.
void kernelShape4D(const NodeContext &ctx, llvm::ArrayRef<int64_t> shape,
                   int32_t (&result)[ES_MAX_RANK]);

// Adds one es_strided_copy_f32/_s8 call (int8: the output keeps input 0's parameters) that
// moves the block of `extent` laid out as `from` in input 0 to `to` in output `output`: the same
// copy copyStrided makes in the reference kernel. Blocks of up to 4-D (Slice, Gather, Split).
void lowerStridedCopy(LowerContext &ctx, llvm::ArrayRef<int64_t> extent, const StridedLayout &from,
                      const StridedLayout &to, size_t output = 0);
// The same copy from `source`, `sourceElements` long: an activation, or a constant array (float32
// programs; int8 ones quantise the constant to the output's parameters themselves).
void lowerStridedCopyOf(LowerContext &ctx, const KernelArg &source, int64_t sourceElements,
                        llvm::ArrayRef<int64_t> extent, const StridedLayout &from,
                        const StridedLayout &to, size_t output);

// The ops that move int8 values without rescaling them (Pad, Transpose, the views): the output
// takes the input's parameters.
void annotateSameAsInput(QuantizeContext &ctx);
// Fails when a pre-quantised model gives such an op output parameters other than its input's.
void checkUnchangedQuant(const LowerContext &ctx, size_t output = 0);

// Reshape, Flatten, Squeeze, Unsqueeze: the bytes stay as they are (no code when the planner
// aliases the buffers).
void lowerView(LowerContext &ctx);

} // namespace edgesplit::ops
