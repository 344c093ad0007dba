#include "ops/Layout.h"

#include <limits>

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const llvm::ArrayRef<int64_t> inputShape = ctx.inputShape(0);
  const int64_t axis = ctx.normalizeAxis(ctx.attrInt("axis", 0), ctx.inputRank(0));
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

  Shape shape(inputShape.begin(), inputShape.end());
  for (size_t i = 0; i < sizes.size(); ++i) {
    shape[axis] = sizes[i];
    ctx.setOutput(i, ctx.inputType(0), shape);
  }
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  const int64_t axis = ctx.normalizeAxis(ctx.attrInt("axis", 0), input.rank());
  // The outputs' shapes already hold the split sizes: each reads the next stretch of the axis.
  StridedLayout reading = denseLayout(input.shape());
  for (size_t i = 0; i < ctx.numOutputs(); ++i) {
    Tensor &output = ctx.output(i);
    copyStrided(input, reading, output, denseLayout(output.shape()), output.shape());
    reading.offset += output.dim(axis) * reading.strides[axis];
  }
}
} // namespace

extern const OpDef kSplit{.name = "Split", .maxInputs = 2,
                          .maxOutputs = std::numeric_limits<int>::max(), .infer = infer,
                          .run = run};

} // namespace edgesplit::ops
