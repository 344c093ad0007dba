// DepthToSpace as ONNX defines it: the input seen as 6-D, transposed, seen as 4-D. The reference
// kernel moves data through this view and passes/ rewrites the node into it for code generation.
#pragma once

#include "ops/OpDef.h"

namespace edgesplit::ops {

struct DepthToSpaceView {
  Shape sixD;                // the input [N, C, H, W] seen as 6-D
  std::vector<int64_t> perm; // the transpose of that view
  Shape output;              // [N, C / blocksize^2, H * blocksize, W * blocksize]
};

// Fails naming the node on a bad rank, blocksize, channel count or mode.
DepthToSpaceView depthToSpaceView(const NodeContext &ctx, llvm::ArrayRef<int64_t> shape);

} // namespace edgesplit::ops
