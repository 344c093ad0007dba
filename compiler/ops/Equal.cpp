#include "ops/Binary.h"

namespace edgesplit::ops {
namespace {
// PyTorch writes Equal in its shape arithmetic (expand(-1, ...) compares the requested sizes with
// -1, then Where picks); with static input shapes the whole chain folds to a constant.
void infer(InferContext &ctx) {
  if (ctx.inputType(0) != ctx.inputType(1))
    ctx.fail("inputs have different types (input 0 is {}, input 1 is {}); insert a Cast",
             dtypeName(ctx.inputType(0)), dtypeName(ctx.inputType(1)));
  ctx.setOutput(0, DType::Bool, broadcastShapes(ctx, {ctx.inputShape(0), ctx.inputShape(1)}));
}

void run(KernelContext &ctx) {
  // Floats compare as doubles (exact for every narrower type); integers and bools as int64, whose
  // wrapping of uint64 keeps equality.
  const DType common = isFloatingPoint(ctx.input(0).dtype()) ? DType::Float64 : DType::Int64;
  const Tensor a = ctx.input(0).castTo(common), b = ctx.input(1).castTo(common);
  Tensor &out = ctx.output(0);
  const BroadcastIndexer indexA(a.shape(), out.shape()), indexB(b.shape(), out.shape());
  bool *result = out.data<bool>();
  dispatchDType(common, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, int64_t>) {
      const T *x = a.data<T>(), *y = b.data<T>();
      for (int64_t i = 0; i < out.numElements(); ++i) result[i] = x[indexA(i)] == y[indexB(i)];
    }
  });
}
} // namespace

extern const OpDef kEqual{.name = "Equal", .minInputs = 2, .maxInputs = 2, .infer = infer,
                          .run = run};

} // namespace edgesplit::ops
