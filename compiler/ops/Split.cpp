#include "ops/Layout.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

#include <limits>

namespace edgesplit::ops {
namespace {
// The length of each part along `axis`: the split attribute (input from opset 13), else equal
// parts. One rule for inference, the kernel and the lowering.
template <typename Context>
std::vector<int64_t> splitSizes(const Context &ctx, llvm::ArrayRef<int64_t> inputShape,
                                int64_t axis) {
  const int64_t length = inputShape[axis];
  const int64_t parts = static_cast<int64_t>(ctx.numOutputs());
  std::vector<int64_t> sizes;
  if (auto split = attrOrInputInts(ctx, "split", 1, 13)) {
    sizes = std::move(*split);
    if (static_cast<int64_t>(sizes.size()) != parts)
      ctx.fail("split {} has {} entries for {} outputs", formatShape(sizes), sizes.size(), parts);
    int64_t total = 0;
    for (int64_t size : sizes) {
      if (size < 0) ctx.fail("split {} has a negative size", formatShape(sizes));
      if (__builtin_add_overflow(total, size, &total)) ctx.fail("split sizes overflow");
    }
    if (total != length)
      ctx.fail("split {} adds up to {}, but axis {} has size {}", formatShape(sizes), total, axis,
               length);
  } else {
    if (length % parts != 0)
      ctx.fail("axis {} of size {} does not split into {} equal parts", axis, length, parts);
    sizes.assign(static_cast<size_t>(parts), length / parts);
  }
  return sizes;
}

int64_t splitAxis(const NodeContext &ctx, llvm::ArrayRef<int64_t> inputShape) {
  return ctx.normalizeAxis(ctx.attrInt("axis", 0), static_cast<int64_t>(inputShape.size()));
}

void infer(InferContext &ctx) {
  const llvm::ArrayRef<int64_t> inputShape = ctx.inputShape(0);
  const int64_t axis = splitAxis(ctx, inputShape);
  const std::vector<int64_t> sizes = splitSizes(ctx, inputShape, axis);
  Shape shape(inputShape.begin(), inputShape.end());
  for (size_t i = 0; i < sizes.size(); ++i) {
    shape[axis] = sizes[i];
    ctx.setOutput(i, ctx.inputType(0), shape);
  }
}

// Walks the parts: `copy(i, part shape, its layout in the input)` for each output, each reading
// the next stretch of the axis.
template <typename Context, typename Copy>
void forEachPart(const Context &ctx, llvm::ArrayRef<int64_t> inputShape, Copy copy) {
  const int64_t axis = splitAxis(ctx, inputShape);
  StridedLayout reading = denseLayout(inputShape);
  Shape part(inputShape.begin(), inputShape.end());
  const std::vector<int64_t> sizes = splitSizes(ctx, inputShape, axis);
  for (size_t i = 0; i < sizes.size(); ++i) {
    part[axis] = sizes[i];
    copy(i, part, reading);
    reading.offset += sizes[i] * reading.strides[axis];
  }
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  forEachPart(ctx, input.shape(), [&](size_t i, const Shape &part, const StridedLayout &from) {
    copyStrided(input, from, ctx.output(i), denseLayout(part), part);
  });
}

// int8: every part keeps the input's parameters.
void quantize(QuantizeContext &ctx) {
  for (size_t i = 0; i < ctx.numOutputs(); ++i)
    if (ctx.hasOutput(i)) ctx.annotateOutputSameAsInput(i, 0);
}

// One strided copy per part the model uses.
void lower(LowerContext &ctx) {
  forEachPart(ctx, ctx.inputShape(0), [&](size_t i, const Shape &part, const StridedLayout &from) {
    if (ctx.hasOutput(i)) lowerStridedCopy(ctx, part, from, denseLayout(part), i);
  });
}
} // namespace

extern const OpDef kSplit{.name = "Split", .maxInputs = 2,
                          .maxOutputs = std::numeric_limits<int>::max(), .infer = infer,
                          .run = run, .quantize = quantize, .lower = lower};

} // namespace edgesplit::ops
