#include "ops/Reduction.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

namespace edgesplit::ops {
namespace {
// The axis input: one int32 or int64 value (a scalar or a 1-element tensor), normalised.
int64_t cumsumAxis(const NodeContext &ctx, const Tensor &axis, int64_t rank) {
  if (axis.numElements() != 1)
    ctx.fail("axis must hold one value, got shape {}", formatShape(axis.shape()));
  return ctx.normalizeAxis(axis.toInt64Vector()[0], rank);
}

// torch.cumsum and Keras' tf.math.cumsum (opset 11 on): running sums along one axis, exclusive
// (each output without its own input) and reverse (from the end) as attributes.
void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (type == DType::Bool) ctx.fail("bool input is not supported");
  if (ctx.inputType(1) != DType::Int32 && ctx.inputType(1) != DType::Int64)
    ctx.fail("axis must be int32 or int64, got {}", dtypeName(ctx.inputType(1)));
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  if (const Tensor *axis = ctx.inputValue(1))
    cumsumAxis(ctx, *axis, static_cast<int64_t>(shape.size()));
  ctx.setOutput(0, type, shape);
}

// Floats of every precision sum in double and round each output once; integers sum in 64 bits
// and wrap to the element type like numpy.
template <typename T, typename Acc>
void runningSums(const NodeContext &ctx, const T *x, T *y, const AxisSplit &split) {
  const bool exclusive = ctx.attrInt("exclusive", 0) != 0;
  const bool reverse = ctx.attrInt("reverse", 0) != 0;
  for (int64_t o = 0; o < split.outer; ++o)
    for (int64_t i = 0; i < split.inner; ++i) {
      Acc sum = 0;
      for (int64_t k = 0; k < split.length; ++k) {
        const int64_t at =
            (o * split.length + (reverse ? split.length - 1 - k : k)) * split.inner + i;
        const Acc value = static_cast<Acc>(x[at]);
        const auto add = [](Acc a, Acc b) {
          if constexpr (std::is_floating_point_v<Acc>)
            return a + b;
          else
            return static_cast<Acc>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
        };
        if (!exclusive) sum = add(sum, value);
        y[at] = static_cast<T>(sum);
        if (exclusive) sum = add(sum, value);
      }
    }
}

void run(KernelContext &ctx) {
  Tensor storage;
  const Tensor &input = arithmeticView(ctx.input(0), storage);
  const AxisSplit split = splitAtAxis(input.shape(), cumsumAxis(ctx, ctx.input(1), input.rank()));
  Tensor result(input.dtype(), input.shape());
  dispatchArithmetic(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double,
                                   std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;
    runningSums<T, Acc>(ctx, input.data<T>(), result.data<T>(), split);
  });
  assignResult(ctx.output(0), std::move(result));
}

template <typename P> P cumsumParams(const LowerContext &ctx) {
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const AxisSplit split =
      splitAtAxis(shape, cumsumAxis(ctx, ctx.constantInput(1), static_cast<int64_t>(shape.size())));
  P p{};
  p.outer = kernelInt(ctx, split.outer, "size");
  p.length = kernelInt(ctx, split.length, "axis size");
  p.inner = kernelInt(ctx, split.inner, "size");
  p.exclusive = ctx.attrInt("exclusive", 0) != 0;
  p.reverse = ctx.attrInt("reverse", 0) != 0;
  return p;
}

void lower(LowerContext &ctx) {
  if (!ctx.isInt8()) {
    ctx.call<es_cumsum_f32_params_t>(
        "es_cumsum_f32", cumsumParams<es_cumsum_f32_params_t>(ctx), {ctx.input(0), ctx.output()},
        [](const es_cumsum_f32_params_t &p, const KernelArgs &a) {
          es_cumsum_f32(&p, a.in<float>(1), a.out<float>(2));
        },
        "reduce");
    return;
  }
  // docs/int8.md "CumSum": the exact running sum of qx - Zx, rescaled once by Sx / Sy.
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  auto p = cumsumParams<es_cumsum_s8_params_t>(ctx);
  if (p.length > ES_S8_CUMSUM_MAX_LENGTH)
    ctx.fail("int8 CumSum sums at most {} elements along its axis, got {}; compile the model "
             "for float32",
             ES_S8_CUMSUM_MAX_LENGTH, p.length);
  p.input_zp = in.zeroPoint;
  p.output_zp = out.zeroPoint;
  p.requant = ctx.requant(in.scale / out.scale);
  ctx.call<es_cumsum_s8_params_t>(
      "es_cumsum_s8", p, {ctx.input(0), ctx.output()},
      [](const es_cumsum_s8_params_t &p, const KernelArgs &a) {
        es_cumsum_s8(&p, a.in<int8_t>(1), a.out<int8_t>(2));
      },
      "reduce");
}

// The sums take the output's calibrated range (docs/int8.md).
void quantize(QuantizeContext &ctx) { ctx.annotateOutputFromRange(0); }
} // namespace

extern const OpDef kCumSum{.name = "CumSum",
                           .minInputs = 2,
                           .maxInputs = 2,
                           .infer = infer,
                           .run = run,
                           .quantize = quantize,
                           .lower = lower};

} // namespace edgesplit::ops
