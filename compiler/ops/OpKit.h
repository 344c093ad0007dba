// Helpers shared by op implementations: broadcasting, elementwise loops, attribute idioms.
#pragma once

#include "ops/OpDef.h"

#include <cmath>
#include <functional>

namespace edgesplit::ops {

// Numpy-style multidirectional broadcast of input shapes; fails on the node when incompatible.
Shape broadcastShapes(const NodeContext &ctx, llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes);

// Maps each flat output index to the flat index of an input broadcast into `outputShape`.
class BroadcastIndexer {
public:
  BroadcastIndexer(llvm::ArrayRef<int64_t> inputShape, llvm::ArrayRef<int64_t> outputShape);
  int64_t operator()(int64_t outputIndex) const;

private:
  Shape outputShape_;
  Shape inputStrides_; // 0 where the input is broadcast
  bool identity_ = false;
};

// Standard checks of a one-input, same-shape, same-type op; `allowed` filters input types.
void inferSameAsInput(InferContext &ctx, bool (*allowed)(DType) = isFloatingPoint);

// Applies `f` elementwise to a floating-point tensor of any precision; the math runs in double and
// is rounded once to the element type.
void mapFloat(const Tensor &input, Tensor &output, const std::function<double(double)> &f);

// For ops whose inputs (shape, axes, pads...) are integer lists: the input as int64 values.
std::vector<int64_t> readInt64s(const InferContext &ctx, size_t index);

} // namespace edgesplit::ops
