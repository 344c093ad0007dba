// A per-output-channel affine map y[c] = scale[c] * x[c] + shift[c] applied after a layer with
// constant weights (Conv, ConvTranspose, Gemm, MatMul), and folding it into the layer's weights and
// bias. Shared by fold-batchnorm and fold-channel-affine.
#pragma once

#include "ir/Graph.h"

#include <optional>
#include <vector>

namespace edgesplit {

struct ChannelAffine {
  std::vector<double> scale; // one per output channel
  std::vector<double> shift;
};

// The values of `tensor` as one per channel when it broadcasts against a rank-`rank` tensor
// without growing it and varies only along `channelAxis` (of size `channels`); a tensor of one
// element gives `channels` copies of it.
std::optional<std::vector<double>> perChannelValues(const Tensor &tensor, size_t rank,
                                                    size_t channelAxis, int64_t channels);

// The axis of `layer`'s output that holds its output channels and how many there are, when
// `layer` is a Conv, ConvTranspose, Gemm or 2-D MatMul with constant float32 weights (and a
// constant float32 bias if it has one) that foldChannelAffine can rewrite.
struct OutputChannels {
  size_t axis;
  int64_t count;
};
std::optional<OutputChannels> foldableOutputChannels(const Node &layer);

// Whether `layer`'s weights are whole numbers in [-127, 127], as an integer-deployable graph's
// are: int8 holds them exactly, which scaling them would undo.
bool hasWholeInt8Weights(const Node &layer);

// Rewrites `layer` so that it computes affine(layer(x)): weights scaled per output channel, bias
// scale * bias + shift (created when absent). A MatMul becomes a Gemm with that bias. Requires
// foldableOutputChannels(layer) and affine of its channel count.
void foldChannelAffine(Graph &graph, Node &layer, const ChannelAffine &affine);

} // namespace edgesplit
