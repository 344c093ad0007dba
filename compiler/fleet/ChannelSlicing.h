// Channel slices (docs/partition.md "Channel slices"): a Conv, Gemm or MatMul too large for every
// device of a fleet is split by output channels into k slices — kernel-wise for convolutions,
// neuron-wise for fully connected layers — each a node of its own with its share of the weights,
// the bias and their per-channel int8 parameters, all reading the same input, and a Concat on the
// channel axis joining them. int8 parameters are per output channel and every slice's output
// keeps the layer's own parameters, so each slice computes exactly the channels the whole layer
// computes and the Concat is a pure copy: the sliced graph is bit-exact with the whole one.
//
// Two small rewrites (each verified) and the rule that applies them to a fleet:
//   sliceByOutputChannels   the layer becomes k slices and a Concat;
//   sinkChannelFollower     a channel-local reader of that Concat (activation, per-channel affine,
//                           pool, depthwise convolution, spatial Pad) becomes one per slice and
//                           the Concat moves after them;
//   sliceOversizedLayers    which layers a topology needs sliced, and into how many slices.
#pragma once

#include "codegen/Program.h"
#include "ir/Graph.h"
#include "partition/PlacementCost.h"
#include "partition/Topology.h"

#include <optional>
#include <string>
#include <vector>

namespace edgesplit {

// One layer split by output channels. Slice i computes the channels
// [first[i], first[i] + count[i]) of the layer; tails[i] is the last node of slice i's chain
// (the slice itself, or the last follower sunk into it), whose output the Concat reads. The
// pointers are those of the rewrite: activation fusion, which runs later, erases fused tails.
struct SlicedLayer {
  std::string layer; // the original layer's name (its node is gone)
  std::vector<Node *> slices;
  std::vector<Node *> tails;
  std::vector<int64_t> first, count;
  Node *concat = nullptr;
  int64_t axis = 1; // the channel axis of the layer's output
};

// The output axis holding `layer`'s output channels when it can be sliced: a Conv with group 1,
// a Gemm (transA = 0) or a MatMul with constant two-dimensional weights, with static shapes, at
// least two output channels and a bias (if any) that holds one value or one per output channel.
std::optional<int64_t> sliceableChannelAxis(const Node &layer);

// The channel count of each of k slices of `channels`: as equal as possible, the first
// `channels % k` slices one channel more.
std::vector<int64_t> sliceChannelCounts(int64_t channels, int64_t k);

// Replaces `layer` (sliceableChannelAxis, 2 <= k <= its channel count) by k slices of
// consecutive output channels and a Concat that writes the layer's output value, so every reader
// and graph output stays as it was. Verifies the graph.
SlicedLayer sliceByOutputChannels(Graph &graph, Node &layer, int64_t k);

// When the only reader of `sliced`'s Concat is channel-local along its axis and sinking it does
// not make the gathered tensor larger (a spatial Pad sinks only ahead of another follower that
// sinks), replaces it by one node per slice, each with its share of the reader's per-channel
// constants and the reader's output parameters, and moves the Concat after them. Returns whether
// it did; verifies the graph.
bool sinkChannelFollower(Graph &graph, SlicedLayer &sliced);

// What a slice of `channels` of `layer`'s output channels needs, sketched before placement.
// RAM: the stage it would run (the layer reading its inputs, then each follower that would
// sink into it, each reading the step before; a fused activation adds no step), which the
// placement's estimate (sketchedStageLoad) sizes on a device. Flash: its share of the weights and
// bias as the kernels store them.
struct SliceNeed {
  StageSketch stage;
  int64_t flashBytes = 0;
};
SliceNeed sliceNeed(const Graph &graph, const Node &layer, int64_t channels, Precision precision);

// Where a piece of a split layer or chain (one of several on pairwise different devices, all
// reading one input) has its inputs on `device`: a worker receives them into its arena, a sensor
// device makes them and sends them on to the other pieces.
StageInputs pieceInputs(const TopologyDevice &device);

// What each device of `topology` (in its order) has for a split layer's buffers and weights:
// ram_kib less stack_bytes and a frame buffer of its largest outgoing MTU, flash_kib less the
// partitioner's 8 KiB code allowance.
struct DeviceBudget {
  int64_t ram = 0, flash = 0;
};
std::vector<DeviceBudget> deviceBudgets(const Topology &topology);

// Every sliceable layer that no device of `topology` holds whole (by the placement's estimate,
// sketchedStageLoad, with its input made there, and its weights beside the 8 KiB code
// allowance) is split into the smallest k (2 <= k <= its channels) such that at least k devices
// other than the aggregator each hold a slice of ceil(channels / k) channels by the same
// estimate (with its inputs where pieceInputs says), and its channel-local followers are sunk
// into the slices. A layer the topology's "placement" pins stays whole. Fails, naming the layer,
// its needs and the largest device, when no k fits. `separate` lists, per sliced layer, its
// slices: they must run on pairwise different devices.
struct ChannelSlicePlan {
  std::vector<SlicedLayer> layers;
  std::vector<std::vector<const Node *>> separate;
};
ChannelSlicePlan sliceOversizedLayers(Graph &graph, const Topology &topology, Precision precision);

} // namespace edgesplit
