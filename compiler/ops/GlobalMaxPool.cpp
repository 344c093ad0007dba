#include "ops/Pooling.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) { runGlobalPool(ctx, Reduction::Max); }

void lower(LowerContext &ctx) {
  const GlobalPoolPlanes planes = globalPoolPlanes(ctx.inputShape(0));
  if (ctx.isInt8()) {
    // runtime-c has no int8 global max pool: the windowed one with each plane as one window.
    es_pool2d_s8_params_t window{};
    window.batch = planes.batch;
    window.channels = planes.channels;
    window.in_h = window.out_h = window.out_w = 1;
    window.in_w = planes.size;
    window.kernel_h = 1;
    window.kernel_w = planes.size;
    window.stride_h = window.stride_w = 1;
    window.dilation_h = window.dilation_w = 1;
    lowerMaxPoolS8(ctx, window, "global_pool");
    return;
  }
  es_global_pool_f32_params_t p{};
  p.batch = planes.batch;
  p.channels = planes.channels;
  p.size = planes.size;
  std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
  ctx.call<es_global_pool_f32_params_t>(
      "es_global_max_pool_f32", p, {ctx.input(0), ctx.output()},
      [](const es_global_pool_f32_params_t &p, const KernelArgs &a) {
        es_global_max_pool_f32(&p, a.in<float>(1), a.out<float>(2));
      },
      "global_pool");
}

void quantize(QuantizeContext &ctx) { ctx.annotateOutputSameAsInput(0, 0); }
} // namespace

extern const OpDef kGlobalMaxPool{.name = "GlobalMaxPool", .infer = inferGlobalPool, .run = run,
                                  .quantize = quantize, .lower = lower, .fusesActivation = true};

} // namespace edgesplit::ops
