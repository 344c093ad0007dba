#include "interp/Batching.h"

#include "support/Error.h"

#include <algorithm>
#include <cstring>

namespace edgesplit {

namespace {

// How many samples `array` holds for `input` (at least one), or 0 if it is one sample as it
// stands.
int64_t batchCount(const Value &input, const Tensor &array) {
  if (!input.shape) return 0;
  const Shape &shape = *input.shape;
  if (llvm::ArrayRef<int64_t>(shape) == array.shape()) return 0;
  const bool batchable = !shape.empty() && shape[0] == 1 && array.rank() == shape.size() &&
                         std::equal(shape.begin() + 1, shape.end(), array.shape().begin() + 1);
  if (!batchable)
    fail("input '{}': array shape {} does not match the model's {} (nor [N, ...] of it); reshape "
         "the array or use --input-shape",
         input.name, formatShape(array.shape()), formatShape(shape));
  if (array.dim(0) == 0)
    fail("input '{}': array shape {} holds no samples; give at least one ([N, ...] with N >= 1)",
         input.name, formatShape(array.shape()));
  return array.dim(0);
}

Tensor sliceSample(const Tensor &array, int64_t index) {
  Shape shape(array.shape().begin(), array.shape().end());
  shape[0] = 1;
  Tensor sample(array.dtype(), shape);
  if (sample.byteSize() > 0)
    std::memcpy(sample.rawData(), array.rawData() + index * sample.byteSize(), sample.byteSize());
  return sample;
}

Tensor stackSamples(const std::vector<Tensor> &samples) {
  const Tensor &first = samples.front();
  Shape shape(first.shape().begin(), first.shape().end());
  if (!shape.empty() && shape[0] == 1) shape[0] = static_cast<int64_t>(samples.size());
  else shape.insert(shape.begin(), static_cast<int64_t>(samples.size()));
  Tensor stacked(first.dtype(), shape);
  for (size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].shape() != first.shape())
      fail("output shapes differ between samples ({} vs {}); run samples separately",
           formatShape(first.shape()), formatShape(samples[i].shape()));
    if (first.byteSize() > 0)
      std::memcpy(stacked.rawData() + i * first.byteSize(), samples[i].rawData(), first.byteSize());
  }
  return stacked;
}

} // namespace

std::vector<std::vector<Tensor>> splitSamples(const Graph &graph,
                                              const llvm::StringMap<Tensor> &arrays,
                                              SampleSource source) {
  for (const auto &entry : arrays)
    if (!llvm::any_of(graph.inputs, [&](const Value *v) { return v->name == entry.getKey(); })) {
      std::string names;
      for (const Value *input : graph.inputs) names += (names.empty() ? "" : ", ") + input->name;
      fail("'{}' is not an input of the model (inputs: {})", entry.getKey().str(), names);
    }
  int64_t samples = 0;
  std::vector<const Tensor *> given;
  for (const Value *input : graph.inputs) {
    auto it = arrays.find(input->name);
    if (it == arrays.end())
      fail("model input '{}' ({} {}) has no data; {}", input->name, dtypeName(input->dtype),
           input->shape ? formatShape(*input->shape) : "[?]",
           source == SampleSource::InputOptions
               ? fmt::format("pass --input {}=FILE.npy", input->name)
               : fmt::format("add an array named '{}' of [N, ...] samples to the archive",
                             input->name));
    if (it->second.dtype() != input->dtype)
      fail("input '{}': the model expects {} but the array is {}; convert it, e.g. "
           "numpy.save(path, a.astype(numpy.{}))",
           input->name, dtypeName(input->dtype), dtypeName(it->second.dtype()),
           dtypeName(input->dtype));
    const int64_t count = batchCount(*input, it->second);
    if (count && samples && count != samples)
      fail("input '{}' holds {} samples but another input holds {}; give every input the same "
           "number of samples",
           input->name, count, samples);
    if (count) samples = count;
    given.push_back(&it->second);
  }

  std::vector<std::vector<Tensor>> result;
  for (int64_t s = 0; s < std::max<int64_t>(samples, 1); ++s) {
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < given.size(); ++i)
      inputs.push_back(samples && batchCount(*graph.inputs[i], *given[i])
                           ? sliceSample(*given[i], s)
                           : *given[i]);
    result.push_back(std::move(inputs));
  }
  return result;
}

std::vector<Tensor> runWithBatchRule(const Graph &graph, const llvm::StringMap<Tensor> &arrays,
                                     const SampleRunner &runSample) {
  const std::vector<std::vector<Tensor>> samples = splitSamples(graph, arrays);
  // One unbatched sample keeps its outputs' shapes as they are.
  const bool batched = llvm::any_of(graph.inputs, [&](const Value *input) {
    auto it = arrays.find(input->name);
    return batchCount(*input, it->second) != 0;
  });
  if (!batched) return runSample(samples.front());
  std::vector<std::vector<Tensor>> perOutput(graph.outputs.size());
  for (const std::vector<Tensor> &inputs : samples) {
    std::vector<Tensor> outputs = runSample(inputs);
    for (size_t o = 0; o < outputs.size(); ++o) perOutput[o].push_back(std::move(outputs[o]));
  }
  std::vector<Tensor> results;
  for (const auto &outputSamples : perOutput) results.push_back(stackSamples(outputSamples));
  return results;
}

} // namespace edgesplit
