#include "ops/MatMulCore.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (!isMatMulType(type)) ctx.fail("input type {} is not supported", dtypeName(type));
  if (ctx.inputType(1) != type)
    ctx.fail("inputs have different types ({} and {})", dtypeName(type),
             dtypeName(ctx.inputType(1)));
  ctx.setOutput(0, type, matMulShape(ctx, ctx.inputShape(0), ctx.inputShape(1)).output);
}

template <typename T>
void multiply(const MatMulShape &shape, const Tensor &a, const Tensor &b, Tensor &out) {
  // Floats accumulate in double and round once; integers wrap like numpy, which unsigned 64-bit
  // arithmetic does without signed-overflow UB.
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
  T *result = out.data<T>();
  batchedMatMul<Acc>(shape, a.data<T>(), b.data<T>(),
                     [&](int64_t index, Acc sum) { result[index] = static_cast<T>(sum); });
}

void run(KernelContext &ctx) {
  const Tensor &a = ctx.input(0);
  const Tensor &b = ctx.input(1);
  Tensor &out = ctx.output(0);
  const MatMulShape shape = matMulShape(ctx, a.shape(), b.shape());
  if (a.dtype() == DType::Float16 || a.dtype() == DType::BFloat16) {
    Tensor wide(DType::Float32, out.shape());
    multiply<float>(shape, a.castTo(DType::Float32), b.castTo(DType::Float32), wide);
    out = wide.castTo(a.dtype());
    return;
  }
  dispatchArithmetic(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    multiply<T>(shape, a, b, out);
  });
}
} // namespace

extern const OpDef kMatMul{.name = "MatMul", .minInputs = 2, .maxInputs = 2, .infer = infer,
                           .run = run, .macs = matMulMacs};

} // namespace edgesplit::ops
