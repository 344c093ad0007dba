#include "ops/DepthToSpace.h"

#include "ops/Layout.h"

namespace edgesplit::ops {

DepthToSpaceView depthToSpaceView(const NodeContext &ctx, llvm::ArrayRef<int64_t> shape) {
  if (shape.size() != 4) ctx.fail("the input must be 4-D [N, C, H, W], got {}", formatShape(shape));
  const int64_t block = ctx.requireAttrInt("blocksize");
  if (block < 1) ctx.fail("blocksize must be at least 1, got {}", block);
  const int64_t n = shape[0], c = shape[1], h = shape[2], w = shape[3];
  if (c % (block * block) != 0)
    ctx.fail("{} channels do not divide into blocks of {} x {}", c, block, block);
  const int64_t depth = c / (block * block);
  const std::string mode = ctx.attrString("mode", "DCR");
  DepthToSpaceView result;
  if (mode == "DCR") {
    result.sixD = {n, block, block, depth, h, w};
    result.perm = {0, 3, 4, 1, 5, 2};
  } else if (mode == "CRD") {
    result.sixD = {n, depth, block, block, h, w};
    result.perm = {0, 1, 4, 2, 5, 3};
  } else {
    ctx.fail("mode '{}' is neither DCR nor CRD", mode);
  }
  result.output = {n, depth, h * block, w * block};
  return result;
}

namespace {
void infer(InferContext &ctx) {
  ctx.setOutput(0, ctx.inputType(0), depthToSpaceView(ctx, ctx.inputShape(0)).output);
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  const DepthToSpaceView r = depthToSpaceView(ctx, input.shape());
  const Shape strides = stridesOf(r.sixD);
  StridedLayout reading;
  Shape extent;
  for (int64_t axis : r.perm) {
    reading.strides.push_back(strides[static_cast<size_t>(axis)]);
    extent.push_back(r.sixD[static_cast<size_t>(axis)]);
  }
  Tensor &output = ctx.output(0);
  copyStrided(input, reading, output, denseLayout(extent), extent);
}
} // namespace

extern const OpDef kDepthToSpace{.name = "DepthToSpace", .infer = infer, .run = run};

} // namespace edgesplit::ops
