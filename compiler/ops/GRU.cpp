#include "ops/Recurrent.h"

#include "quantize/Annotate.h"

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
  return parseFlagAttribute(ctx, "linear_before_reset");
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

void lowerFloat(LowerContext &ctx, const RecurrentLowering &lowering) {
  es_recurrent_f32_params_t p = recurrentF32Params(lowering);
  p.linear_before_reset = parseLinearBeforeReset(ctx);
  ctx.call<es_recurrent_f32_params_t>(
      "es_gru_f32", p,
      {ctx.input(kSequence), optionalFloatArgument(ctx, kInputWeights, "w"),
       optionalFloatArgument(ctx, kRecurrentWeights, "r"),
       optionalFloatArgument(ctx, kBias, "bias"),
       optionalFloatArgument(ctx, kInitialHidden, "initial_h"),
       LowerContext::scratch(ES_RECURRENT_F32_SCRATCH_BYTES(&p)), optionalOutput(ctx, 0),
       optionalOutput(ctx, 1)},
      [](const es_recurrent_f32_params_t &p, const KernelArgs &a) {
        es_gru_f32(&p, a.in<float>(1), a.in<float>(2), a.in<float>(3), a.in<float>(4),
                   a.in<float>(5), a.out<float>(6), a.out<float>(7), a.out<float>(8));
      },
      kRecurrentKernelClass);
}

// docs/int8.md's GRU bias per direction: 3 * hidden rows at Sx * Sw[row] (update and reset:
// Wb + Rb, hidden: Wb), then the hidden rows' Rb at 2^-7 * Sr[row].
std::vector<int32_t> quantisedBias(const LowerContext &ctx, const RecurrentLowering &lowering,
                                   const RowQuantizedWeights &w, const RowQuantizedWeights &r) {
  const int64_t hidden = lowering.attributes.hiddenSize, rows = 3 * hidden;
  const std::vector<float> bias = ctx.hasInput(kBias)
                                      ? ctx.floatConstant(kBias)
                                      : std::vector<float>(2 * w.scales.size(), 0.0f);
  const double inputScale = ctx.inputQuant(kSequence).scale;
  std::vector<int32_t> quantised;
  for (int64_t d = 0; d < lowering.attributes.numDirections; ++d) {
    const float *inputBias = bias.data() + d * 2 * rows, *recurrentBias = inputBias + rows;
    for (int64_t row = 0; row < rows; ++row) {
      const double value = inputBias[row] + (row < kHiddenGate * hidden ? recurrentBias[row] : 0);
      quantised.push_back(quantizeBiasValue(value, inputScale * w.scales[d * rows + row]));
    }
    for (int64_t j = 0; j < hidden; ++j) {
      const int64_t row = kHiddenGate * hidden + j;
      quantised.push_back(quantizeBiasValue(recurrentBias[row], r.scales[d * rows + row] / 128.0));
    }
  }
  return quantised;
}

RecurrentS8Layer s8Layer(LowerContext &ctx, const RecurrentLowering &lowering) {
  RowQuantizedWeights w = quantizeRows(ctx, kInputWeights);
  RowQuantizedWeights r = quantizeRows(ctx, kRecurrentWeights);
  std::vector<int32_t> bias = quantisedBias(ctx, lowering, w, r);
  RecurrentS8Layer layer;
  layer.operands = recurrentS8Operands(ctx, lowering, w, r);
  RecurrentS8Operands &operands = layer.operands;
  operands.bias = std::move(bias);
  es_recurrent_s8_params_t &p = operands.params;
  p.linear_before_reset = parseLinearBeforeReset(ctx);
  layer.initialHidden = quantizedState(ctx, kInitialHidden, "initial_h");
  p.initial_h_zp = layer.initialHidden.zeroPoint;
  p.initial_h_requant = ctx.requant(layer.initialHidden.scale * 128.0);
  return layer;
}

void lowerInt8(LowerContext &ctx, const RecurrentLowering &lowering) {
  RecurrentS8Layer layer = s8Layer(ctx, lowering);
  RecurrentS8Operands &operands = layer.operands;
  const es_recurrent_s8_params_t &p = operands.params;
  ctx.call<es_recurrent_s8_params_t>(
      "es_gru_s8", p,
      {ctx.input(kSequence), ctx.constantArray("w", std::move(operands.w)),
       ctx.constantArray("r", std::move(operands.r)),
       ctx.constantArray("bias", std::move(operands.bias)),
       ctx.constantArray("input_requant", std::move(operands.inputRequant)),
       ctx.constantArray("recurrent_requant", std::move(operands.recurrentRequant)),
       ctx.constantArray("tables", std::move(operands.tables)), layer.initialHidden.arg,
       LowerContext::scratch(ES_RECURRENT_S8_SCRATCH_BYTES(&p)), optionalOutput(ctx, 0),
       optionalOutput(ctx, 1)},
      [](const es_recurrent_s8_params_t &p, const KernelArgs &a) {
        es_gru_s8(&p, a.in<int8_t>(1), a.in<int8_t>(2), a.in<int8_t>(3), a.in<int32_t>(4),
                  a.in<es_requant_t>(5), a.in<es_requant_t>(6), a.in<int32_t>(7), a.in<int8_t>(8),
                  a.out<int8_t>(9), a.out<int8_t>(10), a.out<int8_t>(11));
      },
      kRecurrentKernelClass);
}

void lower(LowerContext &ctx) {
  const RecurrentLowering lowering = checkRecurrentLowering(ctx, kTraits);
  if (ctx.isInt8()) lowerInt8(ctx, lowering);
  else lowerFloat(ctx, lowering);
}

void quantize(QuantizeContext &ctx) { quantizeRecurrent(ctx, kTraits); }
} // namespace

RecurrentS8Layer gruS8Layer(LowerContext &ctx) {
  return s8Layer(ctx, checkRecurrentLowering(ctx, kTraits));
}

RecurrentS8Outputs referenceGruS8(const RecurrentS8Operands &operands, llvm::ArrayRef<int8_t> x,
                                  const int8_t *initialHidden, bool wantY, bool wantHidden) {
  const S8ReferenceLayer layer(operands, x, 3);
  const es_recurrent_s8_params_t &p = layer.params();
  const int64_t hidden = layer.hidden();
  RecurrentS8Outputs out = layer.hiddenOutputs(wantY, wantHidden);
  for (int64_t d = 0; d < p.directions; ++d)
    for (int64_t b = 0; b < p.batch; ++b) {
      const int64_t offset = layer.stateOffset(d, b);
      const int32_t *bias = operands.bias.data() + d * 4 * hidden;
      std::vector<int32_t> h =
          layer.initialState(initialHidden, offset, p.initial_h_zp, p.initial_h_requant, -128, 127);
      for (int64_t step = 0; step < p.seq_length; ++step) {
        const int64_t t = layer.timeOf(d, step);
        std::vector<int32_t> update(hidden), reset(hidden), resetHidden(hidden);
        for (int64_t j = 0; j < hidden; ++j) {
          for (Gate gate : {kUpdateGate, kResetGate}) {
            const int64_t row = gate * hidden + j;
            const int32_t value = layer.sigmoid(
                layer.preActivation(d, row, layer.inputAccumulator(d, row, t, b, bias[row]),
                                    layer.recurrentAccumulator(d, row, h, 0)));
            (gate == kUpdateGate ? update : reset)[j] = value;
          }
          resetHidden[j] =
              static_cast<int32_t>(S8ReferenceLayer::roundShift(int64_t{reset[j]} * h[j], 15));
        }
        std::vector<int32_t> next(hidden);
        for (int64_t j = 0; j < hidden; ++j) {
          const int64_t row = kHiddenGate * hidden + j;
          const int64_t inputPart = es_requantize(layer.inputAccumulator(d, row, t, b, bias[row]),
                                                  layer.inputFactor(d, row));
          int64_t recurrentPart;
          if (p.linear_before_reset) {
            const int64_t product = S8ReferenceLayer::saturate(
                es_requantize(layer.recurrentAccumulator(d, row, h, bias[3 * hidden + j]),
                              layer.recurrentFactor(d, row)),
                -65536, 65536);
            recurrentPart = S8ReferenceLayer::roundShift(reset[j] * product, 15);
          } else {
            recurrentPart =
                es_requantize(layer.recurrentAccumulator(d, row, resetHidden, bias[3 * hidden + j]),
                              layer.recurrentFactor(d, row));
          }
          const int64_t candidate = layer.tanh(layer.clipGate(inputPart + recurrentPart));
          next[j] = S8ReferenceLayer::saturate(
              S8ReferenceLayer::roundShift(
                  (32768 - update[j]) * candidate + int64_t{update[j]} * h[j] * 256, 23),
              -128, 127);
        }
        h = next;
        layer.storeStep(out, h, t, d, b);
      }
      layer.storeLast(out, h, d, b);
    }
  return out;
}

extern const OpDef kGRU{.name = "GRU",
                        .minInputs = 3,
                        .maxInputs = 6,
                        .minOutputs = 0,
                        .maxOutputs = 2,
                        .infer = infer,
                        .run = run,
                        .macs = recurrentMacs,
                        .quantize = quantize,
                        .lower = lower};

} // namespace edgesplit::ops
