#include "ops/Pooling.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {
namespace {
void run(KernelContext &ctx) { runGlobalPool(ctx, Reduction::Mean); }

void lower(LowerContext &ctx) {
  const GlobalPoolPlanes planes = globalPoolPlanes(ctx.inputShape(0));
  if (!ctx.isInt8()) {
    es_global_pool_f32_params_t p{};
    p.batch = planes.batch;
    p.channels = planes.channels;
    p.size = planes.size;
    std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
    ctx.call<es_global_pool_f32_params_t>(
        "es_global_avg_pool_f32", p, {ctx.input(0), ctx.output()},
        [](const es_global_pool_f32_params_t &p, const KernelArgs &a) {
          es_global_avg_pool_f32(&p, a.in<float>(1), a.out<float>(2));
        },
        "global_pool");
    return;
  }
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  es_global_avg_pool_s8_params_t p{};
  p.batch = planes.batch;
  p.channels = planes.channels;
  p.size = planes.size;
  p.input_zp = in.zeroPoint;
  p.output_zp = out.zeroPoint;
  p.requant = ctx.requant(in.scale / (planes.size * out.scale));
  std::tie(p.act_min, p.act_max) = ctx.int8ActivationRange(out);
  ctx.call<es_global_avg_pool_s8_params_t>(
      "es_global_avg_pool_s8", p, {ctx.input(0), ctx.output()},
      [](const es_global_avg_pool_s8_params_t &p, const KernelArgs &a) {
        es_global_avg_pool_s8(&p, a.in<int8_t>(1), a.out<int8_t>(2));
      },
      "global_pool");
}
} // namespace

extern const OpDef kGlobalAveragePool{.name = "GlobalAveragePool", .infer = inferGlobalPool,
                                      .run = run, .lower = lower, .fusesActivation = true};

} // namespace edgesplit::ops
