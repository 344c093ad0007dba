#include "ops/Layout.h"

#include "codegen/LowerContext.h"
#include "quantize/QuantMath.h"

#include <algorithm>
#include <cstring>

namespace edgesplit::ops {
namespace {
enum class PadMode { Constant, Reflect, Edge };

PadMode padMode(const NodeContext &ctx) {
  const std::string mode = ctx.attrString("mode", "constant");
  if (mode == "constant") return PadMode::Constant;
  if (mode == "reflect") return PadMode::Reflect;
  if (mode == "edge") return PadMode::Edge;
  ctx.fail("mode '{}' is not supported (expected constant, reflect or edge)", mode);
}

// [begin_0, begin_1, ..., end_0, end_1, ...]: an attribute before opset 11, input 1 from it on.
// Negative amounts crop.
template <typename Context> std::vector<int64_t> padAmounts(const Context &ctx, size_t rank) {
  std::optional<std::vector<int64_t>> pads = attrOrInputInts(ctx, "pads", 1, 11);
  if (!pads) ctx.fail("missing pads");
  if (pads->size() != 2 * rank)
    ctx.fail("pads {} has {} entries, a rank-{} input needs {}", formatShape(*pads), pads->size(),
             rank, 2 * rank);
  return std::move(*pads);
}

// The input position that an output position copies, given as its distance from the input's
// first element, or -1 where the constant goes. Reflect mirrors without repeating the border,
// periodically like numpy when the padding is wider than the input.
int64_t sourcePosition(int64_t position, int64_t length, PadMode mode) {
  if (position >= 0 && position < length) return position;
  switch (mode) {
  case PadMode::Constant: return -1;
  case PadMode::Edge: return position < 0 ? 0 : length - 1;
  case PadMode::Reflect: {
    if (length == 1) return 0;
    const int64_t period = 2 * (length - 1);
    int64_t phase = position % period;
    if (phase < 0) phase += period;
    return phase < length ? phase : period - phase;
  }
  }
  return -1;
}

void infer(InferContext &ctx) {
  const llvm::ArrayRef<int64_t> inputShape = ctx.inputShape(0);
  const DType type = ctx.inputType(0);
  const PadMode mode = padMode(ctx);
  if (ctx.opset() >= 11 && ctx.hasInput(2)) {
    if (ctx.inputType(2) != type)
      ctx.fail("constant_value is {}, the data is {}", dtypeName(ctx.inputType(2)),
               dtypeName(type));
    if (numElements(ctx.inputShape(2)) != 1)
      ctx.fail("constant_value must be a scalar, got shape {}", formatShape(ctx.inputShape(2)));
  }
  const std::vector<int64_t> pads = padAmounts(ctx, inputShape.size());
  Shape shape;
  for (size_t axis = 0; axis < inputShape.size(); ++axis) {
    int64_t dim = 0;
    if (__builtin_add_overflow(inputShape[axis], pads[axis], &dim) ||
        __builtin_add_overflow(dim, pads[axis + inputShape.size()], &dim) || dim < 0)
      ctx.fail("pads {} do not fit input shape {} on axis {}", formatShape(pads),
               formatShape(inputShape), axis);
    shape.push_back(dim);
  }
  if (mode != PadMode::Constant && numElements(inputShape) == 0 && numElements(shape) != 0)
    ctx.fail("an empty input has no values to extend in {} mode", ctx.attrString("mode", ""));
  ctx.setOutput(0, type, shape);
}

void run(KernelContext &ctx) {
  const Tensor &input = ctx.input(0);
  Tensor &output = ctx.output(0);
  const PadMode mode = padMode(ctx);
  const size_t rank = input.rank();
  const std::vector<int64_t> pads = padAmounts(ctx, rank);

  // The constant in the data's own type, so filling is a byte copy for every dtype.
  Tensor fill(input.dtype(), {});
  if (ctx.opset() < 11)
    fill = Tensor::scalar(ctx.attrFloat("value", 0.0f)).castTo(input.dtype());
  else if (ctx.hasInput(2))
    fill = ctx.input(2);

  // Per axis, the input position each output position copies (-1: the constant).
  std::vector<std::vector<int64_t>> sources(rank);
  for (size_t axis = 0; axis < rank; ++axis)
    for (int64_t position = 0; position < output.dim(axis); ++position)
      sources[axis].push_back(sourcePosition(position - pads[axis], input.dim(axis), mode));

  const Shape inputStrides = stridesOf(input.shape());
  const size_t elementSize = dtypeSize(input.dtype());
  Shape index(rank, 0);
  for (int64_t flat = 0; flat < output.numElements(); ++flat) {
    const uint8_t *element = input.rawData();
    for (size_t axis = 0; axis < rank && element; ++axis) {
      const int64_t source = sources[axis][index[axis]];
      element = source < 0 ? nullptr : element + source * inputStrides[axis] * elementSize;
    }
    std::memcpy(output.rawData() + flat * elementSize, element ? element : fill.rawData(),
                elementSize);
    for (size_t axis = rank; axis-- > 0;) {
      if (++index[axis] < output.dim(axis)) break;
      index[axis] = 0;
    }
  }
}

// The fill of constant mode as a real number: the 'value' attribute before opset 11, the optional
// constant_value input from then on.
float constantFill(const LowerContext &ctx) {
  if (ctx.opset() < 11) return ctx.attrFloat("value", 0.0f);
  if (!ctx.hasInput(2)) return 0.0f;
  return static_cast<float>(ctx.constantInput(2).elementAsDouble(0));
}

// Shape and pads right-aligned to the kernels' 4-D; the fill is the caller's.
template <typename P> P padParams(const LowerContext &ctx) {
  const llvm::ArrayRef<int64_t> shape = ctx.inputShape(0);
  const std::vector<int64_t> pads = padAmounts(ctx, shape.size());
  P p{};
  switch (padMode(ctx)) {
  case PadMode::Constant: p.mode = ES_PAD_CONSTANT; break;
  case PadMode::Edge: p.mode = ES_PAD_EDGE; break;
  case PadMode::Reflect: p.mode = ES_PAD_REFLECT; break;
  }
  kernelShape4D(ctx, shape, p.in_shape);
  const size_t leading = ES_MAX_RANK - shape.size();
  for (size_t axis = leading; axis < ES_MAX_RANK; ++axis) {
    p.pads_begin[axis] = kernelInt(ctx, pads[axis - leading], "pad");
    p.pads_end[axis] = kernelInt(ctx, pads[axis - leading + shape.size()], "pad");
  }
  return p;
}

void lower(LowerContext &ctx) {
  const float fill = constantFill(ctx);
  if (!ctx.isInt8()) {
    auto p = padParams<es_pad_f32_params_t>(ctx);
    p.value = fill;
    ctx.call<es_pad_f32_params_t>(
        "es_pad_f32", p, {ctx.input(0), ctx.output()},
        [](const es_pad_f32_params_t &p, const KernelArgs &a) {
          es_pad_f32(&p, a.in<float>(1), a.out<float>(2));
        },
        "pad");
    return;
  }
  checkUnchangedQuant(ctx);
  // The usual fill 0.0 is Zx; another fill is quantised in the input's parameters.
  const TensorQuant in = ctx.inputQuant(0);
  auto p = padParams<es_pad_s8_params_t>(ctx);
  p.value = static_cast<int32_t>(
      std::clamp<int64_t>(roundHalfAway(fill / in.scale, -256, 256) + in.zeroPoint, -128, 127));
  ctx.call<es_pad_s8_params_t>(
      "es_pad_s8", p, {ctx.input(0), ctx.output()},
      [](const es_pad_s8_params_t &p, const KernelArgs &a) {
        es_pad_s8(&p, a.in<int8_t>(1), a.out<int8_t>(2));
      },
      "pad");
}
} // namespace

extern const OpDef kPad{.name = "Pad", .maxInputs = 3, .infer = infer, .run = run,
                        .quantize = annotateSameAsInput, .lower = lower};

} // namespace edgesplit::ops
