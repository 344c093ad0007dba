#include "fleet/SpatialTiling.h"

#include "fleet/ChannelSlicing.h"

#include "codegen/FuseActivations.h"
#include "ir/Verifier.h"
#include "ops/OpDef.h"
#include "passes/Passes.h"
#include "support/Error.h"


#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/STLExtras.h>

#include <algorithm>

namespace edgesplit {
namespace {

constexpr int64_t kRowAxis = 2;

// Operations that compute each element from the elements at the same position of their
// non-constant inputs (the constants broadcasting), so a band of rows computes its rows.
constexpr std::string_view kElementwise[] = {
    "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Elu", "Selu",
    "Abs",  "Neg",  "Exp",       "Floor",   "Sqrt", "Add",         "Sub",       "Mul", "Div",
    "PRelu", "Max", "Min"};

// How output rows of a node read input rows: output row o reads input rows
// o * stride - padTop + j * dilation for j in [0, kernel). An element-wise node is the window
// kernel 1, stride 1, no pads.
struct RowWindow {
  int64_t kernel = 1, stride = 1, dilation = 1, padTop = 0, padBottom = 0;
  int64_t extent() const { return (kernel - 1) * dilation + 1; }
};

bool isDefaultOp(const Node &node, std::string_view opType) {
  return node.domain.empty() && node.opType == opType;
}

bool isWindowed(const Node &node) {
  return isDefaultOp(node, "Conv") || isDefaultOp(node, "MaxPool") ||
         isDefaultOp(node, "AveragePool");
}

// The pads of a Pad node (input from opset 11, attribute before), when constant.
std::optional<std::vector<int64_t>> padsOf(const Node &pad) {
  if (pad.opset < 11) return pad.attributes.getInts("pads");
  const Value *pads = pad.input(1);
  if (!pads || !pads->isConstant() || pad.input(3)) return std::nullopt;
  return pads->constant->toInt64Vector();
}

// The row window of a chain node (checked by findTileChain).
RowWindow rowWindow(const Node &node) {
  RowWindow window;
  if (isWindowed(node)) {
    window.kernel = isDefaultOp(node, "Conv")
                        ? node.input(1)->constant->dim(2)
                        : node.attributes.getInts("kernel_shape").value_or(std::vector<int64_t>{1})[0];
    const auto strides = node.attributes.getInts("strides");
    const auto dilations = node.attributes.getInts("dilations");
    const auto pads = node.attributes.getInts("pads");
    if (strides && !strides->empty()) window.stride = (*strides)[0];
    if (dilations && !dilations->empty()) window.dilation = (*dilations)[0];
    if (pads && pads->size() == 4) {
      window.padTop = (*pads)[0];
      window.padBottom = (*pads)[2];
    }
  } else if (isDefaultOp(node, "Pad")) {
    const std::vector<int64_t> pads = *padsOf(node);
    window.padTop = pads[kRowAxis];
    window.padBottom = pads[4 + kRowAxis];
  }
  return window;
}

// The input rows that output rows `out` read, clipped to an input of `rows` rows.
RowRange inputRows(const RowWindow &window, RowRange out, int64_t rows) {
  return {std::max<int64_t>(0, out.begin * window.stride - window.padTop),
          std::min(rows, (out.end - 1) * window.stride - window.padTop + window.extent())};
}

RowRange hull(std::optional<RowRange> a, RowRange b) {
  return a ? RowRange{std::min(a->begin, b.begin), std::max(a->end, b.end)} : b;
}

int64_t rowsOf(const Value &value) { return (*value.shape)[kRowAxis]; }

// Bytes of `rows` rows of `value` at `element` bytes an element.
int64_t rowBytes(const Value &value, RowRange rows, int64_t element) {
  return numElements(*value.shape) / rowsOf(value) * rows.size() * element;
}

bool isGroupOneConv(const Node &node) {
  return isDefaultOp(node, "Conv") && node.attributes.getInt("group").value_or(1) == 1;
}

bool isStatic4d(const Value *value) {
  return value && value->shape && value->shape->size() == 4 &&
         llvm::all_of(*value->shape, [](int64_t dim) { return dim > 0; });
}

// Why `node` cannot be a chain node (empty when it can). `produced` holds the values the chain
// writes before it, `input` the chain's input.
std::string unsupportedReason(const Node &node, const Value *input,
                              const llvm::DenseSet<const Value *> &produced) {
  const std::string what = node.describe();
  if (!node.domain.empty() || node.outputs.size() != 1 || !isStatic4d(node.outputs[0]))
    return fmt::format("{} is not a layer of one [N, C, H, W] output with static shapes", what);
  auto isChainTensor = [&](const Value *value) {
    return value == input || produced.count(value) != 0;
  };
  if (isWindowed(node) || isDefaultOp(node, "Pad")) {
    if (!isChainTensor(node.input(0)))
      return fmt::format("{} reads a tensor that is neither the chain's input nor made in it",
                         what);
    for (size_t i = 1; i < node.inputs.size(); ++i)
      if (node.inputs[i] && !node.inputs[i]->isConstant())
        return fmt::format("{} has an input {} that is not a constant", what, i);
    const std::string autoPad = node.attributes.getString("auto_pad").value_or("NOTSET");
    if (isWindowed(node) && autoPad != "NOTSET")
      return fmt::format("{} has auto_pad {} (only explicit pads can be cut into bands)", what,
                         autoPad);
    if (node.attributes.getInt("ceil_mode").value_or(0) != 0)
      return fmt::format("{} has ceil_mode 1", what);
    if (isDefaultOp(node, "Conv") &&
        (!node.input(1) || !node.input(1)->isConstant() || node.input(1)->constant->rank() != 4))
      return fmt::format("{} has no constant 2-D kernel", what);
    if (isDefaultOp(node, "Pad")) {
      const auto pads = padsOf(node);
      if (node.attributes.getString("mode").value_or("constant") != "constant" || !pads ||
          pads->size() != 8 || llvm::any_of(*pads, [](int64_t pad) { return pad < 0; }))
        return fmt::format("{} is not a constant-mode Pad with constant non-negative pads", what);
    }
    return {};
  }
  if (!llvm::is_contained(kElementwise, node.opType))
    return fmt::format("{} is not an operation a band of rows can compute (a Conv, MaxPool, "
                       "AveragePool, Pad, activation or element-wise operation)",
                       what);
  for (const Value *operand : node.inputs) {
    if (!operand) continue;
    if (operand->isConstant()) {
      // Broadcasting along the rows would give each band other values.
      const size_t rank = operand->shape->size();
      if (rank > 4 || (rank >= 4 - kRowAxis && (*operand->shape)[rank - (4 - kRowAxis)] != 1))
        return fmt::format("{} has a constant that varies along the rows", what);
    } else if (!isChainTensor(operand) || *operand->shape != *node.outputs[0]->shape) {
      return fmt::format("{} reads a tensor that is not one of the chain's, of its shape", what);
    }
  }
  return {};
}

Value *int64Constant(Graph &graph, const std::string &name, std::vector<int64_t> values) {
  const int64_t count = static_cast<int64_t>(values.size());
  return graph.createConstant(graph.uniqueName(name),
                              Tensor::fromVector<int64_t>({count}, values));
}

// A node before `position` of `opType` reading `inputs`, writing a new value named after
// `outputName` with `quant`; shape inferred.
Node *insertNode(Graph &graph, const Node &position, std::string name, const std::string &opType,
                 int opset, llvm::ArrayRef<Value *> inputs, AttributeMap attributes,
                 const std::string &outputName, const Value &like) {
  auto node = std::make_unique<Node>();
  node->name = std::move(name);
  node->opType = opType;
  node->opset = opset;
  node->op = findOp("", opType);
  node->inputs.assign(inputs.begin(), inputs.end());
  node->attributes = std::move(attributes);
  Value *output = graph.createValue(graph.uniqueName(outputName), like.dtype);
  node->outputs = {output};
  Node *inserted = graph.insertNodeBefore(&position, std::move(node));
  inferNodeShapes(*inserted);
  output->quant = like.quant; // copies and windows keep their parameters
  return inserted;
}

} // namespace

std::vector<RowRange> bandRows(int64_t rows, int64_t k) {
  std::vector<RowRange> bands;
  int64_t begin = 0;
  for (int64_t i = 0; i < k; ++i) {
    const int64_t count = rows / k + (i < rows % k ? 1 : 0);
    bands.push_back({begin, begin + count});
    begin += count;
  }
  return bands;
}

TileChain findTileChain(const Graph &graph, Node &first, Node &last, std::string &whyNot) {
  TileChain chain;
  chain.input = first.inputs.empty() ? nullptr : first.inputs[0];
  if (!isStatic4d(chain.input)) {
    whyNot = fmt::format("{} does not read a [N, C, H, W] tensor of static shape",
                         first.describe());
    return {};
  }
  llvm::DenseSet<const Value *> produced;
  bool started = false;
  for (const auto &owned : graph.nodes()) {
    Node &node = *owned;
    if (&node == &first) started = true;
    if (!started) continue;
    const bool inChain = &node == &first || llvm::any_of(node.inputs, [&](const Value *value) {
                           return value && produced.count(value);
                         });
    if (!inChain) {
      if (&node == &last) break;
      continue;
    }
    if (std::string reason = unsupportedReason(node, chain.input, produced); !reason.empty()) {
      whyNot = reason;
      return {};
    }
    chain.nodes.push_back(&node);
    produced.insert(node.outputs[0]);
    if (&node == &last) break;
  }
  if (chain.nodes.empty() || chain.nodes.back() != &last) {
    whyNot = fmt::format("{} does not follow {} (it reads nothing the chain from there makes)",
                         last.describe(), first.describe());
    return {};
  }
  chain.output = last.outputs[0];
  const llvm::DenseSet<const Node *> members(chain.nodes.begin(), chain.nodes.end());
  for (const Node *node : chain.nodes) {
    const Value *value = node->outputs[0];
    if (value == chain.output) continue;
    const auto users = graph.users(value);
    if (graph.isGraphOutput(value) || users.empty() ||
        llvm::any_of(users, [&](const Node *user) { return !members.count(user); })) {
      whyNot = fmt::format("{} writes '{}', which is read outside the chain (or not at all): "
                           "only the last node's output may leave it",
                           node->describe(), value->name);
      return {};
    }
  }
  return chain;
}

llvm::DenseMap<const Value *, RowRange> bandGeometry(const TileChain &chain,
                                                     RowRange outputRows) {
  llvm::DenseMap<const Value *, RowRange> rows;
  rows[chain.output] = outputRows;
  for (const Node *node : llvm::reverse(chain.nodes)) {
    const RowRange out = rows.lookup(node->outputs[0]);
    const RowWindow window = rowWindow(*node);
    for (const Value *operand : node->inputs) {
      if (!operand || operand->isConstant()) continue;
      const RowRange needed = inputRows(window, out, rowsOf(*operand));
      const auto found = rows.find(operand);
      rows[operand] = hull(found == rows.end() ? std::nullopt : std::optional(found->second),
                           needed);
    }
  }
  return rows;
}

TiledChain tileChain(Graph &graph, const TileChain &chain, int64_t k) {
  const int64_t outputRows = rowsOf(*chain.output);
  if (k < 2 || k > outputRows)
    fail("internal error: a chain of {} output rows cannot be cut into {} bands", outputRows, k);
  Node &first = *chain.nodes.front();
  TiledChain tiled;
  tiled.first = first.name;
  tiled.last = chain.nodes.back()->name;
  llvm::SmallVector<Value *, 8> parts;
  for (const RowRange band : bandRows(outputRows, k)) {
    const size_t index = tiled.bands.size();
    const std::string suffix = fmt::format("/band{}", index);
    std::vector<Node *> &nodes = tiled.bands.emplace_back();
    const auto rows = bandGeometry(chain, band);
    // Each chain value's band copy and the rows it holds; the input is sliced per reader.
    llvm::DenseMap<const Value *, std::pair<Value *, RowRange>> made;
    made[chain.input] = {chain.input, {0, rowsOf(*chain.input)}};
    // The band copy of `value` holding exactly `wanted` rows: the copy itself, or a Slice of it.
    auto rowsOfValue = [&](Value *value, RowRange wanted) -> Value * {
      const auto [copy, held] = made.lookup(value);
      if (held == wanted) return copy;
      const std::string name = value->name + suffix + fmt::format("/rows{}_{}", wanted.begin,
                                                                   wanted.end);
      Value *starts = int64Constant(graph, name + "/starts", {wanted.begin - held.begin});
      Value *ends = int64Constant(graph, name + "/ends", {wanted.end - held.begin});
      Value *axes = int64Constant(graph, name + "/axes", {kRowAxis});
      Node *slice = insertNode(graph, first, graph.uniqueName(name), "Slice", 13,
                               {copy, starts, ends, axes}, {}, name, *value);
      nodes.push_back(slice);
      return slice->outputs[0];
    };
    for (const Node *node : chain.nodes) {
      const RowRange out = rows.lookup(node->outputs[0]);
      const RowWindow window = rowWindow(*node);
      llvm::SmallVector<Value *, 4> inputs;
      RowRange read; // the rows of its data input(s)
      for (Value *operand : node->inputs) {
        if (!operand || operand->isConstant()) {
          inputs.push_back(operand);
          continue;
        }
        read = inputRows(window, out, rowsOf(*operand));
        inputs.push_back(rowsOfValue(operand, read));
      }
      // The pads this band needs: the rows its window reaches outside the tensor.
      const int64_t padTop = read.begin - (out.begin * window.stride - window.padTop);
      const int64_t padBottom = (out.end - 1) * window.stride - window.padTop + window.extent() -
                                read.end;
      AttributeMap attributes = node->attributes;
      if (isWindowed(*node) && attributes.has("pads")) {
        std::vector<int64_t> pads = *attributes.getInts("pads");
        pads[0] = padTop;
        pads[2] = padBottom;
        attributes.set("pads", pads);
      } else if (isWindowed(*node) && (padTop || padBottom)) {
        attributes.set("pads", std::vector<int64_t>{padTop, 0, padBottom, 0});
      } else if (isDefaultOp(*node, "Pad")) {
        std::vector<int64_t> pads = *padsOf(*node);
        pads[kRowAxis] = padTop;
        pads[4 + kRowAxis] = padBottom;
        if (node->opset < 11) attributes.set("pads", pads);
        else inputs[1] = int64Constant(graph, node->inputs[1]->name + suffix, pads);
      }
      Node *copy = insertNode(graph, first, node->name + suffix, node->opType, node->opset,
                              inputs, std::move(attributes), node->outputs[0]->name + suffix,
                              *node->outputs[0]);
      if (rowsOf(*copy->outputs[0]) != out.size())
        fail("internal error: band {} of {} has {} rows, not {}", index, copy->describe(),
             rowsOf(*copy->outputs[0]), out.size());
      nodes.push_back(copy);
      made[node->outputs[0]] = {copy->outputs[0], out};
    }
    parts.push_back(made.lookup(chain.output).first);
  }
  auto concat = std::make_unique<Node>();
  concat->name = tiled.last + "/bands";
  concat->opType = "Concat";
  concat->opset = chain.nodes.back()->opset;
  concat->inputs.assign(parts.begin(), parts.end());
  concat->outputs = {chain.output};
  concat->attributes.set("axis", kRowAxis);
  concat->op = findOp("", "Concat");
  tiled.concat = graph.insertNodeBefore(&first, std::move(concat));
  for (Node *node : llvm::reverse(chain.nodes)) graph.eraseNode(node);
  graph.removeUnusedValues();
  verifyGraph(graph, {}, "spatial-tiling");
  return tiled;
}

BandNeed bandNeed(const Graph &graph, const TileChain &chain, RowRange outputRows,
                  Precision precision) {
  const int64_t element = elementBytes(precision);
  const auto rows = bandGeometry(chain, outputRows);
  BandNeed need;
  StageSketch &stage = need.stage;
  stage.inputBytes = {numElements(*chain.input->shape) * element};
  // The sketch's tensor holding each value's band copy, and the rows it holds (as tileChain
  // makes them: a Slice wherever a reader needs fewer rows than are held).
  llvm::DenseMap<const Value *, std::pair<size_t, RowRange>> made;
  made[chain.input] = {0, {0, rowsOf(*chain.input)}};
  auto lastTensor = [&] { return stage.inputBytes.size() + stage.steps.size() - 1; };
  auto rowsOfValue = [&](const Value *value, RowRange wanted) {
    const auto [tensor, held] = made.lookup(value);
    if (held == wanted) return tensor;
    stage.steps.push_back({rowBytes(*value, wanted, element), {tensor}});
    return lastTensor();
  };
  for (size_t step = 0; step < chain.nodes.size(); ++step) {
    const Node &node = *chain.nodes[step];
    // A fused activation writes the buffer of the node before it: no step of its own.
    if (step > 0 && fusableActivation(graph, *chain.nodes[step - 1]) == &node) {
      made[node.outputs[0]] = made.lookup(node.inputs[0]);
      continue;
    }
    const RowRange out = rows.lookup(node.outputs[0]);
    const RowWindow window = rowWindow(node);
    std::vector<size_t> reads;
    for (const Value *operand : node.inputs)
      if (operand && !operand->isConstant())
        reads.push_back(rowsOfValue(operand, inputRows(window, out, rowsOf(*operand))));
    stage.steps.push_back({rowBytes(*node.outputs[0], out, element), std::move(reads)});
    made[node.outputs[0]] = {lastTensor(), out};
  }
  return need;
}

std::vector<TileChain> invertedResidualChains(const Graph &graph) {
  std::vector<TileChain> chains;
  auto soleReader = [&](const Value *value) -> Node * {
    const auto users = graph.users(value);
    return graph.isGraphOutput(value) || users.size() != 1 ? nullptr : users[0];
  };
  for (const auto &owned : graph.nodes()) {
    Node &first = *owned;
    const Value *input = first.inputs.empty() ? nullptr : first.inputs[0];
    if (!isGroupOneConv(first) || first.outputs.size() != 1 || !isStatic4d(input) ||
        !isStatic4d(first.outputs[0]) || (*first.outputs[0]->shape)[1] <= (*input->shape)[1])
      continue;
    Node *last = nullptr;
    for (Node *next = soleReader(first.outputs[0]); next; next = soleReader(next->outputs[0])) {
      if (next->outputs.size() != 1) break;
      if (isGroupOneConv(*next)) { // the projection, and the residual Add after it
        last = next;
        Node *add = soleReader(next->outputs[0]);
        if (add && isDefaultOp(*add, "Add") && llvm::is_contained(add->inputs, input)) last = add;
        break;
      }
      if (!isWindowed(*next) && !isDefaultOp(*next, "Pad") &&
          !llvm::is_contained(kElementwise, next->opType))
        break;
    }
    std::string whyNot;
    if (last)
      if (TileChain chain = findTileChain(graph, first, *last, whyNot); !chain.nodes.empty())
        chains.push_back(std::move(chain));
  }
  return chains;
}

TilePlan tileOversizedChains(Graph &graph, const Topology &topology, Precision precision) {
  const std::vector<DeviceBudget> budgets = deviceBudgets(topology);
  const size_t aggregator = topology.aggregatorIndex();
  auto anyDeviceHolds = [&](int64_t bytes) {
    return llvm::any_of(budgets, [&](const DeviceBudget &budget) { return bytes <= budget.ram; });
  };
  // The placement's estimate of `device`'s RAM for the band.
  auto ramOn = [&](const BandNeed &need, size_t device, StageInputs inputs) {
    return sketchedStageLoad(topology, need.stage, device, inputs).ramBytes;
  };
  auto ramLimit = [&](size_t device) { return topology.devices[device].target.ramKib * 1024; };
  TilePlan plan;
  for (const TileChain &chain : invertedResidualChains(graph)) {
    if (llvm::any_of(chain.nodes, [&](const Node *node) { return topology.pins.count(node->name); }))
      continue;
    const int64_t rows = rowsOf(*chain.output);
    // Whole, the chain may run where its input is made.
    const BandNeed whole = bandNeed(graph, chain, {0, rows}, precision);
    bool fits = false;
    for (size_t d = 0; d < topology.devices.size() && !fits; ++d)
      fits = ramOn(whole, d, StageInputs::Own) <= ramLimit(d);
    if (fits) continue;
    // Channel slices of the expanding Conv gather the projecting Conv's input beside its parts.
    const Node *projection = *llvm::find_if(
        llvm::reverse(chain.nodes), [](const Node *node) { return isGroupOneConv(*node); });
    const Value &gathered = *projection->inputs[0];
    if (anyDeviceHolds(2 * rowBytes(gathered, {0, rowsOf(gathered)}, elementBytes(precision))))
      continue;
    std::optional<int64_t> chosen;
    int64_t chosenRam = 0;
    for (int64_t k = 2; k <= rows && !chosen; ++k) {
      std::vector<BandNeed> bands;
      for (const RowRange band : bandRows(rows, k))
        bands.push_back(bandNeed(graph, chain, band, precision));
      // A device takes a band when it holds the largest of them.
      int64_t takers = 0, largest = 0;
      for (size_t d = 0; d < topology.devices.size(); ++d) {
        if (d == aggregator) continue;
        int64_t need = 0;
        for (const BandNeed &band : bands)
          need = std::max(need, ramOn(band, d, pieceInputs(topology.devices[d])));
        if (need <= ramLimit(d)) {
          ++takers;
          largest = std::max(largest, need);
        }
      }
      if (takers >= k) {
        chosen = k;
        chosenRam = largest;
      }
    }
    if (!chosen) continue;
    TiledChain tiled = tileChain(graph, chain, *chosen);
    std::vector<const Node *> firsts;
    for (const std::vector<Node *> &band : tiled.bands)
      firsts.push_back(*llvm::find_if(band, [](const Node *node) {
        return node->opType != "Slice";
      }));
    plan.separate.push_back(std::move(firsts));
    plan.bandRamBytes.push_back(chosenRam);
    plan.chains.push_back(std::move(tiled));
  }
  return plan;
}

} // namespace edgesplit
