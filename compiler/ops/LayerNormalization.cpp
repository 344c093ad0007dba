#include "ops/LayerNormalization.h"

#include "ops/Layout.h"
#include "ops/OpKit.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"
#include "quantize/QuantMath.h"

#include <bit>
#include <cmath>

namespace edgesplit::ops {
namespace {
// y = (x - mean) / sqrt(var + epsilon) * scale + bias over the dimensions from `axis` on (PyTorch's
// LayerNorm from opset 17; passes/FoldLayerNormalization.cpp makes the primitives older exports
// write into this op).
int64_t normalizedAxis(const NodeContext &ctx, int64_t rank) {
  return ctx.normalizeAxis(ctx.attrInt("axis", -1), rank);
}

// Scale or B (`given`) broadcast to the normalised shape, row-major; `fallback` when absent.
std::vector<double> perElement(const Tensor *given, llvm::ArrayRef<int64_t> normalized,
                               double fallback) {
  const int64_t inner = numElements(normalized);
  if (!given) return std::vector<double>(static_cast<size_t>(inner), fallback);
  const Tensor wide = given->castTo(DType::Float64);
  const BroadcastIndexer at(wide.shape(), normalized);
  std::vector<double> values;
  for (int64_t k = 0; k < inner; ++k) values.push_back(wide.data<double>()[at(k)]);
  return values;
}

void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (!isFloatingPoint(type)) ctx.fail("X must be a floating-point tensor, got {}", dtypeName(type));
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const int64_t axis = normalizedAxis(ctx, static_cast<int64_t>(shape.size()));
  const llvm::ArrayRef<int64_t> normalized = shape.drop_front(static_cast<size_t>(axis));
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.hasInput(i)) continue;
    if (ctx.inputType(i) != type)
      ctx.fail("input {} is {}, X is {}", i, dtypeName(ctx.inputType(i)), dtypeName(type));
    if (llvm::ArrayRef<int64_t>(broadcastShapes(ctx, {normalized, ctx.inputShape(i)})) != normalized)
      ctx.fail("input {} of shape {} does not broadcast to the normalised shape {}", i,
               formatShape(ctx.inputShape(i)), formatShape(normalized));
  }
  ctx.setOutput(0, type, shape);
  Shape statistics(shape.begin(), shape.end());
  for (size_t d = static_cast<size_t>(axis); d < statistics.size(); ++d) statistics[d] = 1;
  ctx.setOutput(1, DType::Float32, statistics);
  ctx.setOutput(2, DType::Float32, statistics);
}

void run(KernelContext &ctx) {
  const Tensor x = ctx.input(0).castTo(DType::Float64);
  const int64_t axis = normalizedAxis(ctx, x.rank());
  const llvm::ArrayRef<int64_t> normalized = x.shape().drop_front(static_cast<size_t>(axis));
  const int64_t inner = numElements(normalized), outer = x.numElements() / std::max<int64_t>(inner, 1);
  const double epsilon = ctx.attrFloat("epsilon", 1e-5f);
  const std::vector<double> scale = perElement(&ctx.input(1), normalized, 1.0);
  const std::vector<double> bias =
      perElement(ctx.hasInput(2) ? &ctx.input(2) : nullptr, normalized, 0.0);
  Tensor y(DType::Float64, x.shape()), mean(DType::Float64, {outer}), inverse(DType::Float64, {outer});
  const double *in = x.data<double>();
  for (int64_t row = 0; row < outer; ++row) {
    const double *line = in + row * inner;
    double sum = 0.0, squares = 0.0;
    for (int64_t k = 0; k < inner; ++k) sum += line[k];
    const double mu = sum / static_cast<double>(inner);
    for (int64_t k = 0; k < inner; ++k) squares += (line[k] - mu) * (line[k] - mu);
    const double invStd = 1.0 / std::sqrt(squares / static_cast<double>(inner) + epsilon);
    for (int64_t k = 0; k < inner; ++k)
      y.data<double>()[row * inner + k] =
          (line[k] - mu) * invStd * scale[static_cast<size_t>(k)] + bias[static_cast<size_t>(k)];
    mean.data<double>()[row] = mu;
    inverse.data<double>()[row] = invStd;
  }
  ctx.output(0) = y.castTo(ctx.output(0).dtype());
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.hasOutput(i)) continue;
    Tensor &statistic = ctx.output(i);
    const Tensor &source = i == 1 ? mean : inverse;
    statistic = source.castTo(DType::Float32).reshaped(statistic.shape());
  }
}

// docs/int8.md: the output from its calibrated range. Scale and B stay float constants: the kernel
// folds them into its per-element factors and offsets at compile time.
void quantize(QuantizeContext &ctx) { ctx.annotateOutputFromRange(0); }

void lower(LowerContext &ctx) {
  if (ctx.hasOutput(1) || ctx.hasOutput(2))
    ctx.fail("code generation computes LayerNormalization's Y alone, and the model reads its Mean "
             "or InvStdDev output; export the model for inference");
  for (size_t i = 1; i < 3; ++i)
    if (ctx.hasInput(i) && !ctx.inputIsConstant(i))
      ctx.fail("code generation needs LayerNormalization's Scale and B to be constants; '{}' is "
               "computed at run time",
               ctx.inputValue(i).name);
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const size_t axis = static_cast<size_t>(normalizedAxis(ctx, static_cast<int64_t>(shape.size())));
  const llvm::ArrayRef<int64_t> normalized = shape.drop_front(axis);
  const int32_t length = kernelInt(ctx, numElements(normalized), "normalised length");
  const int32_t outer = kernelInt(ctx, numElements(shape.take_front(axis)), "size");
  const double epsilon = ctx.attrFloat("epsilon", 1e-5f);
  const std::vector<double> gamma = perElement(&ctx.constantInput(1), normalized, 1.0);
  const std::vector<double> beta =
      perElement(ctx.hasInput(2) ? &ctx.constantInput(2) : nullptr, normalized, 0.0);
  lowerNormalizedRows(ctx, {.rows = outer,
                            .length = length,
                            .epsilon = epsilon,
                            .gamma = gamma,
                            .beta = ctx.hasInput(2) ? std::optional(beta) : std::nullopt,
                            .rowNoun = "rows"});
}

// round(x / 2^n) of an exact 128-bit value, halves away from zero or to the even neighbour.
enum class Ties { AwayFromZero, ToEven };
__int128 roundShift(__int128 x, int n, Ties ties) {
  const __int128 unit = static_cast<__int128>(1) << n;
  if (ties == Ties::AwayFromZero) {
    const __int128 magnitude = x < 0 ? -x : x;
    const __int128 rounded = (2 * (magnitude % unit) >= unit) + magnitude / unit;
    return x < 0 ? -rounded : rounded;
  }
  __int128 floor = x / unit, remainder = x % unit; // / truncates: make it the floor
  if (remainder < 0) {
    remainder += unit;
    --floor;
  }
  const bool up = 2 * remainder > unit || (2 * remainder == unit && floor % 2 != 0);
  return floor + (up ? 1 : 0);
}

// floor(sqrt(x)) from a floating-point estimate, corrected to the exact integer.
uint64_t floorSqrt(uint64_t x) {
  uint64_t root = static_cast<uint64_t>(std::sqrt(static_cast<long double>(x)));
  while (root * root > x) --root;
  while ((root + 1) * (root + 1) <= x) ++root;
  return root;
}
} // namespace

void lowerNormalizedRows(LowerContext &ctx, const NormalizedRows &rows) {
  const std::string &op = ctx.node().opType;
  // A normalisation reads its row a few times and does little per element, as a softmax: it is
  // priced in that kernel class.
  if (!ctx.isInt8()) {
    const es_layer_norm_f32_params_t p{rows.rows, rows.length, static_cast<float>(rows.epsilon),
                                       rows.channels};
    const auto floats = [](llvm::ArrayRef<double> values) {
      return std::vector<float>(values.begin(), values.end());
    };
    ctx.call<es_layer_norm_f32_params_t>(
        "es_layer_norm_f32", p,
        {ctx.input(0), ctx.constantArray("gamma", floats(rows.gamma)),
         rows.beta ? ctx.constantArray("beta", floats(*rows.beta)) : LowerContext::null(),
         ctx.output()},
        [](const es_layer_norm_f32_params_t &p, const KernelArgs &a) {
          es_layer_norm_f32(&p, a.in<float>(1), a.in<float>(2), a.in<float>(3), a.out<float>(4));
        },
        "softmax");
    return;
  }
  if (rows.length > ES_S8_LAYER_NORM_MAX_LENGTH)
    ctx.fail("int8 {} normalises {} of at most {} elements, got {}; compile the model for float32",
             op, rows.rowNoun, ES_S8_LAYER_NORM_MAX_LENGTH, rows.length);
  const TensorQuant in = ctx.inputQuant(0), out = ctx.outputQuant();
  std::string why;
  const std::vector<double> zeros(rows.gamma.size(), 0.0);
  std::optional<LayerNormS8Tables> tables =
      layerNormS8Tables(in.scale, out.scale, out.zeroPoint, rows.epsilon, rows.gamma,
                        rows.beta ? llvm::ArrayRef<double>(*rows.beta) : llvm::ArrayRef<double>(zeros), why,
                        rows.channels > 0 ? rows.length : 0);
  if (!tables) ctx.fail("int8 {}: {}; compile the model for float32", op, why);
  es_layer_norm_s8_params_t p{};
  p.outer = rows.rows;
  p.length = rows.length;
  p.input_zp = in.zeroPoint;
  p.epsilon = tables->epsilon;
  p.channels = rows.channels;
  std::tie(p.act_min, p.act_max) = ctx.int8ActivationRange(out);
  ctx.call<es_layer_norm_s8_params_t>(
      "es_layer_norm_s8", p,
      {ctx.constantArray("scale", std::move(tables->scale)),
       ctx.constantArray("bias", std::move(tables->bias)), ctx.input(0), ctx.output()},
      [](const es_layer_norm_s8_params_t &p, const KernelArgs &a) {
        es_layer_norm_s8(&p, a.in<es_requant_t>(1), a.in<int32_t>(2), a.in<int8_t>(3),
                         a.out<int8_t>(4));
      },
      "softmax");
}

std::optional<LayerNormS8Tables> layerNormS8Tables(double inputScale, double outputScale,
                                                   int32_t outputZeroPoint, double epsilon,
                                                   llvm::ArrayRef<double> gamma,
                                                   llvm::ArrayRef<double> beta, std::string &why,
                                                   int64_t rowLength) {
  const double n = static_cast<double>(rowLength > 0 ? rowLength : int64_t(gamma.size()));
  LayerNormS8Tables tables;
  // epsilon in the units of sum c^2 (c = n (qx - Zx) - sum): n^3 epsilon / Sx^2, times 2^8. A larger
  // one outweighs every row's spread (its outputs are beta): saturating it changes nothing seen.
  tables.epsilon = roundHalfAway(std::ldexp(n * n * n * epsilon / (inputScale * inputScale), 8), 0,
                                 int64_t{1} << 61);
  for (size_t k = 0; k < gamma.size(); ++k) {
    const double factor = gamma[k] * std::sqrt(n) / outputScale;
    if (!(std::fabs(factor) < 0x1p40)) {
      why = fmt::format("Scale[{}] * sqrt({}) / Sy = {:g} is beyond the kernel's 2^40 output steps",
                        k, n, factor);
      return std::nullopt;
    }
    FixedPointFactor fixed = quantizeMultiplier(std::fabs(factor));
    // Below 2^-17 the normalised value moves the output by less than 2^-17 of a step.
    if (fixed.shift < -16) fixed = {};
    tables.scale.push_back({factor < 0 ? -fixed.multiplier : fixed.multiplier, fixed.shift});
    const double offset = beta[k] / outputScale + outputZeroPoint;
    if (!(std::fabs(offset) < 0x1p15)) {
      why = fmt::format("B[{}] / Sy + Zy = {:g} is beyond the kernel's 2^15 output steps", k, offset);
      return std::nullopt;
    }
    tables.bias.push_back(static_cast<int32_t>(roundHalfAway(std::ldexp(offset, 16), INT32_MIN,
                                                             INT32_MAX)));
  }
  return tables;
}

void referenceLayerNormS8(const es_layer_norm_s8_params_t &p, llvm::ArrayRef<es_requant_t> scale,
                          llvm::ArrayRef<int32_t> bias, llvm::ArrayRef<int8_t> input,
                          llvm::MutableArrayRef<int8_t> output) {
  const int64_t n = p.length;
  for (int64_t row = 0; row < p.outer; ++row) {
    llvm::ArrayRef<int8_t> x = input.slice(static_cast<size_t>(row * n), static_cast<size_t>(n));
    int64_t sum = 0;
    for (int8_t q : x) sum += q - p.input_zp;
    auto centred = [&](int64_t k) { return n * (x[static_cast<size_t>(k)] - p.input_zp) - sum; };
    __int128 squares = 0;
    for (int64_t k = 0; k < n; ++k) squares += static_cast<__int128>(centred(k)) * centred(k);
    // u = 2^31 * 16 c / sqrt(W), W = 2^8 sum c^2 + epsilon scaled by 4^k into [2^60, 2^62); a
    // row of equal values has every c = 0 and u = 0.
    __int128 reciprocal = 0;
    int k4 = 0;
    if (squares != 0) {
      const uint64_t w = static_cast<uint64_t>(squares * 256 + p.epsilon);
      k4 = std::max(0, (60 - (63 - std::countl_zero(w)) + 1) / 2);
      const uint64_t root = floorSqrt(w << (2 * k4));
      reciprocal = roundShift((static_cast<__int128>(1) << 62) / root, 1, Ties::AwayFromZero);
    }
    for (int64_t k = 0; k < n; ++k) {
      const size_t e = static_cast<size_t>(p.channels > 0 ? row % p.channels : k);
      const __int128 u = roundShift(centred(k) * reciprocal, 26 - k4, Ties::AwayFromZero);
      const __int128 q16 = roundShift(u * scale[e].multiplier, 46 - scale[e].shift,
                                      Ties::AwayFromZero) + bias[e];
      const __int128 q = roundShift(q16, 16, Ties::ToEven);
      output[static_cast<size_t>(row * n + k)] = static_cast<int8_t>(
          std::clamp<__int128>(q, p.act_min, p.act_max));
    }
  }
}

extern const OpDef kLayerNormalization{.name = "LayerNormalization", .minInputs = 2, .maxInputs = 3,
                                       .maxOutputs = 3, .infer = infer, .run = run,
                                       .quantize = quantize, .lower = lower};

} // namespace edgesplit::ops
