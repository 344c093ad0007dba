#include "quantize/FoldRequantChains.h"

#include "codegen/FuseActivations.h"
#include "passes/ChannelAffine.h"
#include "passes/Passes.h"

#include <algorithm>
#include <cmath>

namespace edgesplit {

namespace {

// The one default-domain node that reads `value`, which is no graph output; nullptr otherwise.
Node *soleUser(const Graph &graph, const Value *value) {
  if (graph.isGraphOutput(value)) return nullptr;
  const auto users = graph.users(value);
  if (users.size() != 1 || !users[0]->domain.empty()) return nullptr;
  return users[0];
}

// The positive scalar constant operand of a Mul/Div whose other operand is `value`.
std::optional<double> scalarFactor(const Node &node, const Value *value) {
  if (node.inputs.size() != 2) return std::nullopt;
  const bool commutes = node.opType == "Mul";
  const Value *other = node.input(0) == value ? node.input(1)
                       : commutes && node.input(1) == value ? node.input(0)
                                                            : nullptr;
  if (!other || !other->isConstant() || other->constant->numElements() != 1 ||
      other->dtype != DType::Float32 || other->quant)
    return std::nullopt;
  const double factor = other->constant->elementAsDouble(0);
  if (!std::isfinite(factor) || factor <= 0.0) return std::nullopt;
  return node.opType == "Mul" ? factor : 1.0 / factor;
}

struct Chain {
  Node *layer = nullptr;
  llvm::SmallVector<Node *, 4> steps; // Mul, Div, Floor: removed
  Node *clip = nullptr;
  double factor = 1.0;
  bool floors = false;
};

std::optional<Chain> chainAfter(const Graph &graph, Node &layer) {
  if (!layer.domain.empty() || layer.outputs.size() != 1 || !layer.outputs[0] ||
      (layer.opType != "Conv" && layer.opType != "Gemm" && layer.opType != "MatMul"))
    return std::nullopt;
  Chain chain;
  chain.layer = &layer;
  const Value *value = layer.outputs[0];
  for (Node *user = soleUser(graph, value); user; user = soleUser(graph, value)) {
    if ((user->opType == "Mul" || user->opType == "Div") && !chain.floors) {
      const std::optional<double> factor = scalarFactor(*user, value);
      if (!factor) return std::nullopt;
      chain.factor *= *factor;
    } else if (user->opType == "Floor" && !chain.floors) {
      chain.floors = true;
    } else if (user->opType == "Clip" && user->input(0) == value) {
      chain.clip = user;
      break;
    } else {
      return std::nullopt;
    }
    chain.steps.push_back(user);
    value = user->outputs[0];
  }
  if (!chain.clip || !chain.floors) return std::nullopt;
  return chain;
}

// The int8 parameters on which the whole numbers of a Clip's [lo, hi] are exact (scale 1, the
// zero point putting lo at -128 or as near as it goes), when its bounds are whole and int8 spans
// them.
std::optional<QuantParams> integerGrid(const Node &clip) {
  const std::optional<ActivationClamp> clamp = activationClampOf(clip);
  if (!clamp || !std::isfinite(clamp->lo) || !std::isfinite(clamp->hi) ||
      std::floor(clamp->lo) != clamp->lo || std::floor(clamp->hi) != clamp->hi ||
      clamp->hi < clamp->lo)
    return std::nullopt;
  const double zeroPoint = std::clamp(-128.0 - clamp->lo, -128.0, 127.0);
  if (clamp->lo < -128.0 - zeroPoint || clamp->hi > 127.0 - zeroPoint) return std::nullopt;
  QuantParams grid;
  grid.scales = {1.0f};
  grid.zeroPoints = {static_cast<int32_t>(zeroPoint)};
  return grid;
}

} // namespace

void foldRequantChains(Graph &graph) {
  llvm::SmallVector<Chain, 4> chains;
  for (const auto &node : graph.nodes())
    if (auto chain = chainAfter(graph, *node)) chains.push_back(*chain);
  for (Chain &chain : chains) {
    // The clamp must leave at most 256 whole numbers, which int8 holds exactly with scale 1.
    const std::optional<QuantParams> grid = integerGrid(*chain.clip);
    if (!grid) continue;
    Value *clipped = chain.clip->outputs[0];
    if (!clipped || clipped->quant) continue;
    // floor(t) = round_half_away(t - 0.5 + e) for every t whose fraction is not in (1 - e, 1);
    // e = 2^-10 moves whole t off the halfway point, where rounding away from zero would give
    // t - 1 for negative t.
    constexpr double kNudge = 1.0 / 1024.0;
    const bool integerWeights = hasWholeInt8Weights(*chain.layer);
    const auto channels = foldableOutputChannels(*chain.layer);
    const Value *bias = chain.layer->input(2);
    if (!channels || chain.layer->input(1)->quant || (bias && bias->quant)) continue;
    const auto count = static_cast<size_t>(channels->count);
    foldChannelAffine(graph, *chain.layer,
                      ChannelAffine{std::vector<double>(count, chain.factor),
                                    std::vector<double>(count, -0.5 + kNudge)});
    if (integerWeights) {
      // The folded weights are w * f: scale f keeps the int8 values the model's whole numbers.
      QuantParams weightParams;
      weightParams.scales = {static_cast<float>(chain.factor)};
      weightParams.zeroPoints = {0};
      chain.layer->inputs[1]->quant = weightParams;
    }
    // The layer now computes the Clip's input before rounding: a new value, so that the name of
    // its old output (the raw product, in the model) never carries these parameters.
    Value *old = chain.layer->outputs[0];
    Value *scaled = graph.createValue(graph.uniqueName(old->name + "_requantised"), old->dtype);
    scaled->shape = old->shape;
    scaled->producer = chain.layer;
    chain.layer->outputs[0] = scaled;
    chain.clip->inputs[0] = scaled;
    scaled->quant = grid;
    clipped->quant = grid;
    for (Node *step : llvm::reverse(chain.steps)) graph.eraseNode(step);
  }
  if (!chains.empty()) graph.removeUnusedValues();
  // Chains with no layer to fold into run step by step, each exact: Mul and Div by scalars keep
  // the int8 values (their rule), and Floor -> Clip write the integer grid the Clip allows.
  for (const auto &node : graph.nodes()) {
    if (node->opType != "Floor" || !node->domain.empty() || node->outputs.size() != 1) continue;
    Value *floored = node->outputs[0];
    Node *clip = floored ? soleUser(graph, floored) : nullptr;
    if (!clip || clip->opType != "Clip" || clip->input(0) != floored || !clip->outputs[0] ||
        floored->quant || clip->outputs[0]->quant)
      continue;
    if (const std::optional<QuantParams> grid = integerGrid(*clip)) {
      floored->quant = grid;
      clip->outputs[0]->quant = grid;
    }
  }
}

} // namespace edgesplit
