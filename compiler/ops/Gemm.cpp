#include "ops/MatMulCore.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

namespace edgesplit::ops {
namespace {
enum Input { kA, kB, kC };

struct GemmShape {
  int64_t rows, inner, cols; // M, K, N after the optional transpositions
};

GemmShape gemmShape(const NodeContext &ctx, llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  if (a.size() != 2 || b.size() != 2)
    ctx.fail("A and B must be matrices, got shapes {} and {}", formatShape(a), formatShape(b));
  const bool transA = ctx.attrInt("transA", 0) != 0, transB = ctx.attrInt("transB", 0) != 0;
  const GemmShape shape{transA ? a[1] : a[0], transA ? a[0] : a[1], transB ? b[0] : b[1]};
  const int64_t innerB = transB ? b[1] : b[0];
  if (innerB != shape.inner)
    ctx.fail("inner dimensions differ: A {} (transA={}) gives K={} but B {} (transB={}) gives {}",
             formatShape(a), transA, shape.inner, formatShape(b), transB, innerB);
  return shape;
}

void infer(InferContext &ctx) {
  const DType type = ctx.inputType(kA);
  if (!isMatMulType(type)) ctx.fail("input type {} is not supported", dtypeName(type));
  const GemmShape shape = gemmShape(ctx, ctx.inputShape(kA), ctx.inputShape(kB));
  for (size_t index : {kB, kC})
    if (ctx.hasInput(index) && ctx.inputType(index) != type)
      ctx.fail("input {} is {} but A is {}", index, dtypeName(ctx.inputType(index)),
               dtypeName(type));
  const Shape outputShape{shape.rows, shape.cols};
  if (ctx.hasInput(kC)) {
    const llvm::ArrayRef<int64_t> c = ctx.inputShape(kC);
    // Opset 6 broadcasts C only on request; from opset 7 it always broadcasts unidirectionally.
    const bool broadcast = ctx.opset() >= 7 || ctx.attrInt("broadcast", 0) != 0;
    const bool fits = broadcast ? broadcastShapes(ctx, {c, outputShape}) == outputShape
                                : c == llvm::ArrayRef<int64_t>(outputShape);
    if (!fits)
      ctx.fail("C of shape {} cannot {} the output shape {}", formatShape(c),
               broadcast ? "broadcast to" : "be used without broadcast=1 as",
               formatShape(outputShape));
  } else if (ctx.opset() < 11) {
    ctx.fail("input C is required before opset 11");
  }
  ctx.setOutput(0, type, outputShape);
}

// Y = alpha * op(A) op(B) + beta * C, with T = float, or double for every other element type.
template <typename T>
void gemm(const KernelContext &ctx, const Tensor &a, const Tensor &b, const Tensor *c,
          Tensor &out) {
  const GemmShape shape = gemmShape(ctx, a.shape(), b.shape());
  const bool transA = ctx.attrInt("transA", 0) != 0, transB = ctx.attrInt("transB", 0) != 0;
  const double alpha = ctx.attrFloat("alpha", 1.0f), beta = ctx.attrFloat("beta", 1.0f);
  const int64_t strideA = a.dim(1), strideB = b.dim(1);
  const MatrixView<T> viewA{a.data<T>(), transA ? 1 : strideA, transA ? strideA : 1};
  const MatrixView<T> viewB{b.data<T>(), transB ? 1 : strideB, transB ? strideB : 1};
  const std::optional<BroadcastIndexer> biasOf =
      c ? std::optional(BroadcastIndexer(c->shape(), out.shape())) : std::nullopt;
  T *result = out.data<T>();
  multiplyMatrices<double>(shape.rows, shape.inner, shape.cols, viewA, viewB,
                           [&](int64_t row, int64_t col, double sum) {
                             const int64_t index = row * shape.cols + col;
                             double value = alpha * sum;
                             if (c)
                               value += beta * static_cast<double>(c->data<T>()[(*biasOf)(index)]);
                             result[index] = static_cast<T>(value);
                           });
}

void run(KernelContext &ctx) {
  const Tensor &a = ctx.input(kA);
  const Tensor *c = ctx.hasInput(kC) ? &ctx.input(kC) : nullptr;
  Tensor &out = ctx.output(0);
  if (a.dtype() == DType::Float32) {
    gemm<float>(ctx, a, ctx.input(kB), c, out);
    return;
  }
  // Other types compute in double and convert once (integers truncate toward zero like numpy).
  const std::optional<Tensor> wideC = c ? std::optional(c->castTo(DType::Float64)) : std::nullopt;
  Tensor wideOut(DType::Float64, out.shape());
  gemm<double>(ctx, a.castTo(DType::Float64), ctx.input(kB).castTo(DType::Float64),
               wideC ? &*wideC : nullptr, wideOut);
  out = wideOut.castTo(out.dtype());
}

int64_t macs(const Node &node) {
  const Value *a = node.input(kA);
  const Value *output = node.outputs.empty() ? nullptr : node.outputs[0];
  if (!a || !a->shape || a->shape->size() != 2 || !output || !output->shape) return 0;
  const int64_t inner =
      node.attributes.getInt("transA").value_or(0) ? (*a->shape)[0] : (*a->shape)[1];
  return numElements(*output->shape) * inner;
}

// B's output-channel (N) axis: B is [K, N], or [N, K] with transB.
int64_t weightChannelAxis(const NodeContext &ctx) { return ctx.attrInt("transB", 0) != 0 ? 0 : 1; }

void lower(LowerContext &ctx) {
  if (ctx.attrInt("transA", 0) != 0)
    ctx.fail("code generation does not support transA=1; transpose A before the Gemm");
  const GemmShape shape = gemmShape(ctx, ctx.inputShape(kA), ctx.inputShape(kB));
  FullyConnectedLayer layer{.batch = shape.rows,
                            .inFeatures = shape.inner,
                            .outFeatures = shape.cols,
                            .weightInput = kB,
                            .channelAxis = weightChannelAxis(ctx),
                            .alpha = ctx.attrFloat("alpha", 1.0f),
                            .beta = ctx.attrFloat("beta", 1.0f)};
  if (ctx.hasInput(kC)) {
    // The kernels add one bias value per output column.
    const llvm::ArrayRef<int64_t> c = ctx.inputShape(kC);
    const bool perColumn =
        (c.size() == 1 && c[0] == shape.cols) || (c.size() == 2 && c[0] == 1 && c[1] == shape.cols);
    if (!perColumn)
      ctx.fail("code generation supports a bias C of shape [N] or [1, N] (N = {}), got {}; "
               "give the Gemm one bias per output column",
               shape.cols, formatShape(c));
    layer.biasInput = kC;
  }
  lowerFullyConnected(ctx, layer);
}

void quantize(QuantizeContext &ctx) {
  ctx.annotateOutputFromRange(0);
  ctx.annotateWeights(kB, weightChannelAxis(ctx));
  // Bias annotations are per axis 0, which only a 1-D C has; lowering quantises a [1, N] C from
  // the same scales.
  const Value *c = ctx.node().input(kC);
  if (c && c->shape && c->shape->size() == 1) ctx.annotateBias(kC, kA, kB);
}
} // namespace

extern const OpDef kGemm{.name = "Gemm", .minInputs = 2, .maxInputs = 3, .infer = infer,
                         .run = run, .macs = macs, .quantize = quantize, .lower = lower,
                         .fusesActivation = true};

} // namespace edgesplit::ops
