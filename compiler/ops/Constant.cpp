#include "ops/Constant.h"

#include "ops/OpKit.h"

namespace edgesplit::ops {

Tensor constantNodeValue(const Node &node) {
  NodeContext ctx(node);
  if (node.attributes.size() != 1)
    ctx.fail("needs exactly one of value, value_float, value_floats, value_int, value_ints");
  if (const Tensor *tensor = node.attributes.getTensor("value")) return *tensor;
  if (auto value = node.attributes.getFloat("value_float")) return Tensor::scalar<float>(*value);
  if (auto value = node.attributes.getInt("value_int")) return Tensor::scalar<int64_t>(*value);
  if (auto values = node.attributes.getFloats("value_floats"))
    return Tensor::fromVector<float>({static_cast<int64_t>(values->size())}, *values);
  if (auto values = node.attributes.getInts("value_ints"))
    return Tensor::fromVector<int64_t>({static_cast<int64_t>(values->size())}, *values);
  ctx.fail("attribute '{}' is not supported (string and sparse constants are not)",
           node.attributes.begin()->first);
}

namespace {
void infer(InferContext &ctx) {
  Tensor value = constantNodeValue(ctx.node());
  ctx.setOutput(0, value.dtype(), value.shape());
}
void run(KernelContext &ctx) { ctx.output(0) = constantNodeValue(ctx.node()); }
} // namespace

extern const OpDef kConstant{.name = "Constant", .minInputs = 0, .maxInputs = 0,
                             .infer = infer, .run = run};

} // namespace edgesplit::ops
