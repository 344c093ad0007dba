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
// BatchNormalization after a Conv or Gemm with constant weights is folded into them.
void foldBatchNorm(Graph &graph);
// An Add, Sub or Mul of a constant (one value, or one per output channel) after a Conv,
// ConvTranspose, Gemm or 2-D MatMul with constant weights is folded into its weights and bias.
void foldChannelAffine(Graph &graph);
// Drops nodes whose outputs nothing uses, and values left without a user.
void removeDeadNodes(Graph &graph);

struct NormalizeOptions {
  VerifyOptions verify;
};
void normalizeGraph(Graph &graph, const NormalizeOptions &options = {});

} // namespace edgesplit
