#include "ops/OpKit.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace edgesplit::ops {

Shape broadcastShapes(const NodeContext &ctx, llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes) {
  size_t rank = 0;
  for (auto shape : shapes) rank = std::max(rank, shape.size());
  Shape result(rank, 1);
  for (auto shape : shapes) {
    const size_t offset = rank - shape.size();
    for (size_t i = 0; i < shape.size(); ++i) {
      int64_t &out = result[offset + i];
      if (shape[i] == out || shape[i] == 1) continue;
      if (out != 1)
        ctx.fail("cannot broadcast shapes {} together (dimension {}: {} vs {})",
                 fmt::join(llvm::map_range(shapes, [](auto s) { return formatShape(s); }), " and "),
                 offset + i, out, shape[i]);
      out = shape[i];
    }
  }
  return result;
}

BroadcastIndexer::BroadcastIndexer(llvm::ArrayRef<int64_t> inputShape,
                                   llvm::ArrayRef<int64_t> outputShape)
    : outputShape_(outputShape.begin(), outputShape.end()), inputStrides_(outputShape.size(), 0) {
  identity_ = inputShape == outputShape;
  const Shape strides = stridesOf(inputShape);
  const size_t offset = outputShape.size() - inputShape.size();
  for (size_t i = 0; i < inputShape.size(); ++i)
    inputStrides_[offset + i] = inputShape[i] == 1 ? 0 : strides[i];
}

int64_t BroadcastIndexer::operator()(int64_t outputIndex) const {
  if (identity_) return outputIndex;
  int64_t inputIndex = 0;
  for (size_t axis = outputShape_.size(); axis-- > 0;) {
    const int64_t coordinate = outputIndex % outputShape_[axis];
    outputIndex /= outputShape_[axis];
    inputIndex += coordinate * inputStrides_[axis];
  }
  return inputIndex;
}

void inferSameAsInput(InferContext &ctx, bool (*allowed)(DType)) {
  const DType type = ctx.inputType(0);
  if (!allowed(type)) ctx.fail("input type {} is not supported", dtypeName(type));
  ctx.setOutput(0, type, ctx.inputShape(0));
}

void mapFloat(const Tensor &input, Tensor &output, const std::function<double(double)> &f) {
  dispatchDType(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      const T *in = input.data<T>();
      T *out = output.data<T>();
      for (int64_t i = 0; i < input.numElements(); ++i)
        out[i] = static_cast<T>(f(static_cast<double>(in[i])));
    } else {
      Tensor wide = input.castTo(DType::Float64);
      Tensor wideOut(DType::Float64, input.shape());
      mapFloat(wide, wideOut, f);
      output = wideOut.castTo(input.dtype());
    }
  });
}

std::vector<int64_t> readInt64s(const InferContext &ctx, size_t index) {
  const Tensor &value = ctx.requireInputValue(index);
  if (isFloatingPoint(value.dtype()))
    ctx.fail("input {} must be an integer tensor, got {}", index, dtypeName(value.dtype()));
  return value.toInt64Vector();
}

} // namespace edgesplit::ops
