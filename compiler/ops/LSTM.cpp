#include "ops/Recurrent.h"

namespace edgesplit::ops {
namespace {
constexpr size_t kPeepholes = 7; // P: [num_directions, 3 * hidden_size], gates input, output, forget

// Gate blocks of W, R and B, in ONNX's order.
enum Gate : int64_t { kInputGate, kOutputGate, kForgetGate, kCellGate };

constexpr std::string_view kDefaultActivations[] = {"Sigmoid", "Tanh", "Tanh"}; // f, g, h
const RecurrentOpTraits kTraits{
    .gateCount = 4, .defaultActivations = kDefaultActivations, .hasCellState = true};

// input_forget couples the forget gate to the input gate (f = 1 - i).
bool parseInputForget(const NodeContext &ctx) {
  const int64_t inputForget = ctx.attrInt("input_forget", 0);
  if (inputForget != 0 && inputForget != 1)
    ctx.fail("input_forget must be 0 or 1, got {}", inputForget);
  return inputForget == 1;
}

void infer(InferContext &ctx) {
  inferRecurrent(ctx, kTraits);
  parseInputForget(ctx);
  if (ctx.hasInput(kPeepholes)) {
    const RecurrentAttributes attributes = parseRecurrentAttributes(ctx, kTraits);
    if (ctx.inputType(kPeepholes) != ctx.inputType(kSequence))
      ctx.fail("P is {}, expected {} like X", dtypeName(ctx.inputType(kPeepholes)),
               dtypeName(ctx.inputType(kSequence)));
    const Shape expected{attributes.numDirections, 3 * attributes.hiddenSize};
    if (ctx.inputShape(kPeepholes) != llvm::ArrayRef<int64_t>(expected))
      ctx.fail("P has shape {}, expected {} (num_directions, 3 * hidden_size)",
               formatShape(ctx.inputShape(kPeepholes)), formatShape(expected));
  }
}

void run(KernelContext &ctx) {
  const RecurrentAttributes attributes = parseRecurrentAttributes(ctx, kTraits);
  const int64_t hidden = attributes.hiddenSize;
  const bool coupledForgetGate = parseInputForget(ctx);
  const Tensor peepholes = ctx.hasInput(kPeepholes)
                               ? ctx.input(kPeepholes).castTo(DType::Float64)
                               : Tensor(DType::Float64, {attributes.numDirections, 3 * hidden});
  std::vector<double> inputPart(static_cast<size_t>(4 * hidden));
  std::vector<double> recurrentPart(inputPart.size());
  runRecurrent(ctx, kTraits, attributes,
               [&](const DirectionWeights &weights, llvm::ArrayRef<double> x,
                   RecurrentState &state) {
                 applyAffine(weights.inputWeights, weights.inputBias, x, inputPart);
                 applyAffine(weights.recurrentWeights, weights.recurrentBias, state.hidden,
                             recurrentPart);
                 const double *inputPeephole =
                     peepholes.data<double>() + weights.direction * 3 * hidden;
                 const double *outputPeephole = inputPeephole + hidden;
                 const double *forgetPeephole = outputPeephole + hidden;
                 const Activation &f = weights.activations[0];
                 const Activation &g = weights.activations[1];
                 const Activation &h = weights.activations[2];
                 for (int64_t j = 0; j < hidden; ++j) {
                   auto gateSum = [&](Gate gate) {
                     const size_t row = static_cast<size_t>(gate * hidden + j);
                     return inputPart[row] + recurrentPart[row];
                   };
                   const double previousCell = state.cell[j];
                   const double inputGate = f(
                       attributes.clipped(gateSum(kInputGate) + inputPeephole[j] * previousCell));
                   const double forgetGate =
                       coupledForgetGate
                           ? 1.0 - inputGate
                           : f(attributes.clipped(gateSum(kForgetGate) +
                                                  forgetPeephole[j] * previousCell));
                   const double candidate = g(attributes.clipped(gateSum(kCellGate)));
                   const double cell = forgetGate * previousCell + inputGate * candidate;
                   // The output gate's peephole looks at the updated cell.
                   const double outputGate =
                       f(attributes.clipped(gateSum(kOutputGate) + outputPeephole[j] * cell));
                   state.cell[j] = cell;
                   state.hidden[j] = outputGate * h(cell);
                 }
               });
}
} // namespace

extern const OpDef kLSTM{.name = "LSTM", .minInputs = 3, .maxInputs = 8, .minOutputs = 0,
                         .maxOutputs = 3, .infer = infer, .run = run, .macs = recurrentMacs};

} // namespace edgesplit::ops
