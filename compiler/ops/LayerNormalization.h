// int8 LayerNormalization (docs/int8.md "LayerNormalization"): the compile-time tables the kernel
// reads and an integer reference written apart from runtime-c's es_layer_norm_s8, which
// tests/unit/LayerNormTests.cpp holds to the same bits.
#pragma once

#include "es_s8.h"

#include <llvm/ADT/ArrayRef.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgesplit {
class LowerContext;
}

namespace edgesplit::ops {

struct LayerNormS8Tables {
  int64_t epsilon = 0;              // round_half_away(2^8 n^3 epsilon / Sx^2), at most 2^61
  std::vector<es_requant_t> scale;  // gamma[k] sqrt(n) / Sy, signed, shift in [-16, 40]
  std::vector<int32_t> bias;        // round_half_away(2^16 (beta[k] / Sy + Zy))
};

// The tables of a row of n = gamma.size() elements, one entry per element; with `rowLength`
// (InstanceNormalization) rows of that many elements and one entry per channel (gamma, beta one
// value each). `why` says which value is out of the kernel's range when it returns nothing.
std::optional<LayerNormS8Tables> layerNormS8Tables(double inputScale, double outputScale,
                                                   int32_t outputZeroPoint, double epsilon,
                                                   llvm::ArrayRef<double> gamma,
                                                   llvm::ArrayRef<double> beta, std::string &why,
                                                   int64_t rowLength = 0);

// One normalisation of `rows` rows of `length` values as LayerNormalization and
// InstanceNormalization lower it (es_layer_norm_f32 / _s8): gamma and beta hold one value per
// element of a row or, with `channels`, one per channel (row r belongs to channel r % channels).
struct NormalizedRows {
  int32_t rows = 0, length = 0, channels = 0;
  double epsilon = 0.0;
  std::vector<double> gamma;
  std::optional<std::vector<double>> beta; // LayerNormalization's B may be absent
  std::string_view rowNoun;                // "rows" or "planes", for the length limit's message
};
void lowerNormalizedRows(LowerContext &ctx, const NormalizedRows &rows);

void referenceLayerNormS8(const es_layer_norm_s8_params_t &p, llvm::ArrayRef<es_requant_t> scale,
                          llvm::ArrayRef<int32_t> bias, llvm::ArrayRef<int8_t> input,
                          llvm::MutableArrayRef<int8_t> output);

} // namespace edgesplit::ops
