#include "fleet/ChannelSlicing.h"

#include "codegen/FuseActivations.h"
#include "ir/Verifier.h"
#include "ops/OpDef.h"
#include "passes/Passes.h"
#include "support/Error.h"


#include <llvm/ADT/STLExtras.h>

#include <algorithm>
#include <cstring>

namespace edgesplit {
namespace {

// The partitioner's allowance for the code next to the weights (partition/Partition.cpp).
constexpr int64_t kCodeAllowanceBytes = 8 * 1024;

// Readers that compute every output element of a channel from that channel's input alone, along
// any axis: one non-constant input, the other inputs constants that broadcast (docs/partition.md).
constexpr std::string_view kElementwiseFollowers[] = {
    "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Elu", "Selu",
    "Abs",  "Neg",  "Exp",       "Floor",   "Sqrt", "Reciprocal",  "Add",       "Sub", "Mul",
    "Div",  "PRelu", "Max", "Min"};
// Readers that work on each channel's spatial plane alone ([N, C, spatial...], channel axis 1).
constexpr std::string_view kSpatialFollowers[] = {"MaxPool", "AveragePool", "GlobalAveragePool",
                                                  "GlobalMaxPool", "Pad", "Conv"};

bool isDefaultOp(const Node &node, std::string_view opType) {
  return node.domain.empty() && node.opType == opType;
}

// Flash for a layer's weights on `device`: its flash less the code allowance.
int64_t flashForWeights(const TopologyDevice &device) {
  return device.target.flashKib * 1024 - kCodeAllowanceBytes;
}

int64_t intAttribute(const Node &node, llvm::StringRef name, int64_t otherwise) {
  return node.attributes.getInt(name).value_or(otherwise);
}

// The axis of the layer's weights (input 1) that holds its output channels.
int64_t weightChannelAxis(const Node &layer) {
  if (isDefaultOp(layer, "Gemm")) return intAttribute(layer, "transB", 0) != 0 ? 0 : 1;
  if (isDefaultOp(layer, "MatMul")) return 1;
  return 0; // Conv: [M, C, k...]
}

// Elements [begin, begin + count) of `tensor` along `axis`.
Tensor sliceTensor(const Tensor &tensor, size_t axis, int64_t begin, int64_t count) {
  Shape shape(tensor.shape().begin(), tensor.shape().end());
  const int64_t outer = numElements(llvm::ArrayRef<int64_t>(shape).take_front(axis));
  const size_t rowBytes = static_cast<size_t>(numElements(
                              llvm::ArrayRef<int64_t>(shape).drop_front(axis + 1))) *
                          dtypeSize(tensor.dtype());
  const int64_t whole = shape[axis];
  shape[axis] = count;
  Tensor result(tensor.dtype(), shape);
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(result.rawData() + static_cast<size_t>(o * count) * rowBytes,
                tensor.rawData() + static_cast<size_t>(o * whole + begin) * rowBytes,
                static_cast<size_t>(count) * rowBytes);
  return result;
}

// The slice of a constant for channels [begin, begin + count) along its own axis `axis`
// (nullopt: it holds the same values for every channel): a new constant with its share of the
// values and of per-channel parameters, or the constant itself.
Value *sliceConstant(Graph &graph, Value *constant, std::optional<int64_t> axis, int64_t begin,
                     int64_t count, const std::string &suffix) {
  if (!axis || constant->constant->dim(static_cast<size_t>(*axis)) == 1) return constant;
  Value *sliced = graph.createConstant(
      graph.uniqueName(constant->name + suffix),
      sliceTensor(*constant->constant, static_cast<size_t>(*axis), begin, count));
  if (constant->quant) {
    QuantParams quant = *constant->quant;
    if (quant.scales.size() > 1) {
      auto share = [&](const auto &values) { // a new vector: assign() may not read itself
        return std::decay_t<decltype(values)>(values.begin() + begin,
                                              values.begin() + begin + count);
      };
      quant.scales = share(quant.scales);
      if (quant.zeroPoints.size() > 1) quant.zeroPoints = share(quant.zeroPoints);
    }
    sliced->quant = std::move(quant);
  }
  return sliced;
}

// The axis of a constant operand that broadcasts against a tensor of rank `rank` and so meets
// that tensor's `axis` (nullopt when the constant has fewer dimensions).
std::optional<int64_t> alignedAxis(const Value &constant, size_t rank, int64_t axis) {
  const int64_t own = axis - static_cast<int64_t>(rank - constant.shape->size());
  return own < 0 ? std::nullopt : std::optional<int64_t>(own);
}

// Whether a constant of this shape broadcasts against `output` without growing it and, along
// `axis`, holds one value or one per channel.
bool broadcastsPerChannel(const Value &constant, llvm::ArrayRef<int64_t> output) {
  if (!constant.shape || constant.shape->size() > output.size()) return false;
  const size_t offset = output.size() - constant.shape->size();
  for (size_t d = 0; d < constant.shape->size(); ++d) {
    const int64_t dim = (*constant.shape)[d];
    if (dim != 1 && dim != output[offset + d]) return false;
  }
  return true;
}

// Whether every per-channel parameter list of `value` runs along `axis` (or there is one).
bool perChannelAlong(const Value &value, int64_t axis) {
  return !value.quant || value.quant->scales.size() <= 1 || value.quant->axis == axis;
}

// Whether `node` is a depthwise convolution of a [N, C, ...] input: one group per channel and
// one output channel per group.
bool isDepthwise(const Node &node) {
  const Value *input = node.input(0), *weights = node.input(1);
  if (!input || !input->shape || input->shape->size() < 3 || !weights || !weights->isConstant())
    return false;
  const int64_t channels = (*input->shape)[1];
  return intAttribute(node, "group", 1) == channels && weights->constant->dim(0) == channels &&
         perChannelAlong(*weights, 0) &&
         (!node.input(2) || node.input(2)->isConstant());
}

// The pads of a Pad node (input from opset 11, attribute before), when constant.
std::optional<std::vector<int64_t>> padsOf(const Node &pad) {
  if (pad.opset < 11) return pad.attributes.getInts("pads");
  const Value *pads = pad.input(1);
  if (!pads || !pads->isConstant()) return std::nullopt;
  if (pad.input(3)) return std::nullopt; // explicit axes: not worth the bookkeeping
  return pads->constant->toInt64Vector();
}

// Whether `follower` computes each channel along `axis` of its input `value` from that channel
// alone, so that one copy per slice computes exactly what it computes on the whole.
bool isChannelLocal(const Node &follower, const Value &value, int64_t axis) {
  if (!follower.domain.empty() || !follower.op || follower.outputs.size() != 1 ||
      !follower.outputs[0] || !follower.outputs[0]->shape || !value.shape)
    return false;
  if (llvm::count(follower.inputs, &value) != 1) return false;
  for (const Value *input : follower.inputs)
    if (input && input != &value && !input->isConstant()) return false;
  const llvm::ArrayRef<int64_t> shape = *value.shape;
  if (llvm::is_contained(kElementwiseFollowers, follower.opType))
    return *follower.outputs[0]->shape == *value.shape && // no operand broadcasts the value up
           llvm::all_of(follower.inputs, [&](const Value *input) {
             if (!input || input == &value) return true;
             if (!broadcastsPerChannel(*input, shape)) return false;
             const std::optional<int64_t> own = alignedAxis(*input, shape.size(), axis);
             return !own || perChannelAlong(*input, *own);
           });
  if (!llvm::is_contained(kSpatialFollowers, follower.opType) || axis != 1 || shape.size() < 3 ||
      follower.input(0) != &value)
    return false;
  if (follower.opType == "Conv") return isDepthwise(follower);
  if (follower.opType == "Pad") {
    const auto pads = padsOf(follower);
    const size_t rank = shape.size();
    return pads && pads->size() == 2 * rank && (*pads)[0] == 0 && (*pads)[1] == 0 &&
           (*pads)[rank] == 0 && (*pads)[rank + 1] == 0;
  }
  return true; // pools
}

int64_t bytesOf(const Value &value) { return numElements(*value.shape) * dtypeSize(value.dtype); }

// The only reader of `value` when it has exactly one and is no graph output.
Node *soleReader(const Graph &graph, const Value &value) {
  if (graph.isGraphOutput(&value)) return nullptr;
  const auto users = graph.users(&value);
  return users.size() == 1 ? users[0] : nullptr;
}

// Whether sinking `follower` into the slices keeps what the Concat gathers from growing: its
// output is no larger than its input, or (a Pad) the reader after it sinks as well.
bool worthSinking(const Graph &graph, const Node &follower, const Value &value, int64_t axis) {
  if (!isChannelLocal(follower, value, axis)) return false;
  const Value &output = *follower.outputs[0];
  if (bytesOf(output) <= bytesOf(value)) return true;
  const Node *next = soleReader(graph, output);
  return next && worthSinking(graph, *next, output, axis);
}

Node *insertConcat(Graph &graph, const Node &position, const std::string &name,
                   llvm::ArrayRef<Value *> parts, Value *output, int64_t axis, int opset) {
  auto concat = std::make_unique<Node>();
  concat->name = name;
  concat->opType = "Concat";
  concat->opset = opset;
  concat->inputs.assign(parts.begin(), parts.end());
  concat->outputs = {output};
  concat->attributes.set("axis", axis);
  concat->op = findOp("", "Concat");
  return graph.insertNodeBefore(&position, std::move(concat));
}

// A copy of `original` before it, reading `inputs` and writing a new value of slice `index`'s
// share of `original`'s output (shape inferred, the output's int8 parameters).
Node *insertSliceOf(Graph &graph, const Node &original, llvm::ArrayRef<Value *> inputs,
                    size_t index, AttributeMap attributes) {
  const Value &whole = *original.outputs[0];
  const std::string suffix = fmt::format("/slice{}", index);
  auto node = std::make_unique<Node>();
  node->name = original.name + suffix;
  node->opType = original.opType;
  node->domain = original.domain;
  node->opset = original.opset;
  node->op = original.op;
  node->inputs.assign(inputs.begin(), inputs.end());
  node->attributes = std::move(attributes);
  Value *part = graph.createValue(graph.uniqueName(whole.name + suffix), whole.dtype);
  node->outputs = {part};
  Node *inserted = graph.insertNodeBefore(&original, std::move(node));
  inferNodeShapes(*inserted);
  part->quant = whole.quant;
  return inserted;
}

} // namespace

std::optional<int64_t> sliceableChannelAxis(const Node &layer) {
  if (!layer.domain.empty() || layer.outputs.size() != 1 || !layer.outputs[0] ||
      !layer.outputs[0]->shape)
    return std::nullopt;
  const Value *data = layer.input(0), *weights = layer.input(1);
  if (!data || !data->shape || !weights || !weights->isConstant()) return std::nullopt;
  const size_t outputRank = layer.outputs[0]->shape->size();
  std::optional<int64_t> axis;
  if (layer.opType == "Conv" && intAttribute(layer, "group", 1) == 1 && outputRank >= 3)
    axis = 1;
  else if (layer.opType == "Gemm" && intAttribute(layer, "transA", 0) == 0 &&
           weights->constant->rank() == 2)
    axis = 1;
  else if (layer.opType == "MatMul" && weights->constant->rank() == 2 && outputRank >= 2)
    axis = static_cast<int64_t>(outputRank) - 1;
  if (!axis) return std::nullopt;
  const int64_t channels = (*layer.outputs[0]->shape)[static_cast<size_t>(*axis)];
  if (channels < 2 || !perChannelAlong(*weights, weightChannelAxis(layer))) return std::nullopt;
  if (const Value *bias = layer.input(2)) {
    // One value, or one per channel along its last axis ([N] or [1, N]; a Gemm's [M, N] bias is
    // per row and column).
    if (!bias->isConstant() || bias->constant->rank() < 1) return std::nullopt;
    const int64_t values = bias->constant->numElements();
    const int64_t last = bias->constant->dim(bias->constant->rank() - 1);
    if (values != 1 && (values != channels || last != channels)) return std::nullopt;
  }
  return axis;
}

std::vector<int64_t> sliceChannelCounts(int64_t channels, int64_t k) {
  std::vector<int64_t> counts;
  for (int64_t i = 0; i < k; ++i) counts.push_back(channels / k + (i < channels % k ? 1 : 0));
  return counts;
}

SlicedLayer sliceByOutputChannels(Graph &graph, Node &layer, int64_t k) {
  const std::optional<int64_t> axis = sliceableChannelAxis(layer);
  if (!axis) fail("internal error: {} cannot be sliced by output channels", layer.describe());
  Value *output = layer.outputs[0];
  const int64_t channels = (*output->shape)[static_cast<size_t>(*axis)];
  if (k < 2 || k > channels)
    fail("internal error: {} has {} output channels, not enough for {} slices", layer.describe(),
         channels, k);
  SlicedLayer sliced;
  sliced.layer = layer.name;
  sliced.axis = *axis;
  Value *weights = layer.inputs[1];
  int64_t begin = 0;
  llvm::SmallVector<Value *, 8> parts;
  for (int64_t count : sliceChannelCounts(channels, k)) {
    const size_t i = sliced.slices.size();
    const std::string suffix = fmt::format("/slice{}", i);
    llvm::SmallVector<Value *, 3> inputs(layer.inputs.begin(), layer.inputs.end());
    inputs[1] = sliceConstant(graph, weights, weightChannelAxis(layer), begin, count, suffix);
    if (Value *bias = layer.input(2))
      inputs[2] = sliceConstant(graph, bias, static_cast<int64_t>(bias->constant->rank()) - 1,
                                begin, count, suffix);
    Node *slice = insertSliceOf(graph, layer, inputs, i, layer.attributes);
    sliced.slices.push_back(slice);
    sliced.tails.push_back(slice);
    sliced.first.push_back(begin);
    sliced.count.push_back(count);
    parts.push_back(slice->outputs[0]);
    begin += count;
  }
  sliced.concat = insertConcat(graph, layer, layer.name + "/concat", parts, output, *axis,
                               layer.opset);
  graph.eraseNode(&layer);
  graph.removeUnusedValues();
  verifyGraph(graph, {}, "channel-slicing");
  return sliced;
}

bool sinkChannelFollower(Graph &graph, SlicedLayer &sliced) {
  Value *gathered = sliced.concat->outputs[0];
  Node *follower = soleReader(graph, *gathered);
  if (!follower || !worthSinking(graph, *follower, *gathered, sliced.axis)) return false;
  const size_t rank = gathered->shape->size();
  llvm::SmallVector<Value *, 8> parts;
  for (size_t i = 0; i < sliced.tails.size(); ++i) {
    const std::string suffix = fmt::format("/slice{}", i);
    llvm::SmallVector<Value *, 4> inputs;
    for (Value *input : follower->inputs) {
      if (input == gathered) inputs.push_back(sliced.tails[i]->outputs[0]);
      else if (!input || !input->isConstant() || follower->opType == "Pad")
        inputs.push_back(input); // Pad's pads and value: the same for every channel
      else
        inputs.push_back(sliceConstant(graph, input,
                                       follower->opType == "Conv"
                                           ? std::optional<int64_t>(0) // depthwise [C, 1, k...]
                                           : alignedAxis(*input, rank, sliced.axis),
                                       sliced.first[i], sliced.count[i], suffix));
    }
    AttributeMap attributes = follower->attributes;
    if (follower->opType == "Conv") attributes.set("group", sliced.count[i]); // depthwise
    Node *copy = insertSliceOf(graph, *follower, inputs, i, std::move(attributes));
    sliced.tails[i] = copy;
    parts.push_back(copy->outputs[0]);
  }
  Node *concat = insertConcat(graph, *follower, sliced.layer + "/concat", parts,
                              follower->outputs[0], sliced.axis, sliced.concat->opset);
  graph.eraseNode(follower);
  graph.eraseNode(sliced.concat);
  sliced.concat = concat;
  graph.removeUnusedValues();
  verifyGraph(graph, {}, "channel-slicing");
  return true;
}

SliceNeed sliceNeed(const Graph &graph, const Node &layer, int64_t channels,
                    Precision precision) {
  const int64_t axis = *sliceableChannelAxis(layer);
  const int64_t element = elementBytes(precision);
  const int64_t whole = (*layer.outputs[0]->shape)[static_cast<size_t>(axis)];
  auto share = [&](const Value &value) {
    return numElements(*value.shape) / whole * channels * element;
  };
  SliceNeed need;
  std::vector<size_t> reads;
  for (const Value *input : layer.inputs)
    if (input && !input->isConstant()) {
      reads.push_back(need.stage.inputBytes.size());
      need.stage.inputBytes.push_back(numElements(*input->shape) * element);
    }
  // The chain the slice would run: the layer, then each follower that would sink, each reading
  // the step before. An activation that fuses into the node before it writes that node's buffer
  // and adds no step.
  const Node *producer = &layer;
  const Value *value = layer.outputs[0];
  need.stage.steps.push_back({share(*value), reads});
  while (const Node *next = soleReader(graph, *value)) {
    if (!worthSinking(graph, *next, *value, axis)) break;
    if (fusableActivation(graph, *producer) == next)
      need.stage.steps.back().outputBytes = share(*next->outputs[0]);
    else
      need.stage.steps.push_back(
          {share(*next->outputs[0]),
           {need.stage.inputBytes.size() + need.stage.steps.size() - 1}});
    producer = next;
    value = next->outputs[0];
  }
  // As the kernels store them: int8 weights and int32 bias, or float32 for both.
  const bool int8 = precision == Precision::Int8;
  need.flashBytes += layer.inputs[1]->constant->numElements() / whole * channels * (int8 ? 1 : 4);
  if (const Value *bias = layer.input(2)) {
    const int64_t values = bias->constant->numElements();
    need.flashBytes += (values == 1 ? 1 : values / whole * channels) * 4;
  }
  return need;
}

StageInputs pieceInputs(const TopologyDevice &device) {
  return device.worker ? StageInputs::Received : StageInputs::OwnSentOn;
}

std::vector<DeviceBudget> deviceBudgets(const Topology &topology) {
  std::vector<DeviceBudget> budgets;
  for (const TopologyDevice &device : topology.devices) {
    int64_t frame = 0; // the buffer a device cuts its frames in: its largest outgoing MTU
    for (const TopologyLink &link : topology.links)
      if (link.from == device.name) frame = std::max(frame, link.mtu);
    budgets.push_back({device.target.ramKib * 1024 - device.target.stackBytes - frame,
                       flashForWeights(device)});
  }
  return budgets;
}

ChannelSlicePlan sliceOversizedLayers(Graph &graph, const Topology &topology,
                                      Precision precision) {
  const size_t aggregator = topology.aggregatorIndex();
  // Whether `device` holds the stage with its inputs where `inputs` says, by the placement's
  // estimate, and its weights beside the code allowance.
  auto holds = [&](const SliceNeed &need, size_t device, StageInputs inputs) {
    const TopologyDevice &board = topology.devices[device];
    return sketchedStageLoad(topology, need.stage, device, inputs).ramBytes <=
               board.target.ramKib * 1024 &&
           need.flashBytes <= flashForWeights(board);
  };

  std::vector<Node *> oversized;
  for (const auto &node : graph.nodes()) {
    const std::optional<int64_t> axis = sliceableChannelAxis(*node);
    // A layer the topology pins to a device stays whole there (its fit is checked as placed).
    if (!axis || topology.pins.count(node->name)) continue;
    const int64_t channels = (*node->outputs[0]->shape)[static_cast<size_t>(*axis)];
    // Whole, a layer may run where its input is made.
    const SliceNeed whole = sliceNeed(graph, *node, channels, precision);
    bool fits = false;
    for (size_t d = 0; d < topology.devices.size() && !fits; ++d)
      fits = holds(whole, d, StageInputs::Own);
    if (!fits) oversized.push_back(node.get());
  }

  ChannelSlicePlan plan;
  for (Node *layer : oversized) {
    const int64_t axis = *sliceableChannelAxis(*layer);
    const int64_t channels = (*layer->outputs[0]->shape)[static_cast<size_t>(axis)];
    std::optional<int64_t> chosen;
    for (int64_t k = 2; k <= channels && !chosen; ++k) {
      const SliceNeed need = sliceNeed(graph, *layer, (channels + k - 1) / k, precision);
      int64_t takers = 0;
      for (size_t d = 0; d < topology.devices.size(); ++d)
        if (d != aggregator && holds(need, d, pieceInputs(topology.devices[d]))) ++takers;
      if (takers >= k) chosen = k;
    }
    if (!chosen) {
      // The device with the most RAM for it, the aggregator only when it is the only device.
      size_t largest = aggregator;
      for (size_t d = 0; d < topology.devices.size(); ++d)
        if (d != aggregator &&
            (largest == aggregator ||
             topology.devices[d].target.ramKib > topology.devices[largest].target.ramKib))
          largest = d;
      const TopologyDevice &device = topology.devices[largest];
      const SliceNeed whole = sliceNeed(graph, *layer, channels, precision);
      const SliceNeed one = sliceNeed(graph, *layer, 1, precision);
      fail("{}: layer '{}' ({}) fits no device: it needs {} bytes of weights and {} bytes of "
           "activations; the largest device of {} besides the aggregator, '{}', has {} bytes of "
           "flash and {} bytes of RAM for it; k slices of its {} output channels need k such "
           "devices that each hold one (a one-channel slice needs {} bytes of RAM and {} of "
           "flash), and no k works; add workers or give devices "
           "more RAM and flash",
           graph.sourcePath, layer->name, layer->opType, whole.flashBytes,
           sketchedStageLoad(topology, whole.stage, largest, StageInputs::Own).activationBytes,
           topology.source, device.name, flashForWeights(device), device.target.ramKib * 1024,
           channels,
           sketchedStageLoad(topology, one.stage, largest, pieceInputs(device)).ramBytes,
           one.flashBytes);
    }
    SlicedLayer sliced = sliceByOutputChannels(graph, *layer, *chosen);
    while (sinkChannelFollower(graph, sliced)) {
    }
    plan.separate.emplace_back(sliced.slices.begin(), sliced.slices.end());
    plan.layers.push_back(std::move(sliced));
  }
  return plan;
}

} // namespace edgesplit
