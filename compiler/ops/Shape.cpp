#include "ops/Layout.h"

#include <algorithm>

namespace edgesplit::ops {
namespace {
// The [start, end) range of dimensions reported; opset 15 added start/end, earlier opsets report
// all of them, which is what the defaults give.
std::pair<int64_t, int64_t> reportedDims(const NodeContext &ctx, int64_t rank) {
  auto clampToRank = [rank](int64_t position) {
    return std::clamp<int64_t>(position < 0 ? position + rank : position, 0, rank);
  };
  const int64_t start = clampToRank(ctx.attrInt("start", 0));
  const int64_t end = clampToRank(ctx.attrInt("end", rank));
  return {start, std::max(start, end)};
}

void infer(InferContext &ctx) {
  const auto [start, end] = reportedDims(ctx, ctx.inputRank(0));
  ctx.setOutput(0, DType::Int64, {end - start});
}

void run(KernelContext &ctx) {
  const llvm::ArrayRef<int64_t> shape = ctx.input(0).shape();
  const auto [start, end] = reportedDims(ctx, static_cast<int64_t>(shape.size()));
  std::copy(shape.begin() + start, shape.begin() + end, ctx.output(0).data<int64_t>());
}
} // namespace

extern const OpDef kShape{.name = "Shape", .infer = infer, .run = run};

} // namespace edgesplit::ops
