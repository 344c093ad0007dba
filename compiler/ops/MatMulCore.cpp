#include "ops/MatMulCore.h"

#include "codegen/LowerContext.h"

namespace edgesplit::ops {

bool isMatMulType(DType type) {
  return isFloatingPoint(type) || type == DType::Int32 || type == DType::Int64 ||
         type == DType::UInt32 || type == DType::UInt64;
}

MatMulShape matMulShape(const NodeContext &ctx, llvm::ArrayRef<int64_t> a,
                        llvm::ArrayRef<int64_t> b) {
  if (a.empty() || b.empty())
    ctx.fail("matmul operands must have rank >= 1, got shapes {} and {}", formatShape(a),
             formatShape(b));
  const Shape matrixA = a.size() == 1 ? Shape{1, a[0]} : Shape(a.begin(), a.end());
  const Shape matrixB = b.size() == 1 ? Shape{b[0], 1} : Shape(b.begin(), b.end());
  MatMulShape shape;
  shape.rows = matrixA[matrixA.size() - 2];
  shape.inner = matrixA.back();
  shape.cols = matrixB.back();
  if (matrixB[matrixB.size() - 2] != shape.inner)
    ctx.fail("inner dimensions differ: a {} has {} columns but b {} has {} rows", formatShape(a),
             shape.inner, formatShape(b), matrixB[matrixB.size() - 2]);
  shape.batchA.assign(matrixA.begin(), matrixA.end() - 2);
  shape.batchB.assign(matrixB.begin(), matrixB.end() - 2);
  shape.batch = broadcastShapes(ctx, {shape.batchA, shape.batchB});
  shape.output = shape.batch;
  if (a.size() > 1) shape.output.push_back(shape.rows);
  if (b.size() > 1) shape.output.push_back(shape.cols);
  shape.matrixOutput = shape.batch;
  shape.matrixOutput.append({shape.rows, shape.cols});
  return shape;
}

int64_t matMulMacs(const Node &node) {
  const Value *a = node.input(0);
  const Value *output = node.outputs.empty() ? nullptr : node.outputs[0];
  if (!a || !a->shape || a->shape->empty() || !output || !output->shape) return 0;
  return numElements(*output->shape) * a->shape->back();
}

Shape quantParamShape(const NodeContext &ctx, std::string_view name, llvm::ArrayRef<int64_t> param,
                      llvm::ArrayRef<int64_t> operand, QuantAxis axis) {
  if (numElements(param) == 1) return {};
  const bool perRow = axis == QuantAxis::Rows;
  if (operand.size() >= 2) {
    const size_t rank = operand.size();
    if (param.size() == 1) {
      const int64_t expected = operand[perRow ? rank - 2 : rank - 1];
      if (param[0] != expected)
        ctx.fail("{} has {} values but the operand of shape {} has {} {}", name, param[0],
                 formatShape(operand), expected, perRow ? "rows" : "columns");
      return perRow ? Shape{param[0], 1} : Shape{param[0]};
    }
    // An N-D parameter keeps one value along the other matrix dimension and broadcasts onto the
    // operand's batch dimensions.
    bool broadcasts = param.size() <= rank && param[param.size() - (perRow ? 1 : 2)] == 1;
    for (size_t i = 0; broadcasts && i < param.size(); ++i) {
      const int64_t dim = param[param.size() - 1 - i];
      broadcasts = dim == 1 || dim == operand[rank - 1 - i];
    }
    if (broadcasts) return Shape(param.begin(), param.end());
  }
  ctx.fail("{} of shape {} is neither per-tensor nor per-{} for an operand of shape {}", name,
           formatShape(param), perRow ? "row" : "column", formatShape(operand));
}

void checkZeroPoint(const InferContext &ctx, size_t index, size_t operandIndex, QuantAxis axis) {
  if (!ctx.hasInput(index)) return;
  if (ctx.inputType(index) != ctx.inputType(operandIndex))
    ctx.fail("zero point (input {}) is {} but its operand (input {}) is {}", index,
             dtypeName(ctx.inputType(index)), operandIndex, dtypeName(ctx.inputType(operandIndex)));
  quantParamShape(ctx, fmt::format("zero point (input {})", index), ctx.inputShape(index),
                  ctx.inputShape(operandIndex), axis);
}

Tensor subtractZeroPoint(const NodeContext &ctx, const Tensor &operand, const Tensor *zeroPoint,
                         QuantAxis axis) {
  Tensor centred = operand.castTo(DType::Int32);
  if (!zeroPoint) return centred;
  const Tensor zeroPoints =
      zeroPoint->castTo(DType::Int32)
          .reshaped(quantParamShape(ctx, "zero point", zeroPoint->shape(), operand.shape(), axis));
  const BroadcastIndexer zeroPointOf(zeroPoints.shape(), operand.shape());
  int32_t *values = centred.data<int32_t>();
  const int32_t *offsets = zeroPoints.data<int32_t>();
  for (int64_t i = 0; i < centred.numElements(); ++i) values[i] -= offsets[zeroPointOf(i)];
  return centred;
}

void lowerFullyConnected(LowerContext &ctx, const FullyConnectedLayer &layer) {
  const bool hasBias = layer.biasInput.has_value();
  if (!ctx.isInt8()) {
    std::vector<float> weights = ctx.floatWeights(layer.weightInput, layer.channelAxis);
    for (float &w : weights) w *= layer.alpha;
    std::vector<float> bias = hasBias ? ctx.floatConstant(*layer.biasInput) : std::vector<float>{};
    for (float &b : bias) b *= layer.beta;
    es_fully_connected_f32_params_t p{};
    p.batch = static_cast<int32_t>(layer.batch);
    p.in_features = static_cast<int32_t>(layer.inFeatures);
    p.out_features = static_cast<int32_t>(layer.outFeatures);
    std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
    // Four rows per pass, equal to es_fully_connected_f32 bit for bit (docs/performance.md).
    ctx.call<es_fully_connected_f32_params_t>(
        "es_fully_connected_blocked_f32", p,
        {ctx.input(0), ctx.constantArray("weights", std::move(weights)),
         hasBias ? ctx.constantArray("bias", std::move(bias)) : LowerContext::null(), ctx.output()},
        [](const es_fully_connected_f32_params_t &p, const KernelArgs &a) {
          es_fully_connected_blocked_f32(&p, a.in<float>(1), a.in<float>(2), a.in<float>(3),
                                         a.out<float>(4));
        },
        "fully_connected");
    return;
  }
  if (layer.alpha != 1.0f)
    ctx.fail("int8 code generation supports only alpha = 1, got {}; fold alpha into the "
             "weights, or compile for float32",
             layer.alpha);
  if (hasBias && layer.beta != 1.0f)
    ctx.fail("int8 code generation supports only beta = 1 with a bias C, got {}; fold "
             "beta into the bias, or compile for float32",
             layer.beta);
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  LowerContext::Weights weights = ctx.int8Weights(layer.weightInput, layer.channelAxis);
  es_fully_connected_s8_params_t p{};
  p.batch = static_cast<int32_t>(layer.batch);
  p.in_features = static_cast<int32_t>(layer.inFeatures);
  p.out_features = static_cast<int32_t>(layer.outFeatures);
  p.input_zp = in.zeroPoint;
  p.output_zp = out.zeroPoint;
  std::tie(p.act_min, p.act_max) = ctx.int8ActivationRange(out);
  std::vector<es_requant_t> perChannel;
  for (double scale : weights.scales) {
    perChannel.push_back(ctx.requant(in.scale * scale / out.scale));
    // A factor that underflows to multiplier 0 (a row of weights near 1e-10, as weight decay
    // leaves them) gives the zero point whatever its shift (docs/int8.md); shift -1 rather than
    // 0 keeps the layer within the folded kernel's conditions.
    if (perChannel.back().multiplier == 0) perChannel.back().shift = -1;
  }
  std::vector<int32_t> bias = hasBias
                                  ? ctx.int32Bias(*layer.biasInput, in.scale, weights.scales)
                                  : std::vector<int32_t>{};
  // With the input zero point folded into the bias, es_fully_connected_folded_s8 accumulates in
  // int32 (SMLAD on DSP cores); it is exact only under foldedFastKernelBias's conditions.
  if (std::optional<std::vector<int32_t>> folded =
          foldedFastKernelBias(weights.values, bias, perChannel, p.input_zp)) {
    ctx.call<es_fully_connected_s8_params_t>(
        "es_fully_connected_folded_s8", p,
        {ctx.input(0), ctx.constantArray("weights", std::move(weights.values)),
         ctx.constantArray("bias_folded", std::move(*folded)),
         ctx.constantArray("requant", std::move(perChannel)), ctx.output()},
        [](const es_fully_connected_s8_params_t &p, const KernelArgs &a) {
          es_fully_connected_folded_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int32_t>(3),
                                       a.in<es_requant_t>(4), a.out<int8_t>(5));
        },
        "fully_connected");
    return;
  }
  ctx.call<es_fully_connected_s8_params_t>(
      "es_fully_connected_s8", p,
      {ctx.input(0), ctx.constantArray("weights", std::move(weights.values)),
       hasBias ? ctx.constantArray("bias", std::move(bias)) : LowerContext::null(),
       ctx.constantArray("requant", std::move(perChannel)), ctx.output()},
      [](const es_fully_connected_s8_params_t &p, const KernelArgs &a) {
        es_fully_connected_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int32_t>(3),
                              a.in<es_requant_t>(4), a.out<int8_t>(5));
      },
      "fully_connected");
}

} // namespace edgesplit::ops
