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

es_binary_f32_op_t floatOp(ArithmeticKind kind) {
  switch (kind) {
  case ArithmeticKind::Add: return ES_F32_ADD;
  case ArithmeticKind::Sub: return ES_F32_SUB;
  case ArithmeticKind::Mul: return ES_F32_MUL;
  case ArithmeticKind::Div: return ES_F32_DIV;
  }
  return ES_F32_ADD;
}
} // namespace

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
    return;
  }
  const double value = factor->constant->elementAsDouble(0);
  const double scale = kind == ArithmeticKind::Mul ? data->quant->scales[0] * value
                                                   : data->quant->scales[0] / value;
  ctx.annotateOutputFixed(0, scale, data->quant->zeroPoints.empty() ? 0 : data->quant->zeroPoints[0]);
}

void lowerArithmetic(LowerContext &ctx, ArithmeticKind kind) {
  if (!ctx.isInt8()) {
    auto p = binaryParams<es_binary_f32_params_t>(ctx);
    p.op = floatOp(kind);
    std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
    ctx.call<es_binary_f32_params_t>(
        "es_binary_f32", p, {operand(ctx, 0), operand(ctx, 1), ctx.output()},
        [](const es_binary_f32_params_t &p, const KernelArgs &a) {
          es_binary_f32(&p, a.in<float>(1), a.in<float>(2), a.out<float>(3));
        },
        "elementwise");
    return;
  }
  if (kind == ArithmeticKind::Div) {
    // By a constant scalar it is a function of one int8 input: a table (docs/int8.md).
    if (ctx.inputIsConstant(1) && ctx.constantInput(1).numElements() == 1 &&
        !ctx.inputIsConstant(0)) {
      lowerLookupTable(ctx);
      return;
    }
    ctx.fail("int8 code generation supports Div only by a constant scalar (there is no int8 "
             "division kernel); compile the model for float32");
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
  } else {
    // docs/int8.md: both operands are brought to a common scale with 20 bits of headroom.
    p.op = kind == ArithmeticKind::Add ? ES_S8_ADD : ES_S8_SUB;
    const double twiceMax = 2.0 * std::max(a.scale, b.scale);
    p.a_requant = ctx.requant(a.scale / twiceMax);
    p.b_requant = ctx.requant(b.scale / twiceMax);
    p.output_requant =
        ctx.requant(twiceMax / (static_cast<double>(1 << ES_S8_ADD_LEFT_SHIFT) * y.scale));
  }
  ctx.call<es_binary_s8_params_t>(
      "es_binary_s8", p, {operand(ctx, 0), operand(ctx, 1), ctx.output()},
      [](const es_binary_s8_params_t &p, const KernelArgs &a) {
        es_binary_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.out<int8_t>(3));
      },
      "elementwise");
}

} // namespace edgesplit::ops
