// The numpy.matmul machinery shared by MatMul, MatMulInteger and QLinearMatMul (and the strided
// 2-D product Gemm uses): 1-D operand promotion, batch broadcasting, and the per-row/per-column
// zero points and scales of the quantised variants.
#pragma once

#include "ops/OpKit.h"

#include <optional>

namespace edgesplit::ops {

// The element types MatMul and Gemm multiply: every float type and the 32/64-bit integers.
bool isMatMulType(DType type);

// How two operand shapes combine under numpy.matmul: a 1-D `a` acts as one row [1, K], a 1-D `b`
// as one column [K, 1], and the promoted dimension is dropped from the output again.
struct MatMulShape {
  int64_t rows = 1, inner = 1, cols = 1; // M, K, N
  Shape batchA, batchB;                  // each operand's leading (batch) dimensions
  Shape batch;                           // their broadcast
  Shape output;
  Shape matrixOutput; // batch + [M, N]: the output with promoted dimensions kept, same layout
};

// Fails on the node for scalar operands, mismatched inner sizes or unbroadcastable batches.
MatMulShape matMulShape(const NodeContext &ctx, llvm::ArrayRef<int64_t> a,
                        llvm::ArrayRef<int64_t> b);

// M * N * K per output matrix, from input 0 and output 0 (MatMul, MatMulInteger, QLinearMatMul
// all put the left operand first).
int64_t matMulMacs(const Node &node);

// A read-only matrix addressed through strides, so a transposed operand needs no copy.
template <typename T> struct MatrixView {
  const T *data;
  int64_t rowStride;
  int64_t colStride;
  T operator()(int64_t row, int64_t col) const { return data[row * rowStride + col * colStride]; }
};

// store(row, col, sum) for sum = Σk Acc(a(row, k)) * Acc(b(k, col)). Acc is double for floats;
// integer callers pick a type whose arithmetic cannot overflow (or wraps, when unsigned).
template <typename Acc, typename A, typename B, typename Store>
void multiplyMatrices(int64_t rows, int64_t inner, int64_t cols, MatrixView<A> a, MatrixView<B> b,
                      Store &&store) {
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t col = 0; col < cols; ++col) {
      Acc sum{};
      for (int64_t k = 0; k < inner; ++k)
        sum += static_cast<Acc>(a(row, k)) * static_cast<Acc>(b(k, col));
      store(row, col, sum);
    }
}

// numpy.matmul of two contiguous operands: store(outputIndex, sum) for every flat output index.
template <typename Acc, typename A, typename B, typename Store>
void batchedMatMul(const MatMulShape &shape, const A *a, const B *b, Store &&store) {
  const BroadcastIndexer batchOfA(shape.batchA, shape.batch), batchOfB(shape.batchB, shape.batch);
  const int64_t matrixA = shape.rows * shape.inner, matrixB = shape.inner * shape.cols,
                matrixOut = shape.rows * shape.cols;
  for (int64_t batch = 0; batch < numElements(shape.batch); ++batch) {
    const MatrixView<A> viewA{a + batchOfA(batch) * matrixA, shape.inner, 1};
    const MatrixView<B> viewB{b + batchOfB(batch) * matrixB, shape.cols, 1};
    const int64_t base = batch * matrixOut;
    multiplyMatrices<Acc>(
        shape.rows, shape.inner, shape.cols, viewA, viewB,
        [&](int64_t row, int64_t col, Acc sum) { store(base + row * shape.cols + col, sum); });
  }
}

// Which matmul dimension a vector-shaped quantisation parameter follows: the rows of `a` and of
// the output, or the columns of `b`.
enum class QuantAxis { Rows, Columns };

// The shape in which a zero point or scale broadcasts against its (rank >= 2) operand: a scalar or
// one-element tensor applies to every element, a vector gives one value per row or column, and an
// N-D tensor ([..., M, 1] or [..., 1, N]) must broadcast onto the operand as it is. Fails when the
// parameter fits none of these.
Shape quantParamShape(const NodeContext &ctx, std::string_view name, llvm::ArrayRef<int64_t> param,
                      llvm::ArrayRef<int64_t> operand, QuantAxis axis);

// Checks the zero point input `index` (if present) of operand input `operandIndex`: a quantised
// type equal to the operand's, and a shape quantParamShape accepts.
void checkZeroPoint(const InferContext &ctx, size_t index, size_t operandIndex, QuantAxis axis);

// operand - zeroPoint as int32, the exact integers the quantised matmuls multiply. `zeroPoint`
// may be null (zero).
Tensor subtractZeroPoint(const NodeContext &ctx, const Tensor &operand, const Tensor *zeroPoint,
                         QuantAxis axis);

// --- Code generation ---

// A product of input 0, seen as [batch, inFeatures], with constant weights: the runtime-c fully
// connected kernels, which Gemm and MatMul with a constant B lower to.
struct FullyConnectedLayer {
  int64_t batch = 1;
  int64_t inFeatures = 1;
  int64_t outFeatures = 1;
  size_t weightInput = 1;
  int64_t channelAxis = 0; // the weights' output-channel (N) axis
  std::optional<size_t> biasInput = std::nullopt;
  // Gemm's factors of the product and of the bias. float32 folds them into the constants; int8
  // supports only 1, as the weights and bias carry their own scales.
  float alpha = 1.0f;
  float beta = 1.0f;
};
void lowerFullyConnected(LowerContext &ctx, const FullyConnectedLayer &layer);

} // namespace edgesplit::ops
