#include "ops/OpKit.h"

#include <algorithm>

namespace edgesplit::ops {
namespace {
// Inputs from opset 12; before, the ratio was an attribute and there was no training mode (opset
// 6's is_test=0 asked for training, which inference runtimes ignore too).
constexpr size_t kRatio = 1;
constexpr size_t kTrainingMode = 2;

// The optional mask output: the input's type before opset 10, bool since.
DType maskType(const NodeContext &ctx, DType inputType) {
  return ctx.opset() < 10 ? inputType : DType::Bool;
}

void requireScalar(const InferContext &ctx, size_t index, std::string_view name) {
  const auto shape = ctx.inputShape(index);
  if (numElements(shape) != 1)
    ctx.fail("{} must be a scalar, got shape {}", name, formatShape(shape));
}

void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (!isFloatingPoint(type)) ctx.fail("input type {} is not supported", dtypeName(type));
  if (ctx.hasInput(kRatio)) {
    if (!isFloatingPoint(ctx.inputType(kRatio)))
      ctx.fail("ratio must be floating-point, got {}", dtypeName(ctx.inputType(kRatio)));
    requireScalar(ctx, kRatio, "ratio");
  }
  if (ctx.hasInput(kTrainingMode)) {
    if (ctx.inputType(kTrainingMode) != DType::Bool)
      ctx.fail("training_mode must be bool, got {}", dtypeName(ctx.inputType(kTrainingMode)));
    requireScalar(ctx, kTrainingMode, "training_mode");
  }
  ctx.setOutput(0, type, ctx.inputShape(0));
  if (ctx.hasOutput(1)) ctx.setOutput(1, maskType(ctx, type), ctx.inputShape(0));
}

// Dropout drops nothing at inference, nor in training with ratio 0: the data passes through and
// the mask keeps everything. Random dropout is rejected rather than made deterministic.
void run(KernelContext &ctx) {
  const bool training =
      ctx.hasInput(kTrainingMode) && ctx.input(kTrainingMode).elementAsDouble(0) != 0.0;
  const double ratio = ctx.hasInput(kRatio) ? ctx.input(kRatio).elementAsDouble(0) : 0.5;
  if (training && ratio != 0.0)
    ctx.fail("training-mode dropout with ratio {} is random, which is not supported; "
             "set training_mode to false for inference",
             ratio);
  ctx.output(0) = ctx.input(0);
  if (ctx.hasOutput(1)) {
    Tensor allTrue(DType::Bool, ctx.input(0).shape());
    std::fill_n(allTrue.data<bool>(), allTrue.numElements(), true);
    ctx.output(1) = allTrue.castTo(ctx.output(1).dtype());
  }
}
} // namespace

extern const OpDef kDropout{.name = "Dropout", .maxInputs = 3, .maxOutputs = 2, .infer = infer,
                            .run = run};

} // namespace edgesplit::ops
