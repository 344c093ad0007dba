// The int8 Softmax of docs/int8.md in numbers: shared by its lowering and by --emit-qdq, which
// writes the same integer steps out as ONNX ops (quantize/EmitSoftmaxQdq.cpp).
#pragma once

#include <cstdint>
#include <vector>

namespace edgesplit::ops {

// e[d] = round_half_away(2^16 exp(Sx (d - 255))) for d in [0, 255]: d - 255 is an input code
// minus its line's maximum.
std::vector<uint32_t> softmaxExpTable(double inputScale);

// The output code of a kernel quotient k = floor((e * 256 + sum / 2) / sum), in [0, 256]: the
// probability min(k, 255) / 256 in the output's parameters (an exact copy for the fixed
// parameters 1/256 and -128, a rounding for others a pre-quantised model gives).
int8_t softmaxOutputCode(int64_t quotient, double outputScale, int32_t outputZeroPoint);

} // namespace edgesplit::ops
