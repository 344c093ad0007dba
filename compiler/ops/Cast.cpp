#include "ops/OpKit.h"

namespace edgesplit::ops {
namespace {
DType targetType(const NodeContext &ctx) {
  const int64_t code = ctx.requireAttrInt("to");
  const std::optional<DType> type = dtypeFromOnnx(static_cast<int32_t>(code));
  if (!type)
    ctx.fail("cannot cast to ONNX element type {}: only numeric and bool types are supported", code);
  return *type;
}

void infer(InferContext &ctx) { ctx.setOutput(0, targetType(ctx), ctx.inputShape(0)); }

void run(KernelContext &ctx) { ctx.output(0) = ctx.input(0).castTo(targetType(ctx)); }
} // namespace

extern const OpDef kCast{.name = "Cast", .infer = infer, .run = run};

} // namespace edgesplit::ops
