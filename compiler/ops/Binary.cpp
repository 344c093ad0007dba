#include "ops/Binary.h"

namespace edgesplit::ops {

void inferBroadcastBinary(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (ctx.inputType(1) != type)
    ctx.fail("inputs have different types ({} and {}); insert a Cast", dtypeName(type),
             dtypeName(ctx.inputType(1)));
  if (type == DType::Bool) ctx.fail("bool inputs are not supported");
  ctx.setOutput(0, type, broadcastShapes(ctx, {ctx.inputShape(0), ctx.inputShape(1)}));
}

} // namespace edgesplit::ops
