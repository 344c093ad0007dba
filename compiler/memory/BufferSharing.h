// The one table of ops whose output may use an input's bytes in the arena instead of its own.
// Both the liveness analysis and the execution-order search read it, so they agree on costs.
#pragma once

#include "ir/Graph.h"

#include <string_view>

namespace edgesplit {

enum class Sharing {
  // Output 0 is input 0 reinterpreted: same bytes in the same order. It always shares when input 0
  // is in the arena (not a constant) and the sizes match; the shared bytes then stay alive as
  // long as either value is used.
  View,
  // Output 0 may overwrite one of the candidate inputs, when that input (with everything sharing
  // its bytes) is last used by this node, is not a graph input or output, and has the output's
  // size. The C kernel must therefore work with the output pointer equal to that input pointer:
  // element i of the output depends only on element i of the shared input, read before written.
  InPlace,
};

struct SharingRule {
  std::string_view opType; // default ONNX domain
  Sharing sharing;
  int candidateInputs; // inputs 0 .. candidateInputs-1 may be shared, tried in that order
};

inline constexpr SharingRule kSharingRules[] = {
    // Views.
    {"Flatten", Sharing::View, 1},
    {"Reshape", Sharing::View, 1},
    {"Squeeze", Sharing::View, 1},
    {"Unsqueeze", Sharing::View, 1},
    // Elementwise unary ops. Clip's min/max inputs are scalars and never shared.
    {"Abs", Sharing::InPlace, 1},
    {"Cast", Sharing::InPlace, 1},
    {"Clip", Sharing::InPlace, 1},
    {"Elu", Sharing::InPlace, 1},
    {"Erf", Sharing::InPlace, 1},
    {"Exp", Sharing::InPlace, 1},
    {"Floor", Sharing::InPlace, 1},
    {"HardSigmoid", Sharing::InPlace, 1},
    {"HardSwish", Sharing::InPlace, 1},
    {"LeakyRelu", Sharing::InPlace, 1},
    {"Neg", Sharing::InPlace, 1},
    {"Pow", Sharing::InPlace, 1},
    {"Relu", Sharing::InPlace, 1},
    {"Selu", Sharing::InPlace, 1},
    {"Sigmoid", Sharing::InPlace, 1},
    {"Sqrt", Sharing::InPlace, 1},
    {"Tanh", Sharing::InPlace, 1},
    // Elementwise binary ops: an input of the output's size is not broadcast, so element i of
    // the output reads element i of it.
    {"Add", Sharing::InPlace, 2},
    {"Mul", Sharing::InPlace, 2},
    {"Sub", Sharing::InPlace, 2},
};

// The rule for `node`, or nullptr when its outputs always get their own bytes.
const SharingRule *sharingRuleFor(const Node &node);

} // namespace edgesplit
