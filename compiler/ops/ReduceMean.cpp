#include "ops/Reduction.h"

#include "codegen/LowerContext.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace edgesplit::ops {
namespace {
// Opset 18 moved the axes from an attribute to an optional input.
constexpr int kAxesInputOpset = 18;

void infer(InferContext &ctx) { inferReduceOp(ctx, kAxesInputOpset); }
void run(KernelContext &ctx) { runReduceOp(ctx, kAxesInputOpset, Reduction::Mean); }

// The reduced axes as inferReduceOp() reads them, the axes input having to be a constant.
llvm::SmallVector<bool, 6> reducedAxes(const LowerContext &ctx, size_t rank) {
  const std::vector<int64_t> axes =
      ctx.opset() < kAxesInputOpset
          ? ctx.attrInts("axes")
          : (ctx.hasInput(1) ? ctx.constantInput(1).toInt64Vector() : std::vector<int64_t>{});
  const bool noopWithoutAxes = ctx.attrInt("noop_with_empty_axes", 0) != 0;
  llvm::SmallVector<bool, 6> reduced(rank, axes.empty() && !noopWithoutAxes);
  for (int64_t axis : axes)
    reduced[ctx.normalizeAxis(axis, static_cast<int64_t>(rank), "axes value")] = true;
  return reduced;
}

// The input as the kernels' [outer, reduce, inner]. Axes of size 1 may sit on either side of the
// reduced block, so only the others must be adjacent.
struct ReduceSplit {
  int64_t outer = 1;
  int64_t reduce = 1;
  int64_t inner = 1;
};

ReduceSplit reduceSplit(const LowerContext &ctx, llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<bool> reduced) {
  enum class Part { Outer, Reduced, Inner } part = Part::Outer;
  ReduceSplit split;
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (shape[axis] == 1) continue;
    if (reduced[axis]) {
      if (part == Part::Inner) {
        std::vector<size_t> axes;
        for (size_t i = 0; i < reduced.size(); ++i)
          if (reduced[i]) axes.push_back(i);
        ctx.fail("code generation needs the reduced axes to be adjacent (axes of size 1 aside); "
                 "axes [{}] of shape {} are not; transpose them next to each other first",
                 fmt::join(axes, ", "), formatShape(shape));
      }
      part = Part::Reduced;
      split.reduce *= shape[axis];
    } else {
      if (part == Part::Reduced) part = Part::Inner;
      (part == Part::Outer ? split.outer : split.inner) *= shape[axis];
    }
  }
  return split;
}

void lower(LowerContext &ctx) {
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const ReduceSplit split = reduceSplit(ctx, shape, reducedAxes(ctx, shape.size()));
  if (!ctx.isInt8()) {
    es_reduce_mean_f32_params_t p{};
    p.outer = static_cast<int32_t>(split.outer);
    p.reduce = static_cast<int32_t>(split.reduce);
    p.inner = static_cast<int32_t>(split.inner);
    std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
    ctx.call<es_reduce_mean_f32_params_t>(
        "es_reduce_mean_f32", p, {ctx.input(0), ctx.output()},
        [](const es_reduce_mean_f32_params_t &p, const KernelArgs &a) {
          es_reduce_mean_f32(&p, a.in<float>(1), a.out<float>(2));
        },
        "reduce");
    return;
  }
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  es_reduce_mean_s8_params_t p{};
  p.outer = static_cast<int32_t>(split.outer);
  p.reduce = static_cast<int32_t>(split.reduce);
  p.inner = static_cast<int32_t>(split.inner);
  p.input_zp = in.zeroPoint;
  p.output_zp = out.zeroPoint;
  p.requant = ctx.requant(in.scale / (split.reduce * out.scale));
  std::tie(p.act_min, p.act_max) = ctx.int8ActivationRange(out);
  ctx.call<es_reduce_mean_s8_params_t>(
      "es_reduce_mean_s8", p, {ctx.input(0), ctx.output()},
      [](const es_reduce_mean_s8_params_t &p, const KernelArgs &a) {
        es_reduce_mean_s8(&p, a.in<int8_t>(1), a.out<int8_t>(2));
      },
      "reduce");
}
} // namespace

extern const OpDef kReduceMean{.name = "ReduceMean", .maxInputs = 2, .infer = infer, .run = run,
                               .lower = lower, .fusesActivation = true};

} // namespace edgesplit::ops
