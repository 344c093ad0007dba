#include "ops/MatMulCore.h"

#include "codegen/LowerContext.h"
#include "quantize/Annotate.h"

namespace edgesplit::ops {
namespace {
void infer(InferContext &ctx) {
  const DType type = ctx.inputType(0);
  if (!isMatMulType(type)) ctx.fail("input type {} is not supported", dtypeName(type));
  if (ctx.inputType(1) != type)
    ctx.fail("inputs have different types ({} and {})", dtypeName(type),
             dtypeName(ctx.inputType(1)));
  ctx.setOutput(0, type, matMulShape(ctx, ctx.inputShape(0), ctx.inputShape(1)).output);
}

template <typename T>
void multiply(const MatMulShape &shape, const Tensor &a, const Tensor &b, Tensor &out) {
  // Floats accumulate in double and round once; integers wrap like numpy, which unsigned 64-bit
  // arithmetic does without signed-overflow UB.
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
  T *result = out.data<T>();
  batchedMatMul<Acc>(shape, a.data<T>(), b.data<T>(),
                     [&](int64_t index, Acc sum) { result[index] = static_cast<T>(sum); });
}

void run(KernelContext &ctx) {
  const Tensor &a = ctx.input(0);
  const Tensor &b = ctx.input(1);
  Tensor &out = ctx.output(0);
  const MatMulShape shape = matMulShape(ctx, a.shape(), b.shape());
  if (a.dtype() == DType::Float16 || a.dtype() == DType::BFloat16) {
    Tensor wide(DType::Float32, out.shape());
    multiply<float>(shape, a.castTo(DType::Float32), b.castTo(DType::Float32), wide);
    out = wide.castTo(a.dtype());
    return;
  }
  dispatchArithmetic(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    multiply<T>(shape, a, b, out);
  });
}

// The output's batch dimensions as the two the batch matmul kernels walk, with each operand's
// element stride along them (0 where it broadcasts).
struct BatchWalk {
  int32_t batch[2] = {1, 1};
  int32_t aStride[2] = {0, 0};
  int32_t bStride[2] = {0, 0};
};

// Element strides of one operand's batch dimensions, right-aligned to the `rank` output ones.
std::vector<int64_t> batchStrides(llvm::ArrayRef<int64_t> operandBatch, size_t rank,
                                  int64_t matrixElements) {
  std::vector<int64_t> strides(rank, 0);
  int64_t stride = matrixElements;
  for (size_t i = 1; i <= operandBatch.size(); ++i) {
    const int64_t dim = operandBatch[operandBatch.size() - i];
    if (dim != 1) strides[rank - i] = stride;
    stride *= dim;
  }
  return strides;
}

// Deeper batches fit the kernels' two dimensions when adjacent ones merge: both operands walk
// them as one (contiguously, or both broadcast), and dimensions of size 1 drop out.
BatchWalk batchWalk(const LowerContext &ctx, const MatMulShape &shape) {
  const size_t rank = shape.batch.size();
  const std::vector<int64_t> aStrides = batchStrides(shape.batchA, rank, shape.rows * shape.inner);
  const std::vector<int64_t> bStrides = batchStrides(shape.batchB, rank, shape.inner * shape.cols);
  struct Dim {
    int64_t size, aStride, bStride;
  };
  std::vector<Dim> dims;
  for (size_t i = 0; i < rank; ++i) {
    const Dim dim{shape.batch[i], aStrides[i], bStrides[i]};
    if (dim.size == 1) continue;
    if (!dims.empty() && dims.back().aStride == dim.aStride * dim.size &&
        dims.back().bStride == dim.bStride * dim.size) {
      dims.back() = {dims.back().size * dim.size, dim.aStride, dim.bStride};
      continue;
    }
    dims.push_back(dim);
  }
  if (dims.size() > 2)
    ctx.fail("code generation supports batch broadcasting that reduces to two batch dimensions; "
             "batches {} and {} need {} dimensions",
             formatShape(shape.batchA), formatShape(shape.batchB), dims.size());
  BatchWalk walk;
  for (size_t i = 0; i < dims.size(); ++i) {
    const size_t slot = 2 - dims.size() + i;
    walk.batch[slot] = static_cast<int32_t>(dims[i].size);
    walk.aStride[slot] = static_cast<int32_t>(dims[i].aStride);
    walk.bStride[slot] = static_cast<int32_t>(dims[i].bStride);
  }
  return walk;
}

template <typename P> P batchMatMulParams(const BatchWalk &walk, const MatMulShape &shape) {
  P p{};
  for (size_t i = 0; i < 2; ++i) {
    p.batch[i] = walk.batch[i];
    p.a_batch_stride[i] = walk.aStride[i];
    p.b_batch_stride[i] = walk.bStride[i];
  }
  p.rows = static_cast<int32_t>(shape.rows);
  p.inner = static_cast<int32_t>(shape.inner);
  p.cols = static_cast<int32_t>(shape.cols);
  return p;
}

void lowerBatchMatMul(LowerContext &ctx, const MatMulShape &shape) {
  const BatchWalk walk = batchWalk(ctx, shape);
  if (!ctx.isInt8()) {
    auto p = batchMatMulParams<es_batch_matmul_f32_params_t>(walk, shape);
    std::tie(p.act_min, p.act_max) = ctx.floatActivationRange();
    ctx.call<es_batch_matmul_f32_params_t>(
        "es_batch_matmul_f32", p, {ctx.input(0), ctx.input(1), ctx.output()},
        [](const es_batch_matmul_f32_params_t &p, const KernelArgs &a) {
          es_batch_matmul_f32(&p, a.in<float>(1), a.in<float>(2), a.out<float>(3));
        },
        "batch_matmul");
    return;
  }
  const TensorQuant qa = ctx.inputQuant(0), qb = ctx.inputQuant(1), out = ctx.outputQuant();
  auto p = batchMatMulParams<es_batch_matmul_s8_params_t>(walk, shape);
  p.a_zp = qa.zeroPoint;
  p.b_zp = qb.zeroPoint;
  p.output_zp = out.zeroPoint;
  p.requant = ctx.requant(qa.scale * qb.scale / out.scale);
  std::tie(p.act_min, p.act_max) = ctx.int8ActivationRange(out);
  ctx.call<es_batch_matmul_s8_params_t>(
      "es_batch_matmul_s8", p, {ctx.input(0), ctx.input(1), ctx.output()},
      [](const es_batch_matmul_s8_params_t &p, const KernelArgs &a) {
        es_batch_matmul_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.out<int8_t>(3));
      },
      "batch_matmul");
}

void lower(LowerContext &ctx) {
  const llvm::ArrayRef<int64_t> a = ctx.inputShape(0), b = ctx.inputShape(1);
  const MatMulShape shape = matMulShape(ctx, a, b);
  if (ctx.inputIsConstant(0))
    ctx.fail("code generation needs A to be computed at run time (a constant A with an "
             "activation B has no kernel)");
  if (!ctx.inputIsConstant(1)) {
    lowerBatchMatMul(ctx, shape);
    return;
  }
  if (b.size() != 2)
    ctx.fail("code generation supports a constant B only as a matrix [K, N], got shape {}",
             formatShape(b));
  // Every row of A, whatever its leading dimensions, meets the same weights.
  lowerFullyConnected(ctx, {.batch = numElements(a.drop_back()),
                            .inFeatures = shape.inner,
                            .outFeatures = shape.cols,
                            .weightInput = 1,
                            .channelAxis = 1});
}

void quantize(QuantizeContext &ctx) {
  ctx.annotateOutputFromRange(0);
  // Only a constant matrix B lowers to the fully connected kernels' per-channel weights.
  const Value *b = ctx.node().input(1);
  if (b && b->isConstant() && b->constant->rank() == 2) ctx.annotateWeights(1, 1);
}
} // namespace

extern const OpDef kMatMul{.name = "MatMul", .minInputs = 2, .maxInputs = 2, .infer = infer,
                           .run = run, .macs = matMulMacs, .quantize = quantize, .lower = lower,
                           .fusesActivation = true};

} // namespace edgesplit::ops
