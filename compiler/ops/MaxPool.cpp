#include "ops/Pooling.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

namespace edgesplit::ops {
namespace {
bool isPoolable(DType type) {
  return isFloatingPoint(type) || type == DType::Int8 || type == DType::UInt8;
}

void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (!isPoolable(type))
    ctx.fail("input X must be floating point, int8 or uint8, got {}", dtypeName(type));
  const int64_t storageOrder = ctx.attrInt("storage_order", 0);
  if (storageOrder != 0 && storageOrder != 1)
    ctx.fail("storage_order must be 0 (row major) or 1 (column major), got {}", storageOrder);
  if (ctx.hasOutput(1) && ctx.opset() < 8) ctx.fail("the Indices output exists from opset 8");
  const Shape outputShape = resolvePoolGeometry(ctx, ctx.inputShape(0)).outputShape();
  ctx.setOutput(0, type, outputShape);
  ctx.setOutput(1, DType::Int64, outputShape);
}

// The column-major (storage_order 1) position of a row-major offset into a plane of `size`.
int64_t columnMajorOffset(int64_t rowMajorOffset, llvm::ArrayRef<int64_t> size) {
  int64_t result = 0;
  for (size_t axis = size.size(); axis-- > 0;) {
    result = result * size[axis] + rowMajorOffset % size[axis];
    rowMajorOffset /= size[axis];
  }
  return result;
}

void run(KernelContext &ctx) {
  const PoolGeometry geometry = resolvePoolGeometry(ctx, ctx.input(0).shape());
  Tensor storage;
  const Tensor &input = arithmeticView(ctx.input(0), storage);
  Tensor pooled(input.dtype(), geometry.outputShape());
  Tensor indices(DType::Int64, geometry.outputShape());
  const bool columnMajor = ctx.attrInt("storage_order", 0) == 1;
  const int64_t inputPlane = numElements(geometry.inputSize);
  const int64_t outputPlane = numElements(geometry.outputSize);
  dispatchArithmetic(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *x = input.data<T>();
    T *y = pooled.data<T>();
    int64_t *argmax = indices.data<int64_t>();
    forEachWindow(geometry.window, geometry.outputSize, geometry.inputSize,
                  [&](int64_t position, llvm::ArrayRef<ConvTap> taps) {
                    for (int64_t plane = 0; plane < geometry.planes(); ++plane) {
                      const T *source = x + plane * inputPlane;
                      // Never empty: resolvePoolGeometry() rejects windows of only padding.
                      int64_t best = taps.front().position;
                      for (const ConvTap &tap : taps)
                        if (ranksAbove(source[tap.position], source[best])) best = tap.position;
                      const int64_t output = plane * outputPlane + position;
                      y[output] = source[best];
                      argmax[output] =
                          plane * inputPlane +
                          (columnMajor ? columnMajorOffset(best, geometry.inputSize) : best);
                    }
                  });
  });
  assignResult(ctx.output(0), std::move(pooled));
  if (ctx.hasOutput(1)) ctx.output(1) = std::move(indices);
}

void lower(LowerContext &ctx) {
  if (ctx.hasOutput(1))
    ctx.fail("code generation does not support the Indices output of MaxPool; export "
             "the MaxPool without it");
  const PoolGeometry geometry = resolvePoolGeometry(ctx, ctx.inputShape(0));
  if (ctx.isInt8()) {
    lowerMaxPoolS8(ctx, pool2dParams<es_pool2d_s8_params_t>(ctx, geometry), "pool");
    return;
  }
  auto p = pool2dParams<es_pool2d_f32_params_t>(ctx, geometry);
  std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
  ctx.call<es_pool2d_f32_params_t>(
      "es_max_pool2d_fast_f32", p, {ctx.input(0), ctx.output()},
      [](const es_pool2d_f32_params_t &p, const KernelArgs &a) {
        es_max_pool2d_fast_f32(&p, a.in<float>(1), a.out<float>(2));
      },
      "pool");
}

void quantize(QuantizeContext &ctx) { ctx.annotateOutputSameAsInput(0, 0); }
} // namespace

extern const OpDef kMaxPool{.name = "MaxPool", .maxOutputs = 2, .infer = infer, .run = run,
                            .quantize = quantize, .lower = lower, .fusesActivation = true};

} // namespace edgesplit::ops
