#include "ops/Pooling.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (!isFloatingPoint(type)) ctx.fail("input X must be floating point, got {}", dtypeName(type));
  ctx.setOutput(0, type, resolvePoolGeometry(ctx, ctx.inputShape(0)).outputShape());
}

// The count_include_pad divisor of the window at flat output `position`: its taps that land in the
// input or its padding. Taps past the end padding (a ceil_mode window) still do not count.
int64_t tapsInPaddedInput(const PoolGeometry &geometry, int64_t position) {
  const ConvWindow &window = geometry.window;
  int64_t count = 1;
  for (size_t axis = window.spatialRank(); axis-- > 0;) {
    const int64_t start =
        position % geometry.outputSize[axis] * window.strides[axis] - window.padsBegin[axis];
    position /= geometry.outputSize[axis];
    int64_t axisTaps = 0;
    for (int64_t tap = 0; tap < window.kernel[axis]; ++tap) {
      const int64_t coordinate = start + tap * window.dilations[axis];
      if (coordinate >= -window.padsBegin[axis] &&
          coordinate < geometry.inputSize[axis] + window.padsEnd[axis])
        ++axisTaps;
    }
    count *= axisTaps;
  }
  return count;
}

void run(KernelContext &ctx) {
  const PoolGeometry geometry = resolvePoolGeometry(ctx, ctx.input(0).shape());
  const bool countPadding = ctx.attrInt("count_include_pad", 0) != 0;
  const Tensor input = ctx.input(0).castTo(DType::Float64);
  Tensor pooled(DType::Float64, geometry.outputShape());
  const double *x = input.data<double>();
  double *y = pooled.data<double>();
  const int64_t inputPlane = numElements(geometry.inputSize);
  const int64_t outputPlane = numElements(geometry.outputSize);
  forEachWindow(geometry.window, geometry.outputSize, geometry.inputSize,
                [&](int64_t position, llvm::ArrayRef<ConvTap> taps) {
                  const double divisor =
                      static_cast<double>(countPadding ? tapsInPaddedInput(geometry, position)
                                                       : static_cast<int64_t>(taps.size()));
                  for (int64_t plane = 0; plane < geometry.planes(); ++plane) {
                    const double *source = x + plane * inputPlane;
                    double sum = 0.0;
                    for (const ConvTap &tap : taps) sum += source[tap.position];
                    y[plane * outputPlane + position] = sum / divisor;
                  }
                });
  assignResult(ctx.output(0), std::move(pooled));
}

void lower(LowerContext &ctx) {
  const PoolGeometry geometry = resolvePoolGeometry(ctx, ctx.inputShape(0));
  const int32_t countIncludePad = ctx.attrInt("count_include_pad", 0) != 0;
  if (!ctx.isInt8()) {
    auto p = pool2dParams<es_pool2d_f32_params_t>(ctx, geometry);
    p.count_include_pad = countIncludePad;
    std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
    ctx.call<es_pool2d_f32_params_t>(
        "es_avg_pool2d_fast_f32", p, {ctx.input(0), ctx.output()},
        [](const es_pool2d_f32_params_t &p, const KernelArgs &a) {
          es_avg_pool2d_fast_f32(&p, a.in<float>(1), a.out<float>(2));
        },
        "pool");
    return;
  }
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  auto p = pool2dParams<es_pool2d_s8_params_t>(ctx, geometry);
  p.count_include_pad = countIncludePad;
  p.input_zp = in.zeroPoint;
  p.output_zp = out.zeroPoint;
  std::tie(p.act_min, p.act_max) = ctx.int8ActivationRange(out);
  // With one scale and zero point (TFLite's AVERAGE_POOL_2D requires them) the mean is TFLite's
  // rounded integer division; the int32 sum holds any window below 2^23 taps.
  if (in.scale == out.scale && in.zeroPoint == out.zeroPoint &&
      int64_t{p.kernel_h} * p.kernel_w < (int64_t{1} << 23)) {
    ctx.call<es_pool2d_s8_params_t>(
        "es_avg_pool2d_same_scale_s8", p, {ctx.input(0), ctx.output()},
        [](const es_pool2d_s8_params_t &p, const KernelArgs &a) {
          es_avg_pool2d_same_scale_s8(&p, a.in<int8_t>(1), a.out<int8_t>(2));
        },
        "pool");
    return;
  }
  // Windows cut by padding average fewer elements: one factor per possible count.
  std::vector<es_requant_t> perCount;
  for (int32_t count = 1; count <= p.kernel_h * p.kernel_w; ++count)
    perCount.push_back(ctx.requant(in.scale / (count * out.scale)));
  ctx.call<es_pool2d_s8_params_t>(
      "es_avg_pool2d_s8", p,
      {ctx.constantArray("per_count", std::move(perCount)), ctx.input(0), ctx.output()},
      [](const es_pool2d_s8_params_t &p, const KernelArgs &a) {
        es_avg_pool2d_s8(&p, a.in<es_requant_t>(1), a.in<int8_t>(2), a.out<int8_t>(3));
      },
      "pool");
}
} // namespace

extern const OpDef kAveragePool{.name = "AveragePool", .infer = infer, .run = run,
                                .lower = lower, .fusesActivation = true};

} // namespace edgesplit::ops
