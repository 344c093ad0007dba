#include "ops/Reduction.h"

namespace edgesplit::ops {
namespace {
int64_t reducedAxis(const NodeContext &ctx, int64_t rank) {
  if (rank == 0) ctx.fail("input must have rank >= 1, got a scalar");
  return ctx.normalizeAxis(ctx.attrInt("axis", 0), rank);
}

void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (type == DType::Bool) ctx.fail("bool input is not supported");
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const int64_t axis = reducedAxis(ctx, static_cast<int64_t>(shape.size()));
  if (shape[axis] == 0) ctx.fail("axis {} is empty: there is no maximum to locate", axis);
  llvm::SmallVector<bool, 6> reduced(shape.size(), false);
  reduced[axis] = true;
  ctx.setOutput(0, DType::Int64, reducedShape(shape, reduced, ctx.attrInt("keepdims", 1) != 0));
}

void run(KernelContext &ctx) {
  Tensor storage;
  const Tensor &data = arithmeticView(ctx.input(0), storage);
  const AxisSplit split =
      splitAtAxis(data.shape(), reducedAxis(ctx, static_cast<int64_t>(data.rank())));
  const bool lastIndex = ctx.attrInt("select_last_index", 0) != 0;
  int64_t *result = ctx.output(0).data<int64_t>();
  dispatchArithmetic(data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t outer = 0; outer < split.outer; ++outer)
      for (int64_t inner = 0; inner < split.inner; ++inner) {
        const T *line = data.data<T>() + outer * split.length * split.inner + inner;
        int64_t best = 0;
        for (int64_t k = 1; k < split.length; ++k) {
          const T candidate = line[k * split.inner], current = line[best * split.inner];
          // On ties the first index wins, or the last one with select_last_index.
          if (lastIndex ? !ranksAbove(current, candidate) : ranksAbove(candidate, current))
            best = k;
        }
        result[outer * split.inner + inner] = best;
      }
  });
}
} // namespace

extern const OpDef kArgMax{.name = "ArgMax", .infer = infer, .run = run};

} // namespace edgesplit::ops
