#include "ops/Reduction.h"

#include "codegen/LowerContext.h"
#include "codegen/Lowering.h"
#include "ops/Layout.h"

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

// The index is written in the program's element type, as generated code holds only float32 or
// int8 tensors: a float (exact up to 2^24) or, in int8, the code k + kInt8IndexZeroPoint of scale
// 1 (codegen/Lowering.h), which the output port declares; so an int8 ArgMax takes the argmax of
// the codes (the dequantisation is monotonic: the same index) over at most 256 elements.
void lower(LowerContext &ctx) {
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const AxisSplit split = splitAtAxis(shape, reducedAxis(ctx, static_cast<int64_t>(shape.size())));
  const int32_t lastIndex = ctx.attrInt("select_last_index", 0) != 0 ? 1 : 0;
  if (!ctx.isInt8()) {
    if (split.length > (int64_t{1} << 24))
      ctx.fail("float32 code generation writes the index as a float, exact up to 2^24, but the "
               "axis has {} elements; reduce it first",
               split.length);
    const es_argmax_f32_params_t p{kernelInt(ctx, split.outer, "size"),
                                   kernelInt(ctx, split.length, "size"),
                                   kernelInt(ctx, split.inner, "size"), lastIndex};
    ctx.call<es_argmax_f32_params_t>(
        "es_argmax_f32", p, {ctx.input(0), ctx.output()},
        [](const es_argmax_f32_params_t &p, const KernelArgs &a) {
          es_argmax_f32(&p, a.in<float>(1), a.out<float>(2));
        },
        "reduce");
    return;
  }
  if (split.length > 256)
    ctx.fail("int8 code generation writes the index as one int8 code (scale 1, zero point {}), "
             "so the axis may have at most 256 elements, got {}; compile the model for float32",
             kInt8IndexZeroPoint, split.length);
  const es_argmax_s8_params_t p{kernelInt(ctx, split.outer, "size"),
                                kernelInt(ctx, split.length, "size"),
                                kernelInt(ctx, split.inner, "size"), lastIndex,
                                kInt8IndexZeroPoint};
  ctx.call<es_argmax_s8_params_t>(
      "es_argmax_s8", p, {ctx.input(0), ctx.output()},
      [](const es_argmax_s8_params_t &p, const KernelArgs &a) {
        es_argmax_s8(&p, a.in<int8_t>(1), a.out<int8_t>(2));
      },
      "reduce");
}
} // namespace

extern const OpDef kArgMax{.name = "ArgMax", .infer = infer, .run = run, .lower = lower};

} // namespace edgesplit::ops
