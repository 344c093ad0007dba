// Normalisation passes. Each does one thing; normalizeGraph runs them in order and verifies the
// graph after every one.
#pragma once

#include "ir/Graph.h"
#include "ir/Verifier.h"

namespace edgesplit {

// Constant nodes become constant values (initialisers).
void constantsToInitializers(Graph &graph);
// Identity and inference-mode Dropout forward their input.
void removeIdentities(Graph &graph);
// Recomputes every value's dtype and static shape with the ops' own rules.
void inferShapes(Graph &graph);
// The same for one node's outputs (for passes that change what a node's inputs are known to be).
void inferNodeShapes(Node &node);
// Evaluates nodes whose inputs are all constant (shape arithmetic: Shape/Gather/Concat/Reshape
// chains...), and Shape/Size of statically shaped values. Quantize/Dequantize stay, so the
// quantisation structure of QDQ models survives.
void foldConstants(Graph &graph);
// BatchNormalization after a Conv, ConvTranspose, Gemm or 2-D MatMul with constant weights is
// folded into them (the MatMul becomes a Gemm); any other inference-mode BatchNormalization with
// constant statistics on 2-D to 4-D data becomes a depthwise 1x1 Conv (weights: the per-channel
// scale, bias: the shift).
void foldBatchNorm(Graph &graph);
// An Add, Sub or Mul of a constant (one value, or one per output channel) after a Conv,
// ConvTranspose, Gemm or 2-D MatMul with constant weights is folded into its weights and bias.
void foldChannelAffine(Graph &graph);
// Sum and Mean of n inputs (tf2onnx's AddN, Keras' Average) become a chain of n - 1 two-input
// Adds from the left (Mean then a Mul by 1/n, as onnxruntime computes it), which code generation
// has in both precisions and the QDQ file spells as it is computed; of one input, their users
// read that input.
void sumMeanToAdds(Graph &graph);
// Min/Max of an activation and a constant scalar become Clip with that bound (Relu6 as
// Max(Min(x, 6), 0) in TensorFlow graphs), and a Clip of a Clip with constant bounds one Clip, so
// that it fuses into the layer before it like any Relu6.
void minMaxToClip(Graph &graph);
// A Transpose between a Conv (Gemm, MatMul) and element-wise channel ops (Add, Sub or Mul of a
// per-channel constant, Relu, Clip) moves after them, the constants following the channel axis:
// tf2onnx's NHWC BiasAdd, Keras' non-fused batchnorm and Relu after a Conv's transpose back to
// NHWC then fold into the Conv (as tf2onnx's own transpose optimiser does when it can).
void sinkTransposes(Graph &graph);
// DepthToSpace (PyTorch's PixelShuffle from opset 11) becomes the Reshape -> Transpose -> Reshape
// that defines it.
void expandDepthToSpace(Graph &graph);
// The primitives PyTorch writes for LayerNorm before opset 17 (ReduceMean, Sub, Pow(2) or Mul,
// ReduceMean, Add(epsilon), Sqrt, Div[, Mul(scale)][, Add(bias)] over trailing axes) become one
// LayerNormalization, which code generation has in both precisions; a LayerNormalization's Mean
// and InvStdDev outputs that nothing reads are dropped.
void foldLayerNormalization(Graph &graph);
// Transposes above the kernels' rank (pixel shuffle's 6-D one) become Reshape -> Transpose steps
// of at most 4 dimensions each.
void splitWideTransposes(Graph &graph);
// Cast(float -> integer) -> Cast(float) of values known to be whole numbers within the integer
// type (after Floor and Clip: the requantisation of integer-deployable graphs) gives the value
// back: its users read the value itself. So do the users of a Cast to its input's own type.
void removeCastRoundTrips(Graph &graph);
// Tile of an activation by constant repeats (up to 64 along an axis) becomes one Concat of copies
// per repeated axis, which code generation has (constant Tiles are folded before).
void tilesToConcats(Graph &graph);
// Drops nodes whose outputs nothing uses, and values left without a user.
void removeDeadNodes(Graph &graph);

struct NormalizeOptions {
  VerifyOptions verify;
};
void normalizeGraph(Graph &graph, const NormalizeOptions &options = {});

} // namespace edgesplit
