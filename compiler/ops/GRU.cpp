#include "ops/Recurrent.h"

namespace edgesplit::ops {
namespace {
// Gate blocks of W, R and B, in ONNX's order: update, reset, hidden.
enum Gate : int64_t { kUpdateGate, kResetGate, kHiddenGate };

constexpr std::string_view kDefaultActivations[] = {"Sigmoid", "Tanh"}; // f, g
const RecurrentOpTraits kTraits{
    .gateCount = 3, .defaultActivations = kDefaultActivations, .hasCellState = false};

// linear_before_reset applies the reset gate after the hidden gate's recurrent product instead of
// before it (the cuDNN formulation).
bool parseLinearBeforeReset(const NodeContext &ctx) {
  const int64_t linearBeforeReset = ctx.attrInt("linear_before_reset", 0);
  if (linearBeforeReset != 0 && linearBeforeReset != 1)
    ctx.fail("linear_before_reset must be 0 or 1, got {}", linearBeforeReset);
  return linearBeforeReset == 1;
}

void infer(InferContext &ctx) {
  inferRecurrent(ctx, kTraits);
  parseLinearBeforeReset(ctx);
}

void run(KernelContext &ctx) {
  const RecurrentAttributes attributes = parseRecurrentAttributes(ctx, kTraits);
  const int64_t hidden = attributes.hiddenSize;
  const bool linearBeforeReset = parseLinearBeforeReset(ctx);
  std::vector<double> inputPart(static_cast<size_t>(3 * hidden));
  std::vector<double> recurrentPart(inputPart.size());
  std::vector<double> updateGate(static_cast<size_t>(hidden));
  std::vector<double> resetHidden(updateGate.size());
  runRecurrent(
      ctx, kTraits, attributes,
      [&](const DirectionWeights &weights, llvm::ArrayRef<double> x, RecurrentState &state) {
        applyAffine(weights.inputWeights, weights.inputBias, x, inputPart);
        applyAffine(weights.recurrentWeights, weights.recurrentBias, state.hidden, recurrentPart);
        const Activation &f = weights.activations[0];
        const Activation &g = weights.activations[1];
        auto gateSum = [&](Gate gate, int64_t j) {
          const size_t row = static_cast<size_t>(gate * hidden + j);
          return inputPart[row] + recurrentPart[row];
        };
        for (int64_t j = 0; j < hidden; ++j) {
          updateGate[j] = f(attributes.clipped(gateSum(kUpdateGate, j)));
          const double resetGate = f(attributes.clipped(gateSum(kResetGate, j)));
          // With linear_before_reset the hidden block of recurrentPart (R_h * H + Rb_h) is
          // scaled by the reset gate; otherwise it is recomputed below from the reset state.
          if (linearBeforeReset) recurrentPart[kHiddenGate * hidden + j] *= resetGate;
          else resetHidden[j] = resetGate * state.hidden[j];
        }
        if (!linearBeforeReset)
          applyAffine(weights.recurrentWeights + kHiddenGate * hidden * hidden,
                      weights.recurrentBias + kHiddenGate * hidden, resetHidden,
                      llvm::MutableArrayRef<double>(recurrentPart).slice(kHiddenGate * hidden));
        for (int64_t j = 0; j < hidden; ++j) {
          const double candidate = g(attributes.clipped(gateSum(kHiddenGate, j)));
          state.hidden[j] = (1.0 - updateGate[j]) * candidate + updateGate[j] * state.hidden[j];
        }
      });
}
} // namespace

extern const OpDef kGRU{.name = "GRU", .minInputs = 3, .maxInputs = 6, .minOutputs = 0,
                        .maxOutputs = 2, .infer = infer, .run = run, .macs = recurrentMacs};

} // namespace edgesplit::ops
