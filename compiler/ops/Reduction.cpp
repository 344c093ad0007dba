#include "ops/Reduction.h"
#include "ops/Softmax.h"

#include "codegen/LowerContext.h"
#include "ops/Layout.h"
#include "quantize/QuantMath.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <limits>

namespace edgesplit::ops {

Shape reducedShape(llvm::ArrayRef<int64_t> inputShape, llvm::ArrayRef<bool> reduced,
                   bool keepDims) {
  Shape shape;
  for (size_t axis = 0; axis < inputShape.size(); ++axis) {
    if (!reduced[axis]) shape.push_back(inputShape[axis]);
    else if (keepDims) shape.push_back(1);
  }
  return shape;
}

namespace {
// Where reduce() accumulates an element type.
template <typename T>
using Accumulator = std::conditional_t<std::is_floating_point_v<T>, double,
                                       std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

template <typename T> Accumulator<T> lowestValue() {
  if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<double>::infinity();
  else return std::numeric_limits<T>::lowest();
}
template <typename T> Accumulator<T> highestValue() {
  if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<double>::infinity();
  else return std::numeric_limits<T>::max();
}

template <typename Acc> Acc multiplyWrapping(Acc a, Acc b) {
  if constexpr (std::is_floating_point_v<Acc>) return a * b;
  else return static_cast<Acc>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

template <typename T> Accumulator<T> initialTotal(Reduction kind) {
  switch (kind) {
  case Reduction::Max: return lowestValue<T>();
  case Reduction::Min: return highestValue<T>();
  case Reduction::Prod: return Accumulator<T>(1);
  default: return Accumulator<T>(0);
  }
}

template <typename Acc> Acc addWrapping(Acc a, Acc b) {
  if constexpr (std::is_floating_point_v<Acc>) return a + b;
  else return static_cast<Acc>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

template <typename T>
void reduceValues(llvm::ArrayRef<T> input, llvm::ArrayRef<int64_t> inputShape,
                  llvm::ArrayRef<bool> reduced, Reduction kind, llvm::MutableArrayRef<T> output) {
  using Acc = Accumulator<T>;
  int64_t groupSize = 1;
  for (size_t axis = 0; axis < inputShape.size(); ++axis)
    if (reduced[axis]) groupSize *= inputShape[axis];
  // Each input element accumulates into the output element it would be broadcast back from.
  const BroadcastIndexer outputIndexOf(reducedShape(inputShape, reduced, /*keepDims=*/true),
                                       inputShape);
  std::vector<Acc> totals(output.size(), initialTotal<T>(kind));
  // LogSumExp sums e^x in double whatever the type, shifted by the block's maximum so that no
  // e^x overflows.
  std::vector<double> largest(kind == Reduction::LogSumExp ? output.size() : 0,
                              -std::numeric_limits<double>::infinity());
  if (kind == Reduction::LogSumExp)
    for (size_t i = 0; i < input.size(); ++i) {
      double &top = largest[outputIndexOf(static_cast<int64_t>(i))];
      top = std::max(top, static_cast<double>(input[i]));
    }
  std::vector<double> exponentials(largest.size(), 0.0);
  for (size_t i = 0; i < input.size(); ++i) {
    const int64_t o = outputIndexOf(static_cast<int64_t>(i));
    Acc &total = totals[o];
    const Acc value = static_cast<Acc>(input[i]);
    switch (kind) {
    case Reduction::Max:
      if (ranksAbove(value, total)) total = value;
      break;
    case Reduction::Min:
      if (ranksBelow(value, total)) total = value;
      break;
    case Reduction::L2:
    case Reduction::SumSquare: total = addWrapping(total, multiplyWrapping(value, value)); break;
    case Reduction::L1: total = addWrapping(total, value < Acc(0) ? Acc(0) - value : value); break;
    case Reduction::Prod: total = multiplyWrapping(total, value); break;
    case Reduction::LogSumExp: {
      const double shift = std::isinf(largest[o]) ? 0.0 : largest[o];
      exponentials[o] += std::exp(static_cast<double>(input[i]) - shift);
      break;
    }
    default: total = addWrapping(total, value); break;
    }
  }
  for (size_t o = 0; o < output.size(); ++o) {
    Acc result = totals[o];
    if (kind == Reduction::Mean) {
      if constexpr (std::is_floating_point_v<Acc>) result /= static_cast<double>(groupSize);
      else result = groupSize == 0 ? 0 : result / static_cast<Acc>(groupSize);
    }
    if (kind == Reduction::L2) result = static_cast<Acc>(std::sqrt(static_cast<double>(result)));
    if (kind == Reduction::LogSumExp) {
      const double shift = std::isinf(largest[o]) ? 0.0 : largest[o];
      output[o] = static_cast<T>(std::log(exponentials[o]) + shift);
      continue;
    }
    output[o] = static_cast<T>(result);
  }
}

// The axes a Reduce* node collapses on a rank-`rank` input; `axesInput` is its input 1, empty
// when absent.
llvm::SmallVector<bool, 6> reductionAxes(const NodeContext &ctx, int64_t rank, int axesInputOpset,
                                         llvm::ArrayRef<int64_t> axesInput) {
  const std::vector<int64_t> axes = ctx.opset() >= axesInputOpset
                                        ? std::vector<int64_t>(axesInput.begin(), axesInput.end())
                                        : ctx.attrInts("axes");
  if (rank == 0 && !axes.empty())
    ctx.fail("a scalar input has no axes to reduce, got axes [{}]", fmt::join(axes, ", "));
  const bool noopWithoutAxes = ctx.attrInt("noop_with_empty_axes", 0) != 0;
  llvm::SmallVector<bool, 6> reduced(static_cast<size_t>(rank), axes.empty() && !noopWithoutAxes);
  for (int64_t axis : axes) {
    auto flag = reduced.begin() + ctx.normalizeAxis(axis, rank, "axes value");
    if (*flag) ctx.fail("axes [{}] name axis {} twice", fmt::join(axes, ", "), axis);
    *flag = true;
  }
  return reduced;
}

bool keepDims(const NodeContext &ctx) { return ctx.attrInt("keepdims", 1) != 0; }
} // namespace

void reduce(const Tensor &input, llvm::ArrayRef<bool> reduced, Reduction kind, Tensor &output) {
  Tensor storage;
  const Tensor &values = arithmeticView(input, storage);
  Tensor result(values.dtype(), output.shape());
  dispatchArithmetic(values.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    reduceValues<T>(values.values<T>(), values.shape(), reduced, kind, result.mutableValues<T>());
  });
  assignResult(output, std::move(result));
}

void inferReduceOp(InferContext &ctx, int axesInputOpset) {
  const DType type = ctx.inputType(0);
  if (type == DType::Bool) ctx.fail("bool input is not supported");
  if (ctx.opset() >= axesInputOpset && ctx.hasAttr("axes"))
    ctx.fail("from opset {} the axes are input 1, not an attribute", axesInputOpset);
  if (ctx.opset() < axesInputOpset && ctx.hasInput(1))
    ctx.fail("before opset {} the axes are the 'axes' attribute, not an input", axesInputOpset);
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const std::vector<int64_t> axesInput =
      ctx.hasInput(1) ? readInt64s(ctx, 1) : std::vector<int64_t>{};
  const auto reduced =
      reductionAxes(ctx, static_cast<int64_t>(shape.size()), axesInputOpset, axesInput);
  ctx.setOutput(0, type, reducedShape(shape, reduced, keepDims(ctx)));
}

void runReduceOp(KernelContext &ctx, int axesInputOpset, Reduction kind) {
  const Tensor &data = ctx.input(0);
  const std::vector<int64_t> axesInput =
      ctx.hasInput(1) ? ctx.input(1).toInt64Vector() : std::vector<int64_t>{};
  const auto reduced =
      reductionAxes(ctx, static_cast<int64_t>(data.rank()), axesInputOpset, axesInput);
  reduce(data, reduced, kind, ctx.output(0));
}

namespace {
// The reduced axes as inferReduceOp() reads them, the axes input having to be a constant.
llvm::SmallVector<bool, 6> loweredReductionAxes(const LowerContext &ctx, size_t rank,
                                                int axesInputOpset) {
  const std::vector<int64_t> axes =
      ctx.opset() < axesInputOpset
          ? ctx.attrInts("axes")
          : (ctx.hasInput(1) ? ctx.constantInput(1).toInt64Vector() : std::vector<int64_t>{});
  const bool noopWithoutAxes = ctx.attrInt("noop_with_empty_axes", 0) != 0;
  llvm::SmallVector<bool, 6> reduced(rank, axes.empty() && !noopWithoutAxes);
  for (int64_t axis : axes)
    reduced[ctx.normalizeAxis(axis, static_cast<int64_t>(rank), "axes value")] = true;
  return reduced;
}

// The input as the kernels' [outer, reduce, inner]. Axes of size 1 may sit on either side of the
// reduced block, so only the others must be adjacent.
AxisSplit reduceSplit(const LowerContext &ctx, llvm::ArrayRef<int64_t> shape,
                      llvm::ArrayRef<bool> reduced) {
  enum class Part { Outer, Reduced, Inner } part = Part::Outer;
  AxisSplit split;
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (shape[axis] == 1) continue;
    if (reduced[axis]) {
      if (part == Part::Inner) {
        std::vector<size_t> axes;
        for (size_t i = 0; i < reduced.size(); ++i)
          if (reduced[i]) axes.push_back(i);
        ctx.fail("code generation needs the reduced axes to be adjacent (axes of size 1 aside); "
                 "axes [{}] of shape {} are not; transpose them next to each other first",
                 fmt::join(axes, ", "), formatShape(shape));
      }
      part = Part::Reduced;
      split.length *= shape[axis];
    } else {
      if (part == Part::Reduced) part = Part::Inner;
      (part == Part::Outer ? split.outer : split.inner) *= shape[axis];
    }
  }
  return split;
}

using ReduceF32Kernel = void (*)(const es_reduce_mean_f32_params_t *, const float *, float *);

void lowerReduceF32(LowerContext &ctx, const AxisSplit &split, Reduction kind) {
  static constexpr struct {
    Reduction kind;
    const char *function;
    ReduceF32Kernel kernel;
  } kKernels[] = {{Reduction::Sum, "es_reduce_sum_f32", es_reduce_sum_f32},
                  {Reduction::Mean, "es_reduce_mean_f32", es_reduce_mean_f32},
                  {Reduction::Max, "es_reduce_max_f32", es_reduce_max_f32},
                  {Reduction::Min, "es_reduce_min_f32", es_reduce_min_f32},
                  {Reduction::L2, "es_reduce_l2_f32", es_reduce_l2_f32},
                  {Reduction::SumSquare, "es_reduce_sum_square_f32", es_reduce_sum_square_f32},
                  {Reduction::L1, "es_reduce_l1_f32", es_reduce_l1_f32},
                  {Reduction::LogSumExp, "es_reduce_log_sum_exp_f32", es_reduce_log_sum_exp_f32},
                  {Reduction::Prod, "es_reduce_prod_f32", es_reduce_prod_f32}};
  const auto *entry = llvm::find_if(kKernels, [kind](const auto &k) { return k.kind == kind; });
  es_reduce_mean_f32_params_t p{};
  p.outer = kernelInt(ctx, split.outer, "size");
  p.reduce = kernelInt(ctx, split.length, "reduced size");
  p.inner = kernelInt(ctx, split.inner, "size");
  std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
  ctx.call<es_reduce_mean_f32_params_t>(
      entry->function, p, {ctx.input(0), ctx.output()},
      [kernel = entry->kernel](const es_reduce_mean_f32_params_t &p, const KernelArgs &a) {
        kernel(&p, a.in<float>(1), a.out<float>(2));
      },
      "reduce");
}

// ReduceMax and ReduceMin move the largest (smallest) code: the output has the input's parameters
// (their quantisation rule).
void lowerReduceMaxS8(LowerContext &ctx, const AxisSplit &split, Reduction kind) {
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  if (in.scale != out.scale || in.zeroPoint != out.zeroPoint)
    ctx.fail("int8 {} moves values without rescaling them, so the output needs the "
             "input's parameters (scale {}, zero point {}), got scale {}, zero point {}; "
             "quantise the model again so that they match",
             ctx.node().opType, in.scale, in.zeroPoint, out.scale, out.zeroPoint);
  es_reduce_max_s8_params_t p{};
  p.outer = kernelInt(ctx, split.outer, "size");
  p.reduce = kernelInt(ctx, split.length, "reduced size");
  p.inner = kernelInt(ctx, split.inner, "size");
  std::tie(p.act_min, p.act_max) = ctx.int8ActivationRange(out);
  const bool max = kind == Reduction::Max;
  ctx.call<es_reduce_max_s8_params_t>(
      max ? "es_reduce_max_s8" : "es_reduce_min_s8", p, {ctx.input(0), ctx.output()},
      [max](const es_reduce_max_s8_params_t &p, const KernelArgs &a) {
        (max ? es_reduce_max_s8 : es_reduce_min_s8)(&p, a.in<int8_t>(1), a.out<int8_t>(2));
      },
      "reduce");
}

// Mean and Sum: sum (qx - Zx) rescaled once by Sx / (n Sy), or Sx / Sy for the sum; L2: the root
// of the sum of squares in Q16 rescaled once by Sx / (2^16 Sy); SumSquare: the sum of squares by
// Sx^2 / Sy; L1: sum |qx - Zx| by Sx / Sy.
void lowerRescaledReduceS8(LowerContext &ctx, const AxisSplit &split, Reduction kind) {
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  // A longer line could leave the exact sum of squares' int32 range.
  if ((kind == Reduction::L2 || kind == Reduction::SumSquare) &&
      split.length > ES_S8_REDUCE_L2_MAX_LENGTH)
    ctx.fail("int8 {} reduces at most {} elements, got {}; compile the model for float32",
             ctx.node().opType, ES_S8_REDUCE_L2_MAX_LENGTH, split.length);
  es_reduce_mean_s8_params_t p{};
  p.outer = kernelInt(ctx, split.outer, "size");
  p.reduce = kernelInt(ctx, split.length, "reduced size");
  p.inner = kernelInt(ctx, split.inner, "size");
  p.input_zp = in.zeroPoint;
  p.output_zp = out.zeroPoint;
  const double divisor = kind == Reduction::Mean ? static_cast<double>(split.length)
                        : kind == Reduction::L2  ? 65536.0
                                                 : 1.0;
  const double scale = kind == Reduction::SumSquare ? in.scale * in.scale : in.scale;
  p.requant = ctx.requant(scale / (divisor * out.scale));
  std::tie(p.act_min, p.act_max) = ctx.int8ActivationRange(out);
  using Kernel = void (*)(const es_reduce_mean_s8_params_t *, const int8_t *, int8_t *);
  static constexpr struct {
    Reduction kind;
    const char *function;
    Kernel kernel;
  } kKernels[] = {{Reduction::L2, "es_reduce_l2_s8", es_reduce_l2_s8},
                  {Reduction::SumSquare, "es_reduce_sum_square_s8", es_reduce_sum_square_s8},
                  {Reduction::L1, "es_reduce_l1_s8", es_reduce_l1_s8}};
  const auto *entry = llvm::find_if(kKernels, [kind](const auto &k) { return k.kind == kind; });
  const bool mean = entry == std::end(kKernels);
  const Kernel kernel = mean ? es_reduce_mean_s8 : entry->kernel;
  ctx.call<es_reduce_mean_s8_params_t>(
      mean ? "es_reduce_mean_s8" : entry->function, p, {ctx.input(0), ctx.output()},
      [kernel](const es_reduce_mean_s8_params_t &p, const KernelArgs &a) {
        kernel(&p, a.in<int8_t>(1), a.out<int8_t>(2));
      },
      "reduce");
}
// docs/int8.md "ReduceLogSumExp": LogSoftmax's sum of exponentials and logarithm, plus the
// block's largest value, in Q16 steps of Sy.
void lowerReduceLogSumExpS8(LowerContext &ctx, const AxisSplit &split) {
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  es_log_softmax_s8_params_t p{};
  p.outer = kernelInt(ctx, split.outer, "size");
  p.length = kernelInt(ctx, split.length, "reduced size");
  p.inner = kernelInt(ctx, split.inner, "size");
  // ln(2) / Sy in Q16 must fit int32: a pre-quantised model's finer output is refused.
  const double logFactor = 65536.0 * std::log(2.0) / out.scale;
  if (logFactor >= 2147483647.0)
    ctx.fail("int8 ReduceLogSumExp needs an output scale of at least ln(2) * 2^-15, got {}; "
             "compile the model for float32",
             out.scale);
  p.log_factor = static_cast<int32_t>(roundHalfAway(logFactor, 0, INT32_MAX));
  p.output_zp = out.zeroPoint;
  // Sx (m - Zx) in Q16 steps of Sy; beyond 2^14 steps either way the output saturates anyway.
  std::vector<int32_t> values;
  for (int32_t q = -128; q < 128; ++q)
    values.push_back(static_cast<int32_t>(roundHalfAway(
        65536.0 * in.scale * (q - in.zeroPoint) / out.scale, -(int64_t{1} << 30), int64_t{1} << 30)));
  const KernelArg exp = ctx.constantArray("exp", softmaxExpTable(ctx, in.scale, split.length));
  const KernelArg value = ctx.constantArray("value", std::move(values));
  ctx.call<es_log_softmax_s8_params_t>(
      "es_reduce_log_sum_exp_s8", p, {exp, value, ctx.input(0), ctx.output()},
      [](const es_log_softmax_s8_params_t &p, const KernelArgs &a) {
        es_reduce_log_sum_exp_s8(&p, a.in<uint32_t>(1), a.in<int32_t>(2), a.in<int8_t>(3),
                                 a.out<int8_t>(4));
      },
      "reduce");
}
} // namespace

void lowerReduceOp(LowerContext &ctx, int axesInputOpset, Reduction kind) {
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const AxisSplit split =
      reduceSplit(ctx, shape, loweredReductionAxes(ctx, shape.size(), axesInputOpset));
  if (!ctx.isInt8()) return lowerReduceF32(ctx, split, kind);
  if (kind == Reduction::Max || kind == Reduction::Min) return lowerReduceMaxS8(ctx, split, kind);
  if (kind == Reduction::Prod)
    ctx.fail("int8 code generation does not support ReduceProd (a product of n int8 values has "
             "the scale Sx^n, which no int8 output keeps in range); compile the model for "
             "float32");
  if (kind == Reduction::LogSumExp) return lowerReduceLogSumExpS8(ctx, split);
  lowerRescaledReduceS8(ctx, split, kind);
}

AxisSplit splitAtAxis(llvm::ArrayRef<int64_t> shape, int64_t axis) {
  const size_t index = static_cast<size_t>(axis);
  return {numElements(shape.take_front(index)), shape[index],
          numElements(shape.drop_front(index + 1))};
}

const Tensor &arithmeticView(const Tensor &input, Tensor &storage) {
  if (input.dtype() != DType::Float16 && input.dtype() != DType::BFloat16) return input;
  storage = input.castTo(DType::Float32);
  return storage;
}

void assignResult(Tensor &output, Tensor result) {
  output = result.dtype() == output.dtype() ? std::move(result) : result.castTo(output.dtype());
}

AxisSplit softmaxSplit(const NodeContext &ctx, llvm::ArrayRef<int64_t> shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  if (rank == 0) ctx.fail("input must have rank >= 1, got a scalar");
  const bool coerceTo2D = ctx.opset() < 13;
  const int64_t axis = ctx.normalizeAxis(ctx.attrInt("axis", coerceTo2D ? 1 : -1), rank);
  if (!coerceTo2D) return splitAtAxis(shape, axis);
  const size_t index = static_cast<size_t>(axis);
  return {numElements(shape.take_front(index)), numElements(shape.drop_front(index)), 1};
}

std::vector<uint32_t> softmaxExpTable(const NodeContext &ctx, double inputScale,
                                      int64_t lineLength) {
  // A longer line could overflow the kernels' uint32 sum of entries up to 2^16.
  if (lineLength > 65535)
    ctx.fail("int8 {} normalises lines of at most 65535 elements, got {}; compile "
             "the model for float32",
             ctx.node().opType, lineLength);
  return softmaxExpTable(inputScale);
}

void inferSoftmax(InferContext &ctx) {
  inferSameAsInput(ctx);
  softmaxSplit(ctx, ctx.inputShape(0));
}

void runSoftmax(KernelContext &ctx, bool logarithm) {
  const Tensor input = ctx.input(0).castTo(DType::Float64);
  const AxisSplit split = softmaxSplit(ctx, input.shape());
  Tensor result(DType::Float64, input.shape());
  const double *x = input.data<double>();
  double *y = result.data<double>();
  for (int64_t outer = 0; outer < split.outer; ++outer)
    for (int64_t inner = 0; inner < split.inner; ++inner) {
      const int64_t first = outer * split.length * split.inner + inner;
      auto at = [&](int64_t k) { return first + k * split.inner; };
      // Shifting by the maximum keeps exp() from overflowing and leaves the result unchanged.
      double largest = -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < split.length; ++k) largest = std::max(largest, x[at(k)]);
      double sum = 0.0;
      for (int64_t k = 0; k < split.length; ++k) sum += std::exp(x[at(k)] - largest);
      const double logSum = std::log(sum);
      for (int64_t k = 0; k < split.length; ++k)
        y[at(k)] = logarithm ? x[at(k)] - largest - logSum : std::exp(x[at(k)] - largest) / sum;
    }
  assignResult(ctx.output(0), std::move(result));
}

} // namespace edgesplit::ops
