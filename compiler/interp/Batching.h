// The batch rule shared by every command that executes a model on .npy inputs: a model input of
// shape [1, d...] given an array [N, d...] runs N samples, and each output stacks to [N, ...].
#pragma once

#include "ir/Graph.h"

#include <llvm/ADT/StringMap.h>

#include <functional>
#include <vector>

namespace edgesplit {

using SampleRunner = std::function<std::vector<Tensor>(llvm::ArrayRef<Tensor>)>;

// Where the arrays came from, which decides how a missing one is asked for.
enum class SampleSource { InputOptions, CalibrationArchive };

// The samples `arrays` holds: one tensor per graph input each, in graph.inputs order (an input
// given as a single sample is repeated). Validates names, dtypes and shapes like
// runWithBatchRule.
std::vector<std::vector<Tensor>> splitSamples(const Graph &graph,
                                              const llvm::StringMap<Tensor> &arrays,
                                              SampleSource source = SampleSource::InputOptions);

// `arrays` maps model input names to data; every graph input must be given, and no other name.
// Returns one tensor per graph output.
std::vector<Tensor> runWithBatchRule(const Graph &graph, const llvm::StringMap<Tensor> &arrays,
                                     const SampleRunner &runSample);

} // namespace edgesplit
