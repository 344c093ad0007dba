#include "ops/Pooling.h"

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
} // namespace

extern const OpDef kAveragePool{.name = "AveragePool", .infer = infer, .run = run};

} // namespace edgesplit::ops
