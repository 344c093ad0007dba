#include "quantize/Calibration.h"

#include "interp/Interpreter.h"
#include "support/Error.h"

#include <algorithm>
#include <cmath>

namespace edgesplit {

namespace {

// Percentiles need every value seen; min/max only the running extremes.
class RangeObserver {
public:
  explicit RangeObserver(const ObserverOptions &options) : options_(options) {}

  void observe(const Tensor &tensor) {
    const Tensor wide = tensor.castTo(DType::Float64);
    for (double value : wide.values<double>()) {
      if (!std::isfinite(value)) continue;
      lo_ = seen_ ? std::min(lo_, value) : value;
      hi_ = seen_ ? std::max(hi_, value) : value;
      seen_ = true;
      if (options_.kind == ObserverOptions::Kind::Percentile) values_.push_back(value);
    }
  }

  ValueRange range() {
    if (options_.kind == ObserverOptions::Kind::MinMax || values_.empty()) return {lo_, hi_};
    std::sort(values_.begin(), values_.end());
    auto at = [&](double percent) {
      // Nearest-rank on the sorted values: deterministic and needs no interpolation rule.
      const double rank = percent / 100.0 * static_cast<double>(values_.size() - 1);
      return values_[static_cast<size_t>(std::llround(rank))];
    };
    return {at(100.0 - options_.percentile), at(options_.percentile)};
  }

private:
  const ObserverOptions &options_;
  bool seen_ = false;
  double lo_ = 0.0, hi_ = 0.0;
  std::vector<double> values_;
};

} // namespace

llvm::DenseMap<const Value *, ValueRange>
calibrate(const Graph &graph, const std::vector<std::vector<Tensor>> &samples,
          const ObserverOptions &options, const std::function<void(size_t, size_t)> &progress) {
  if (samples.empty()) fail("internal error: calibrate() without samples");
  if (options.kind == ObserverOptions::Kind::Percentile &&
      !(options.percentile > 50.0 && options.percentile <= 100.0))
    failUsage("--percentile {} must lie in (50, 100], e.g. 99.99", options.percentile);

  llvm::DenseMap<const Value *, std::unique_ptr<RangeObserver>> observers;
  auto observerFor = [&](const Value &value) -> RangeObserver & {
    auto &slot = observers[&value];
    if (!slot) slot = std::make_unique<RangeObserver>(options);
    return *slot;
  };
  Interpreter interpreter(graph);
  interpreter.setObserver([&](const Value &value, const Tensor &tensor) {
    if (isFloatingPoint(tensor.dtype())) observerFor(value).observe(tensor);
  });
  for (size_t i = 0; i < samples.size(); ++i) {
    for (size_t k = 0; k < graph.inputs.size() && k < samples[i].size(); ++k)
      if (isFloatingPoint(samples[i][k].dtype())) observerFor(*graph.inputs[k]).observe(samples[i][k]);
    interpreter.run(samples[i]);
    if (progress) progress(i + 1, samples.size());
  }
  llvm::DenseMap<const Value *, ValueRange> ranges;
  for (auto &entry : observers) ranges[entry.first] = entry.second->range();
  return ranges;
}

llvm::StringMap<double> zeroShares(const Graph &graph,
                                   const std::vector<std::vector<Tensor>> &samples) {
  struct Count {
    int64_t zeros = 0, values = 0;
  };
  llvm::StringMap<Count> counts;
  auto observe = [&](const Value &value, const Tensor &tensor) {
    if (!isFloatingPoint(tensor.dtype())) return;
    Count &count = counts[value.name];
    const Tensor wide = tensor.castTo(DType::Float64);
    for (double element : wide.values<double>()) count.zeros += element == 0.0;
    count.values += tensor.numElements();
  };
  Interpreter interpreter(graph);
  interpreter.setObserver(observe);
  for (const std::vector<Tensor> &sample : samples) {
    for (size_t k = 0; k < graph.inputs.size() && k < sample.size(); ++k)
      observe(*graph.inputs[k], sample[k]);
    interpreter.run(sample);
  }
  llvm::StringMap<double> shares;
  for (const auto &entry : counts)
    if (entry.second.values > 0)
      shares[entry.first()] =
          static_cast<double>(entry.second.zeros) / static_cast<double>(entry.second.values);
  // A QuantizeLinear -> DequantizeLinear pair becomes its input's fake quantisation in place
  // (absorbQdq), which holds the pair's output values: the input takes their zeros (a QDQ model
  // clamps a ReLU's negatives this way).
  for (const auto &node : graph.nodes()) {
    if (node->opType != "DequantizeLinear" || !node->input(0) || !node->input(0)->producer ||
        node->input(0)->producer->opType != "QuantizeLinear" || node->outputs.empty() ||
        !node->outputs[0])
      continue;
    const Value *quantized = node->input(0)->producer->input(0);
    if (auto share = shares.find(node->outputs[0]->name); quantized && share != shares.end())
      shares[quantized->name] = share->second;
  }
  return shares;
}

} // namespace edgesplit
