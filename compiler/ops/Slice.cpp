#include "ops/Layout.h"

#include "codegen/LowerContext.h"

#include <algorithm>
#include <numeric>

namespace edgesplit::ops {
namespace {
// Per input axis: the first element taken, the step between taken elements, and how many.
struct SlicePlan {
  Shape starts, steps, counts;
};

// Opsets before 10 give starts/ends/axes as attributes and have no steps; later ones take
// inputs (data, starts, ends, axes?, steps?).
template <typename Context>
SlicePlan planSlice(const Context &ctx, llvm::ArrayRef<int64_t> shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  auto starts = attrOrInputInts(ctx, "starts", 1, 10);
  auto ends = attrOrInputInts(ctx, "ends", 2, 10);
  if (!starts || !ends) ctx.fail("needs both starts and ends");
  auto axes = attrOrInputInts(ctx, "axes", 3, 10);
  std::vector<int64_t> steps(starts->size(), 1);
  if (ctx.opset() >= 10 && ctx.hasInput(4)) steps = intListInput(ctx, 4);
  if (!axes) {
    axes.emplace(starts->size());
    std::iota(axes->begin(), axes->end(), 0);
  }
  if (ends->size() != starts->size() || axes->size() != starts->size() ||
      steps.size() != starts->size())
    ctx.fail("starts, ends, axes and steps have {}, {}, {} and {} entries; they must match",
             starts->size(), ends->size(), axes->size(), steps.size());

  // Axes not mentioned are taken whole.
  SlicePlan plan{Shape(rank, 0), Shape(rank, 1), Shape(shape.begin(), shape.end())};
  const std::vector<int64_t> normalizedAxes = normalizeAxes(ctx, *axes, rank);
  for (size_t i = 0; i < normalizedAxes.size(); ++i) {
    const int64_t axis = normalizedAxes[i];
    const int64_t dim = shape[axis], step = steps[i];
    if (step == 0) ctx.fail("steps must not be 0 (axis {})", axis);
    // Negative positions count from the end; then clamp like Python slicing, where a backward
    // slice may end at -1, i.e. just before the first element. Adding dim to a negative int64
    // cannot overflow.
    int64_t start = (*starts)[i] < 0 ? (*starts)[i] + dim : (*starts)[i];
    int64_t end = (*ends)[i] < 0 ? (*ends)[i] + dim : (*ends)[i];
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
    } else {
      // Not std::clamp: on an empty axis the bounds cross, and the slice is empty anyway.
      start = std::min<int64_t>(std::max<int64_t>(start, 0), dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
    }
    // Whole steps, rounded up. Dividing by the step itself, not its magnitude, cannot overflow;
    // both positions are within [-1, dim], so neither can the span.
    const int64_t span = step > 0 ? end - start : start - end;
    const int64_t count =
        span <= 0 ? 0 : (step > 0 ? (span - 1) / step : -((span - 1) / step)) + 1;
    plan.starts[axis] = start;
    // A step only matters when taken twice; dropping huge unused ones keeps strides in range.
    plan.steps[axis] = count > 1 ? step : 1;
    plan.counts[axis] = count;
  }
  return plan;
}

void infer(InferContext &ctx) {
  ctx.setOutput(0, ctx.inputType(0), planSlice(ctx, ctx.inputShape(0)).counts);
}

// Walking the output in order reads the input from the first taken element along the steps.
StridedLayout reading(const SlicePlan &plan, llvm::ArrayRef<int64_t> inputShape) {
  const Shape inputStrides = stridesOf(inputShape);
  StridedLayout layout;
  for (size_t axis = 0; axis < inputShape.size(); ++axis) {
    layout.offset += plan.starts[axis] * inputStrides[axis];
    layout.strides.push_back(plan.steps[axis] * inputStrides[axis]);
  }
  return layout;
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  Tensor &output = ctx.output(0);
  const SlicePlan plan = planSlice(ctx, input.shape());
  copyStrided(input, reading(plan, input.shape()), output, denseLayout(output.shape()),
              output.shape());
}

void lower(LowerContext &ctx) {
  const SlicePlan plan = planSlice(ctx, ctx.inputShape(0));
  lowerStridedCopy(ctx, plan.counts, reading(plan, ctx.inputShape(0)), denseLayout(plan.counts));
}
} // namespace

extern const OpDef kSlice{.name = "Slice", .maxInputs = 5, .infer = infer, .run = run,
                          .quantize = annotateSameAsInput, .lower = lower};

} // namespace edgesplit::ops
