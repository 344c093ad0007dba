#include "ops/Layout.h"

#include "codegen/LowerContext.h"

#include <numeric>

namespace edgesplit::ops {
namespace {
// Output axis i is input axis perm[i]; the default reverses the axes.
std::vector<int64_t> permutation(const NodeContext &ctx, int64_t rank) {
  std::vector<int64_t> reversed(static_cast<size_t>(rank));
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  std::vector<int64_t> perm = ctx.attrInts("perm", reversed);
  if (static_cast<int64_t>(perm.size()) != rank)
    ctx.fail("perm has {} entries, the input has rank {}", perm.size(), rank);
  std::vector<bool> used(static_cast<size_t>(rank), false);
  for (int64_t axis : perm) {
    if (axis < 0 || axis >= rank || used[static_cast<size_t>(axis)])
      ctx.fail("perm {} is not a permutation of 0..{}", formatShape(perm), rank - 1);
    used[static_cast<size_t>(axis)] = true;
  }
  return perm;
}

void infer(InferContext &ctx) {
  const llvm::ArrayRef<int64_t> inputShape = ctx.inputShape(0);
  Shape shape;
  for (int64_t axis : permutation(ctx, ctx.inputRank(0)))
    shape.push_back(inputShape[static_cast<size_t>(axis)]);
  ctx.setOutput(0, ctx.inputType(0), shape);
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  Tensor &output = ctx.output(0);
  // Walking the output in order reads the input along permuted strides.
  const Shape inputStrides = stridesOf(input.shape());
  StridedLayout reading;
  for (int64_t axis : permutation(ctx, static_cast<int64_t>(input.rank())))
    reading.strides.push_back(inputStrides[static_cast<size_t>(axis)]);
  copyStrided(input, reading, output, denseLayout(output.shape()), output.shape());
}

// The kernels are 4-D: a lower rank gains leading size-1 axes that the permutation leaves alone.
template <typename P> P transposeParams(const LowerContext &ctx) {
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  P p{};
  kernelShape4D(ctx, shape, p.in_shape);
  const std::vector<int64_t> perm = permutation(ctx, static_cast<int64_t>(shape.size()));
  const size_t leading = ES_MAX_RANK - perm.size();
  for (size_t axis = 0; axis < ES_MAX_RANK; ++axis)
    p.perm[axis] = static_cast<int32_t>(axis < leading ? axis : perm[axis - leading] + leading);
  return p;
}

void lower(LowerContext &ctx) {
  if (!ctx.isInt8()) {
    ctx.call<es_transpose_f32_params_t>(
        "es_transpose_f32", transposeParams<es_transpose_f32_params_t>(ctx),
        {ctx.input(0), ctx.output()},
        [](const es_transpose_f32_params_t &p, const KernelArgs &a) {
          es_transpose_f32(&p, a.in<float>(1), a.out<float>(2));
        },
        "transpose");
    return;
  }
  checkUnchangedQuant(ctx);
  ctx.call<es_transpose_s8_params_t>(
      "es_transpose_s8", transposeParams<es_transpose_s8_params_t>(ctx),
      {ctx.input(0), ctx.output()},
      [](const es_transpose_s8_params_t &p, const KernelArgs &a) {
        es_transpose_s8(&p, a.in<int8_t>(1), a.out<int8_t>(2));
      },
      "transpose");
}
} // namespace

extern const OpDef kTranspose{.name = "Transpose", .infer = infer, .run = run,
                              .quantize = annotateSameAsInput, .lower = lower};

} // namespace edgesplit::ops
