#include "ops/Layout.h"

#include <limits>

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  const llvm::ArrayRef<int64_t> firstShape = ctx.inputShape(0);
  if (firstShape.empty()) ctx.fail("cannot concatenate scalars");
  const int64_t axis = ctx.normalizeAxis(ctx.requireAttrInt("axis"), ctx.inputRank(0));
  Shape shape(firstShape.begin(), firstShape.end());
  shape[axis] = 0;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    if (ctx.inputType(i) != type)
      ctx.fail("input {} is {}, input 0 is {}", i, dtypeName(ctx.inputType(i)), dtypeName(type));
    const llvm::ArrayRef<int64_t> inputShape = ctx.inputShape(i);
    bool matches = inputShape.size() == shape.size();
    for (size_t d = 0; matches && d < shape.size(); ++d)
      matches = static_cast<int64_t>(d) == axis || inputShape[d] == shape[d];
    if (!matches)
      ctx.fail("input {} has shape {}, which does not match input 0 {} outside axis {}", i,
               formatShape(inputShape), formatShape(firstShape), axis);
    shape[axis] += inputShape[axis];
  }
  ctx.setOutput(0, type, shape);
}

void run(KernelContext &ctx) {
  Tensor &output = ctx.output(0);
  const int64_t axis = ctx.normalizeAxis(ctx.attrInt("axis", 0), output.rank());
  // Each input lands in the output's dense layout, shifted along the axis past the ones before.
  StridedLayout writing = denseLayout(output.shape());
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    const Tensor &input = ctx.input(i);
    copyStrided(input, denseLayout(input.shape()), output, writing, input.shape());
    writing.offset += input.dim(axis) * writing.strides[axis];
  }
}
} // namespace

extern const OpDef kConcat{.name = "Concat", .maxInputs = std::numeric_limits<int>::max(),
                           .infer = infer, .run = run};

} // namespace edgesplit::ops
