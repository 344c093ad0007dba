// A 1-D Conv (with its fused Relu/Clip) whose output only a GlobalAveragePool reads becomes one
// Conv1dGlobalAveragePool node (compiler/ops/Conv1dGlobalAveragePool.h): the convolution's int8
// outputs are summed in registers, never stored. A Transpose with perm (0, 2, 1) that feeds only
// that Conv (the NWC input of Keras' Conv1D, exported by tf2onnx and keras2onnx) folds into the
// node's input layout. int8 programs only (on the M55 too: the DSP body beats the Conv's MVE
// gather kernel and the pool), for the layers es_conv1d_nwc_mean_3x3_s8 takes
// (ops::conv1dMeanHasFastEntry), and only where its int32 arithmetic is exact for the layer; run
// after fuseActivations, whose clamps it moves.
#pragma once

#include "codegen/FuseActivations.h"

namespace edgesplit {

// Returns how many Convs it fused.
int fuseConvGlobalPools(Graph &graph, llvm::DenseMap<const Node *, ActivationClamp> &fused,
                        KernelIsa isa);

} // namespace edgesplit
