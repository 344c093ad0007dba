#include "ops/Layout.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

#include <limits>

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  const llvm::ArrayRef<int64_t> firstShape = ctx.inputShape(0);
  if (firstShape.empty()) ctx.fail("cannot concatenate scalars");
  const int64_t axis = ctx.normalizeAxis(ctx.requireAttrInt("axis"), ctx.inputRank(0));
  Shape shape(firstShape.begin(), firstShape.end());
  shape[axis] = 0;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    if (ctx.inputType(i) != type)
      ctx.fail("input {} is {}, input 0 is {}", i, dtypeName(ctx.inputType(i)), dtypeName(type));
    const llvm::ArrayRef<int64_t> inputShape = ctx.inputShape(i);
    bool matches = inputShape.size() == shape.size();
    for (size_t d = 0; matches && d < shape.size(); ++d)
      matches = static_cast<int64_t>(d) == axis || inputShape[d] == shape[d];
    if (!matches)
      ctx.fail("input {} has shape {}, which does not match input 0 {} outside axis {}", i,
               formatShape(inputShape), formatShape(firstShape), axis);
    shape[axis] += inputShape[axis];
  }
  ctx.setOutput(0, type, shape);
}

void run(KernelContext &ctx) {
  Tensor &output = ctx.output(0);
  const int64_t axis = ctx.normalizeAxis(ctx.attrInt("axis", 0), output.rank());
  // Each input lands in the output's dense layout, shifted along the axis past the ones before.
  StridedLayout writing = denseLayout(output.shape());
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    const Tensor &input = ctx.input(i);
    copyStrided(input, denseLayout(input.shape()), output, writing, input.shape());
    writing.offset += input.dim(axis) * writing.strides[axis];
  }
}

// The kernels see every input as [outer, axis size, inner]; the caller fills the rest.
template <typename P> P concatParams(const LowerContext &ctx, int64_t axis) {
  const llvm::ArrayRef<int64_t> shape = ctx.outputShape();
  P p{};
  p.outer = kernelInt(ctx, numElements(shape.take_front(static_cast<size_t>(axis))), "size");
  p.inner = kernelInt(ctx, numElements(shape.drop_front(static_cast<size_t>(axis) + 1)), "size");
  p.input_count = kernelInt(ctx, static_cast<int64_t>(ctx.numInputs()), "input count");
  return p;
}

// A constant among the inputs (a learned token put before a sequence): float32 copies each input
// into its stretch of the output, the constant from a constant array, as the reference kernel
// does.
void lowerFloatWithConstants(LowerContext &ctx, int64_t axis) {
  StridedLayout writing = denseLayout(ctx.outputShape());
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    const llvm::ArrayRef<int64_t> shape = ctx.inputShape(i);
    const KernelArg source = ctx.inputIsConstant(i)
                                 ? ctx.constantArray("input" + std::to_string(i),
                                                     ctx.floatConstant(i))
                                 : ctx.input(i);
    lowerStridedCopyOf(ctx, source, numElements(shape), shape, denseLayout(shape), writing, 0);
    writing.offset += shape[axis] * writing.strides[axis];
  }
}

void lower(LowerContext &ctx) {
  const int64_t axis =
      ctx.normalizeAxis(ctx.attrInt("axis", 0), static_cast<int64_t>(ctx.outputShape().size()));
  std::vector<size_t> indices;
  for (size_t i = 0; i < ctx.numInputs(); ++i) indices.push_back(i);
  const bool anyConstant = llvm::any_of(indices, [&](size_t i) { return ctx.inputIsConstant(i); });
  auto axisSize = [&](size_t i) { return kernelInt(ctx, ctx.inputShape(i)[axis], "axis size"); };
  if (!ctx.isInt8()) {
    if (anyConstant) {
      lowerFloatWithConstants(ctx, axis);
      return;
    }
    std::vector<int32_t> sizes;
    for (size_t i : indices) sizes.push_back(axisSize(i));
    const KernelArg table = ctx.constantArray("axis_sizes", std::move(sizes));
    auto p = concatParams<es_concat_f32_params_t>(ctx, axis);
    p.axis_sizes = static_cast<const int32_t *>(ctx.constantData(table));
    CInit init = describe(p);
    init.setField("axis_sizes", CInit::symbol("@" + ctx.constantSymbol(table)));
    ctx.call<es_concat_f32_params_t>(
        "es_concat_f32", p, {ctx.inputList(indices), ctx.output()},
        [](const es_concat_f32_params_t &p, const KernelArgs &a) {
          es_concat_f32(&p, a.list<float>(1), a.out<float>(2));
        },
        "concat", std::move(init));
    return;
  }
  // docs/int8.md: inputs whose parameters differ from the output's are rescaled to them; a
  // constant input is an int8 array in its own parameters (the output's, see quantize).
  const TensorQuant out = ctx.outputQuant();
  std::vector<es_concat_s8_input_t> inputs;
  KernelArg list = ctx.inputList({});
  for (size_t i : indices) {
    const TensorQuant in = ctx.inputQuant(i);
    es_concat_s8_input_t entry{};
    entry.axis_size = axisSize(i);
    if (in.scale != out.scale || in.zeroPoint != out.zeroPoint) {
      entry.rescale = 1;
      entry.input_zp = in.zeroPoint;
      entry.requant = ctx.requant(in.scale / out.scale);
    }
    inputs.push_back(entry);
    LowerContext::appendToList(
        list, ctx.inputIsConstant(i)
                  ? ctx.constantArray("input" + std::to_string(i), ctx.int8Constant(i))
                  : ctx.input(i));
  }
  const KernelArg table = ctx.constantArray("inputs", std::move(inputs));
  auto p = concatParams<es_concat_s8_params_t>(ctx, axis);
  p.inputs = static_cast<const es_concat_s8_input_t *>(ctx.constantData(table));
  p.output_zp = out.zeroPoint;
  CInit init = describe(p);
  init.setField("inputs", CInit::symbol("@" + ctx.constantSymbol(table)));
  ctx.call<es_concat_s8_params_t>(
      "es_concat_s8", p, {std::move(list), ctx.output()},
      [](const es_concat_s8_params_t &p, const KernelArgs &a) {
        es_concat_s8(&p, a.list<int8_t>(1), a.out<int8_t>(2));
      },
      "concat", std::move(init));
}

// The output takes its calibrated range; a constant input (a learned token) takes the output's
// parameters, so that it is copied, not rescaled (docs/int8.md "Concat").
void quantize(QuantizeContext &ctx) {
  ctx.annotateOutputFromRange(0);
  for (size_t i = 0; i < ctx.numInputs(); ++i) ctx.annotateConstantAsOutput(i, 0);
}
} // namespace

extern const OpDef kConcat{.name = "Concat", .maxInputs = std::numeric_limits<int>::max(),
                           .infer = infer, .run = run, .quantize = quantize, .lower = lower};

} // namespace edgesplit::ops
