#include "ops/OpKit.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
enum Input { kX, kScale, kBias, kMean, kVar };
// Outputs beyond Y: opset 14+ has running_mean and running_var; earlier opsets also saved_mean
// and saved_var (the batch statistics themselves).
enum Output { kY, kRunningMean, kRunningVar, kSavedMean, kSavedVar };

// How X's elements map to the parameters: one per channel (axis 1), or before opset 9 with
// spatial=0 one per activation (each position of X[n]).
struct ParamLayout {
  int64_t count;
  int64_t sliceSize; // consecutive elements of X sharing one parameter
  int64_t indexOf(int64_t element) const { return (element / sliceSize) % count; }
};

ParamLayout paramLayout(const NodeContext &ctx, llvm::ArrayRef<int64_t> x) {
  const int64_t channels = x.size() > 1 ? x[1] : 1; // a 1-D X is N values of one channel
  const int64_t positions = x.size() > 2 ? numElements(x.drop_front(2)) : 1;
  const bool spatial = ctx.opset() >= 9 || ctx.attrInt("spatial", 1) != 0;
  return spatial ? ParamLayout{channels, positions} : ParamLayout{channels * positions, 1};
}

// Before opset 14 the model selects training by asking for the statistics outputs (opset 6's
// is_test only restates that); from 14 the training_mode attribute does.
bool isTraining(const NodeContext &ctx) {
  if (ctx.opset() >= 14) return ctx.attrInt("training_mode", 0) != 0;
  for (size_t output = kRunningMean; output <= kSavedVar; ++output)
    if (ctx.hasOutput(output)) return true;
  return false;
}

void infer(InferContext &ctx) {
  const DType type = ctx.inputType(kX);
  if (!isFloatingPoint(type)) ctx.fail("X must be a float tensor, got {}", dtypeName(type));
  const llvm::ArrayRef<int64_t> x = ctx.inputShape(kX);
  if (x.empty()) ctx.fail("X must have rank >= 1, got a scalar");
  const ParamLayout layout = paramLayout(ctx, x);
  for (size_t input = kScale; input <= kVar; ++input) {
    if (!isFloatingPoint(ctx.inputType(input)))
      ctx.fail("input {} must be a float tensor, got {}", input, dtypeName(ctx.inputType(input)));
    if (numElements(ctx.inputShape(input)) != layout.count)
      ctx.fail("input {} has shape {} but X {} needs {} values", input,
               formatShape(ctx.inputShape(input)), formatShape(x), layout.count);
  }
  if (ctx.opset() >= 14 && ctx.numOutputs() > 3)
    ctx.fail("has {} outputs; from opset 14 there are at most 3", ctx.numOutputs());
  if (!isTraining(ctx) && (ctx.hasOutput(kRunningMean) || ctx.hasOutput(kRunningVar)))
    ctx.fail("running_mean/running_var outputs need training_mode=1; export the model in "
             "inference mode");
  ctx.setOutput(kY, type, x);
  ctx.setOutput(kRunningMean, ctx.inputType(kMean), ctx.inputShape(kMean));
  ctx.setOutput(kRunningVar, ctx.inputType(kVar), ctx.inputShape(kVar));
  ctx.setOutput(kSavedMean, type, ctx.inputShape(kMean));
  ctx.setOutput(kSavedVar, type, ctx.inputShape(kVar));
}

struct Statistics {
  std::vector<double> mean, var;
};

// Mean and population variance of each parameter's elements, over the batch (and space).
template <typename T> Statistics batchStatistics(const Tensor &x, const ParamLayout &layout) {
  Statistics stats{std::vector<double>(layout.count, 0.0), std::vector<double>(layout.count, 0.0)};
  if (layout.count == 0) return stats;
  const T *values = x.data<T>();
  const double perParam = static_cast<double>(x.numElements() / layout.count);
  for (int64_t i = 0; i < x.numElements(); ++i) stats.mean[layout.indexOf(i)] += values[i];
  for (double &mean : stats.mean) mean /= perParam;
  for (int64_t i = 0; i < x.numElements(); ++i) {
    const double deviation = values[i] - stats.mean[layout.indexOf(i)];
    stats.var[layout.indexOf(i)] += deviation * deviation;
  }
  for (double &var : stats.var) var /= perParam;
  return stats;
}

// Y = (X - mean) / sqrt(var + epsilon) * scale + bias, with T = float or double.
template <typename T>
void normalize(KernelContext &ctx, const Tensor &x, Tensor &y, const Statistics &stats,
               const ParamLayout &layout) {
  const double epsilon = ctx.attrFloat("epsilon", 1e-5f);
  const std::vector<double> scale = ctx.input(kScale).toDoubleVector();
  const std::vector<double> bias = ctx.input(kBias).toDoubleVector();
  const T *in = x.data<T>();
  T *out = y.data<T>();
  for (int64_t i = 0; i < x.numElements(); ++i) {
    const int64_t p = layout.indexOf(i);
    out[i] = static_cast<T>((in[i] - stats.mean[p]) / std::sqrt(stats.var[p] + epsilon) * scale[p] +
                            bias[p]);
  }
}

template <typename T> void runTyped(KernelContext &ctx, const Tensor &x, Tensor &y) {
  const ParamLayout layout = paramLayout(ctx, x.shape());
  const Statistics given{ctx.input(kMean).toDoubleVector(), ctx.input(kVar).toDoubleVector()};
  if (!isTraining(ctx)) {
    normalize<T>(ctx, x, y, given, layout);
    return;
  }
  const Statistics batch = batchStatistics<T>(x, layout);
  normalize<T>(ctx, x, y, batch, layout);
  const double momentum = ctx.attrFloat("momentum", 0.9f);
  auto setStatistic = [&](size_t output, const std::vector<double> &values) {
    if (!ctx.hasOutput(output)) return;
    Tensor &tensor = ctx.output(output);
    tensor = Tensor::fromVector<double>(tensor.shape(), values).castTo(tensor.dtype());
  };
  auto running = [&](const std::vector<double> &previous, const std::vector<double> &current) {
    std::vector<double> blended(previous.size());
    for (size_t p = 0; p < previous.size(); ++p)
      blended[p] = previous[p] * momentum + current[p] * (1.0 - momentum);
    return blended;
  };
  setStatistic(kRunningMean, running(given.mean, batch.mean));
  setStatistic(kRunningVar, running(given.var, batch.var));
  setStatistic(kSavedMean, batch.mean);
  setStatistic(kSavedVar, batch.var);
}

void run(KernelContext &ctx) {
  const Tensor &x = ctx.input(kX);
  Tensor &y = ctx.output(kY);
  if (x.dtype() == DType::Float32) return runTyped<float>(ctx, x, y);
  if (x.dtype() == DType::Float64) return runTyped<double>(ctx, x, y);
  Tensor wideY(DType::Float32, y.shape());
  runTyped<float>(ctx, x.castTo(DType::Float32), wideY);
  y = wideY.castTo(x.dtype());
}
} // namespace

extern const OpDef kBatchNormalization{.name = "BatchNormalization", .minInputs = 5,
                                       .maxInputs = 5, .minOutputs = 1, .maxOutputs = 5,
                                       .infer = infer, .run = run};

} // namespace edgesplit::ops
