#include "ops/Binary.h"

#include "codegen/LowerContext.h"
#include "ops/Layout.h"
#include "ops/Unary.h"
#include "quantize/Annotate.h"

#include <cmath>

#include <algorithm>
#include <array>

namespace edgesplit::ops {

void inferBroadcastBinary(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (type == DType::Bool) ctx.fail("bool inputs are not supported");
  for (size_t i = 1; i < ctx.numInputs(); ++i)
    if (ctx.inputType(i) != type)
      ctx.fail("inputs have different types (input 0 is {}, input {} is {}); insert a Cast",
               dtypeName(type), i, dtypeName(ctx.inputType(i)));
  const size_t firstRank = ctx.inputShape(0).size();
  llvm::SmallVector<Shape, 4> shapes;
  for (size_t i = 0; i < ctx.numInputs(); ++i)
    shapes.push_back(broadcastOperandShape(ctx, i, ctx.inputShape(i), firstRank));
  llvm::SmallVector<llvm::ArrayRef<int64_t>, 4> shapeRefs(shapes.begin(), shapes.end());
  ctx.setOutput(0, type, broadcastShapes(ctx, shapeRefs));
}

Shape broadcastOperandShape(const NodeContext &ctx, size_t index, llvm::ArrayRef<int64_t> shape,
                            size_t firstRank) {
  Shape result(shape.begin(), shape.end());
  const bool legacyAxisBroadcast =
      index == 1 && ctx.opset() < 7 && ctx.attrInt("broadcast", 0) != 0 && ctx.hasAttr("axis");
  if (!legacyAxisBroadcast) return result;
  const int64_t rank = static_cast<int64_t>(firstRank);
  const int64_t axis = ctx.normalizeAxis(ctx.attrInt("axis", 0), rank);
  const int64_t trailingOnes = rank - axis - static_cast<int64_t>(shape.size());
  if (trailingOnes < 0)
    ctx.fail("input 1 of shape {} does not fit in input 0 (rank {}) from axis {}",
             formatShape(shape), rank, axis);
  result.append(static_cast<size_t>(trailingOnes), 1);
  return result;
}

void inferComparison(InferContext &ctx) {
  if (ctx.inputType(0) != ctx.inputType(1))
    ctx.fail("inputs have different types (input 0 is {}, input 1 is {}); insert a Cast",
             dtypeName(ctx.inputType(0)), dtypeName(ctx.inputType(1)));
  ctx.setOutput(0, DType::Bool, broadcastShapes(ctx, {ctx.inputShape(0), ctx.inputShape(1)}));
}

namespace {
// Operand a, operand b and output shapes, the operands aligned to the output's rank. Above the
// kernels' 4-D, size-1 output axes drop and neighbouring axes that each operand either spans or
// broadcasts alike merge, which fits most broadcasts of 5-D and wider tensors.
std::array<Shape, 3> kernelBroadcastShapes(const LowerContext &ctx) {
  const llvm::ArrayRef<int64_t> out = ctx.outputShape();
  std::array<Shape, 3> shapes;
  for (size_t k : {0, 1}) {
    shapes[k] = broadcastOperandShape(ctx, k, ctx.inputShape(k), ctx.inputShape(0).size());
    shapes[k].insert(shapes[k].begin(), out.size() - shapes[k].size(), 1);
  }
  shapes[2].assign(out.begin(), out.end());
  if (out.size() <= ES_MAX_RANK) return shapes;

  std::array<Shape, 3> merged;
  for (size_t axis = 0; axis < out.size(); ++axis) {
    if (out[axis] == 1) continue;
    // A merged axis spanned by an operand has a size above 1, a broadcast one has size 1.
    const bool mergeable = !merged[2].empty() &&
                           (merged[0].back() != 1) == (shapes[0][axis] != 1) &&
                           (merged[1].back() != 1) == (shapes[1][axis] != 1);
    for (size_t k = 0; k < 3; ++k) {
      if (mergeable) merged[k].back() *= shapes[k][axis];
      else merged[k].push_back(shapes[k][axis]);
    }
  }
  if (merged[2].size() > ES_MAX_RANK)
    ctx.fail("broadcasting {} with {} to {} needs {} dimensions even with axes merged; the "
             "kernels support {}",
             formatShape(shapes[0]), formatShape(shapes[1]), formatShape(out), merged[2].size(),
             ES_MAX_RANK);
  return merged;
}

template <typename P> P binaryParams(const LowerContext &ctx) {
  const std::array<Shape, 3> shapes = kernelBroadcastShapes(ctx);
  P p{};
  kernelShape4D(ctx, shapes[0], p.a_shape);
  kernelShape4D(ctx, shapes[1], p.b_shape);
  kernelShape4D(ctx, shapes[2], p.out_shape);
  return p;
}

// The kernels read operands through pointers, so a constant takes an activation's place.
KernelArg operand(LowerContext &ctx, size_t index) {
  if (!ctx.inputIsConstant(index)) return ctx.input(index);
  const std::string suffix = index == 0 ? "a" : "b";
  if (ctx.isInt8()) return ctx.constantArray(suffix, ctx.int8Constant(index));
  return ctx.constantArray(suffix, ctx.floatConstant(index));
}

// How es_add_s8 sees an Add or Sub: `full` is the operand with the output's shape, the other
// one value, the output's shape, or a contiguous run of the output's axes (its channels).
struct AddLayout {
  size_t full; // 0 (a) or 1 (b); b only for an operation that commutes
  es_add_s8_layout_t layout;
  int64_t outer, channels, inner;
};

std::optional<AddLayout> addLayout(const std::array<Shape, 3> &shapes, bool commutes) {
  const Shape &out = shapes[2];
  for (size_t full : {size_t{0}, size_t{1}}) {
    if (shapes[full] != out || (full == 1 && !commutes)) continue;
    const Shape &other = shapes[1 - full];
    const int64_t count = numElements(out);
    if (numElements(other) == 1) return AddLayout{full, ES_ADD_S8_SCALAR, 1, 1, count};
    if (other == out) return AddLayout{full, ES_ADD_S8_SAME, 1, 1, count};
    size_t first = out.size(), last = 0;
    for (size_t axis = 0; axis < out.size(); ++axis)
      if (other[axis] != 1) first = std::min(first, axis), last = axis;
    bool spans = true;
    for (size_t axis = first; axis <= last; ++axis) spans = spans && other[axis] == out[axis];
    if (!spans) continue;
    const auto product = [&](size_t begin, size_t end) {
      return numElements(llvm::ArrayRef<int64_t>(out).slice(begin, end - begin));
    };
    return AddLayout{full, ES_ADD_S8_PER_CHANNEL, product(0, first), product(first, last + 1),
                     product(last + 1, out.size())};
  }
  return std::nullopt;
}

// es_add_s8's int32 arithmetic is exact when both operand factors are at most 1/2 and the output
// factor's left shift at most 1 (es_s8.h).
bool addFactorsFit(const es_binary_s8_params_t &p) {
  const auto atMostHalf = [](es_requant_t m) {
    return m.shift < 0 || (m.shift == 0 && m.multiplier <= (int32_t{1} << 30));
  };
  return atMostHalf(p.a_requant) && atMostHalf(p.b_requant) && p.output_requant.shift <= 1;
}

// Add and Sub without general broadcasting go to es_add_s8; false when they need es_binary_s8.
bool lowerAddWithoutBroadcast(LowerContext &ctx, const es_binary_s8_params_t &binary) {
  if (!addFactorsFit(binary)) return false;
  const auto layout = addLayout(kernelBroadcastShapes(ctx), binary.op == ES_S8_ADD);
  if (!layout || layout->inner > INT32_MAX / std::max<int64_t>(layout->outer * layout->channels, 1))
    return false;
  const bool swap = layout->full == 1;
  es_add_s8_params_t p{};
  p.outer = static_cast<int32_t>(layout->outer);
  p.channels = static_cast<int32_t>(layout->channels);
  p.inner = static_cast<int32_t>(layout->inner);
  p.b_layout = layout->layout;
  p.subtract = binary.op == ES_S8_SUB;
  p.a_zp = swap ? binary.b_zp : binary.a_zp;
  p.b_zp = swap ? binary.a_zp : binary.b_zp;
  p.a_requant = swap ? binary.b_requant : binary.a_requant;
  p.b_requant = swap ? binary.a_requant : binary.b_requant;
  p.output_zp = binary.output_zp;
  p.output_requant = binary.output_requant;
  p.act_min = binary.act_min;
  p.act_max = binary.act_max;
  ctx.call<es_add_s8_params_t>(
      "es_add_s8", p, {operand(ctx, swap ? 1 : 0), operand(ctx, swap ? 0 : 1), ctx.output()},
      [](const es_add_s8_params_t &p, const KernelArgs &a) {
        es_add_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.out<int8_t>(3));
      },
      "add");
  return true;
}

es_binary_f32_op_t floatOp(ArithmeticKind kind) {
  switch (kind) {
  case ArithmeticKind::Add: return ES_F32_ADD;
  case ArithmeticKind::Sub: return ES_F32_SUB;
  case ArithmeticKind::Mul: return ES_F32_MUL;
  case ArithmeticKind::Div: return ES_F32_DIV;
  case ArithmeticKind::Max: return ES_F32_MAX;
  case ArithmeticKind::Min: return ES_F32_MIN;
  case ArithmeticKind::PRelu: return ES_F32_PRELU;
  case ArithmeticKind::Greater: return ES_F32_GREATER;
  case ArithmeticKind::Less: return ES_F32_LESS;
  case ArithmeticKind::GreaterOrEqual: return ES_F32_GREATER_OR_EQUAL;
  case ArithmeticKind::LessOrEqual: return ES_F32_LESS_OR_EQUAL;
  case ArithmeticKind::Equal: return ES_F32_EQUAL;
  }
  return ES_F32_ADD;
}

std::optional<es_compare_s8_op_t> compareOp(ArithmeticKind kind) {
  switch (kind) {
  case ArithmeticKind::Greater: return ES_S8_GREATER;
  case ArithmeticKind::Less: return ES_S8_LESS;
  case ArithmeticKind::GreaterOrEqual: return ES_S8_GREATER_OR_EQUAL;
  case ArithmeticKind::LessOrEqual: return ES_S8_LESS_OR_EQUAL;
  case ArithmeticKind::Equal: return ES_S8_EQUAL;
  default: return std::nullopt;
  }
}

// The value code q of an operand stands for, as onnxruntime's DequantizeLinear computes it on the
// emitted QDQ file: (q - Z) converted to float and multiplied by the float32 scale, one rounding.
float dequantized(const TensorQuant &params, int32_t q) {
  return static_cast<float>(q - params.zeroPoint) * static_cast<float>(params.scale);
}

// docs/int8.md "Comparisons": a's 256 values placed on b's grid, 2 k where a value equals that of
// b's code k - 128 and 2 k - 1 between those of codes k - 129 and k - 128. b's values rise
// strictly with the code (neighbours differ by the scale, far above float32's rounding).
std::vector<int16_t> comparisonGrid(const TensorQuant &a, const TensorQuant &b) {
  std::array<float, 256> bValues;
  for (int32_t k = 0; k < 256; ++k) bValues[k] = dequantized(b, k - 128);
  std::vector<int16_t> grid(256);
  for (int32_t k = 0; k < 256; ++k) {
    const float value = dequantized(a, k - 128);
    const auto below = std::lower_bound(bValues.begin(), bValues.end(), value);
    const auto count = static_cast<int32_t>(below - bValues.begin());
    const bool equal = below != bValues.end() && *below == value;
    grid[k] = static_cast<int16_t>(equal ? 2 * count : 2 * count - 1);
  }
  return grid;
}

// A comparison in int8: es_compare_s8 on the codes, through a's grid when the parameters differ.
void lowerComparisonInt8(LowerContext &ctx, es_compare_s8_op_t op) {
  const TensorQuant a = ctx.inputQuant(0), b = ctx.inputQuant(1);
  auto p = binaryParams<es_compare_s8_params_t>(ctx);
  p.op = op;
  const bool sameGrid = a.scale == b.scale && a.zeroPoint == b.zeroPoint;
  ctx.call<es_compare_s8_params_t>(
      "es_compare_s8", p,
      {operand(ctx, 0), operand(ctx, 1),
       sameGrid ? LowerContext::null() : ctx.constantArray("grid", comparisonGrid(a, b)),
       ctx.output()},
      [](const es_compare_s8_params_t &p, const KernelArgs &a) {
        es_compare_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int16_t>(3), a.out<int8_t>(4));
      },
      "elementwise");
}
} // namespace

void quantizeArithmetic(QuantizeContext &ctx) {
  ctx.annotateOutputFromRange(0);
  for (size_t i = 0; i < ctx.numInputs(); ++i) ctx.annotateConstantOperand(i);
}

void annotateScalarScaling(QuantizeContext &ctx, ArithmeticKind kind) {
  const Node &node = ctx.node();
  const Value *data = node.input(0), *factor = node.input(1);
  if (kind == ArithmeticKind::Mul && data && data->isConstant()) std::swap(data, factor);
  const bool scales = data && data->quant && data->quant->scales.size() == 1 && factor &&
                      factor->isConstant() && factor->constant->numElements() == 1 &&
                      factor->constant->elementAsDouble(0) > 0.0 &&
                      std::isfinite(factor->constant->elementAsDouble(0));
  if (!scales) {
    ctx.annotateOutputFromRange(0);
  } else {
    const double value = factor->constant->elementAsDouble(0);
    const double scale = kind == ArithmeticKind::Mul ? data->quant->scales[0] * value
                                                     : data->quant->scales[0] / value;
    ctx.annotateOutputFixed(0, scale,
                           data->quant->zeroPoints.empty() ? 0 : data->quant->zeroPoints[0]);
  }
  // The int8 Mul and Div kernel reads a constant operand in its own parameters; Div by a
  // constant scalar is a table of the other operand and reads none.
  const bool divisionTable = kind == ArithmeticKind::Div && factor && factor == node.input(1) &&
                             factor->isConstant() && factor->constant->numElements() == 1;
  if (!divisionTable)
    for (size_t i = 0; i < ctx.numInputs(); ++i) ctx.annotateConstantOperand(i);
}

void lowerArithmetic(LowerContext &ctx, ArithmeticKind kind) {
  if (ctx.numInputs() != 2)
    ctx.fail("code generation supports {} of two inputs, and this one has {}; write it as a "
             "chain of two-input {} nodes",
             ctx.node().opType, ctx.numInputs(), ctx.node().opType);
  if (compareOp(kind) && ctx.inputValue(0).dtype != DType::Float32)
    ctx.fail("code generation compares float32 tensors only, and '{}' is {}; compare float32 "
             "values in the model",
             ctx.inputValue(0).name, dtypeName(ctx.inputValue(0).dtype));
  if (!ctx.isInt8()) {
    auto p = binaryParams<es_binary_f32_params_t>(ctx);
    p.op = floatOp(kind);
    std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
    // es_binary_fast_f32 takes the layouts of es_add_s8 (an operand of the output's shape, the
    // other a scalar, the same shape or a run of its axes), the full operand first: Add and Mul
    // commute exactly, so either may be the full one.
    const bool commutes = kind == ArithmeticKind::Add || kind == ArithmeticKind::Mul;
    if (const auto layout = addLayout(kernelBroadcastShapes(ctx), commutes)) {
      const bool swap = layout->full == 1;
      if (swap) std::swap(p.a_shape, p.b_shape);
      ctx.call<es_binary_f32_params_t>(
          "es_binary_fast_f32", p,
          {operand(ctx, swap ? 1 : 0), operand(ctx, swap ? 0 : 1), ctx.output()},
          [](const es_binary_f32_params_t &p, const KernelArgs &a) {
            es_binary_fast_f32(&p, a.in<float>(1), a.in<float>(2), a.out<float>(3));
          },
          "elementwise");
      return;
    }
    ctx.call<es_binary_f32_params_t>(
        "es_binary_f32", p, {operand(ctx, 0), operand(ctx, 1), ctx.output()},
        [](const es_binary_f32_params_t &p, const KernelArgs &a) {
          es_binary_f32(&p, a.in<float>(1), a.in<float>(2), a.out<float>(3));
        },
        "elementwise");
    return;
  }
  if (const auto op = compareOp(kind)) {
    lowerComparisonInt8(ctx, *op);
    return;
  }
  if (kind == ArithmeticKind::Div) {
    // By a constant scalar it is a function of one int8 input: a table (docs/int8.md).
    if (ctx.inputIsConstant(1) && ctx.constantInput(1).numElements() == 1 &&
        !ctx.inputIsConstant(0)) {
      lowerLookupTable(ctx);
      return;
    }
    // A division by a square root is a LayerNorm's, which int8 has as one op: say why these
    // steps did not fold into it rather than divide by an int8 standard deviation. Any other
    // divisor takes es_binary_s8's division below.
    const Node *root = ctx.node().input(1) ? ctx.node().input(1)->producer : nullptr;
    if (root && root->domain.empty() &&
        (root->opType == "Sqrt" ||
         (root->opType == "Pow" && root->input(1) && root->input(1)->isConstant() &&
          root->input(1)->constant->numElements() == 1 &&
          root->input(1)->constant->elementAsDouble(0) == 0.5)))
      ctx.fail("int8 code generation divides by a square root only within a LayerNorm, and this "
               "one divides by '{}' without forming the LayerNorm that folds into one int8 "
               "LayerNormalization (docs/int8.md: the mean and the variance over the same "
               "trailing axes, each step read only by the next, Scale and B constants); compile "
               "the model for float32",
               root->name);
  }
  const TensorQuant a = ctx.inputQuant(0), b = ctx.inputQuant(1), y = ctx.outputQuant();
  auto p = binaryParams<es_binary_s8_params_t>(ctx);
  p.a_zp = a.zeroPoint;
  p.b_zp = b.zeroPoint;
  p.output_zp = y.zeroPoint;
  std::tie(p.act_min, p.act_max) = ctx.int8ActivationRange(y);
  if (kind == ArithmeticKind::Mul) {
    p.op = ES_S8_MUL;
    p.output_requant = ctx.requant(a.scale * b.scale / y.scale);
  } else if (kind == ArithmeticKind::Div) {
    // docs/int8.md "Div": the quotient of the codes in Q23, then Mul's rescaling.
    p.op = ES_S8_DIV;
    p.output_requant =
        ctx.requant(a.scale / (b.scale * y.scale * static_cast<double>(1 << ES_S8_DIV_SHIFT)));
  } else if (kind == ArithmeticKind::Max || kind == ArithmeticKind::Min) {
    // docs/int8.md: each operand moves to the output's parameters, then the two compare.
    p.op = kind == ArithmeticKind::Max ? ES_S8_MAX : ES_S8_MIN;
    p.a_requant = ctx.requant(a.scale / y.scale);
    p.b_requant = ctx.requant(b.scale / y.scale);
  } else if (kind == ArithmeticKind::PRelu) {
    p.op = ES_S8_PRELU;
    p.a_requant = ctx.requant(a.scale / y.scale);
    p.output_requant = ctx.requant(a.scale * b.scale / y.scale);
  } else {
    // docs/int8.md: both operands are brought to a common scale with 20 bits of headroom.
    p.op = kind == ArithmeticKind::Add ? ES_S8_ADD : ES_S8_SUB;
    const double twiceMax = 2.0 * std::max(a.scale, b.scale);
    p.a_requant = ctx.requant(a.scale / twiceMax);
    p.b_requant = ctx.requant(b.scale / twiceMax);
    p.output_requant =
        ctx.requant(twiceMax / (static_cast<double>(1 << ES_S8_ADD_LEFT_SHIFT) * y.scale));
    if (lowerAddWithoutBroadcast(ctx, p)) return;
  }
  ctx.call<es_binary_s8_params_t>(
      "es_binary_s8", p, {operand(ctx, 0), operand(ctx, 1), ctx.output()},
      [](const es_binary_s8_params_t &p, const KernelArgs &a) {
        es_binary_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.out<int8_t>(3));
      },
      "elementwise");
}

} // namespace edgesplit::ops
