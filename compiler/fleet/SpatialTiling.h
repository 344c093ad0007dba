// Spatial tiles (docs/partition.md "Spatial tiles"): DeepThings' fused tile partition. A chain of
// convolution-like layers whose activations fit no device is split into k bands of its output
// rows; band i computes the whole chain for its rows only, from its input rows plus the halo the
// chain's receptive field needs, and a Concat on the row axis joins the bands' outputs. Each band
// node is a copy of the chain's node with the pads that band needs (the original top pad on the
// first band, the bottom one on the last, the rows that lie outside the tensor in general), so
// every output element is computed with exactly the arithmetic of the whole layer: float32 is
// exact, int8 bit-exact (the Slices and the Concat keep their input's parameters: pure copies).
//
// Chains: Conv (any group, pads, strides, dilations; auto_pad NOTSET), MaxPool/AveragePool
// (ceil_mode 0), Pad (constant mode, opset 11+ or the attribute), activations and element-wise
// operations with constants that do not vary along the rows, and element-wise operations of two
// tensors of the chain (a residual Add). Tensors are [N, C, H, W]; rows are axis 2.
#pragma once

#include "codegen/Program.h"
#include "ir/Graph.h"
#include "partition/PlacementCost.h"
#include "partition/Topology.h"

#include <llvm/ADT/DenseMap.h>

#include <optional>
#include <string>
#include <vector>

namespace edgesplit {

// Rows [begin, end) of a tensor's axis 2.
struct RowRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
  bool operator==(const RowRange &) const = default;
};

// A chain: `first` and the nodes after it in graph order, up to `last`, that read a value a chain
// node writes. Empty, with `whyNot` the reason (one line naming the node), when it cannot be
// tiled.
struct TileChain {
  std::vector<Node *> nodes;
  Value *input = nullptr;  // first's data input: the one tensor the chain reads from outside
  Value *output = nullptr; // last's output: the only chain value read outside it
};
TileChain findTileChain(const Graph &graph, Node &first, Node &last, std::string &whyNot);

// The output rows of each of k bands of `rows`: contiguous, as equal as possible, the first
// `rows % k` bands one row more.
std::vector<RowRange> bandRows(int64_t rows, int64_t k);

// The rows of each value of the chain that one band computes for `outputRows` of the chain's
// output (the input's: the rows it reads, its halo included, clipped to the tensor), by value.
llvm::DenseMap<const Value *, RowRange> bandGeometry(const TileChain &chain, RowRange outputRows);

// Replaces the chain by k bands and a Concat on axis 2 that writes the chain's output value, so
// every reader stays as it was. Returns, per band, its nodes (its Slices included). Verifies the
// graph. 2 <= k <= the output's rows.
struct TiledChain {
  std::string first, last; // the original nodes' names
  std::vector<std::vector<Node *>> bands;
  Node *concat = nullptr;
};
TiledChain tileChain(Graph &graph, const TileChain &chain, int64_t k);

// What one band of `outputRows` of the chain runs, sketched before placement as tileChain would
// make it (its Slices of the input and of band values, and its copies of the chain's nodes; an
// activation fusing into the node before it adds no step), with the chain's input whole as the
// stage's input, which the placement's estimate (sketchedStageLoad) sizes on a device. The
// weights are the chain's.
struct BandNeed {
  StageSketch stage;
};
BandNeed bandNeed(const Graph &graph, const TileChain &chain, RowRange outputRows,
                  Precision precision);

// The inverted-residual chains of `graph`: from a Conv with group 1 that widens its input
// (expands), over the tileable nodes each the only reader of the one before (activations, Pad,
// depthwise Conv, pools), to the next Conv with group 1 (projects), and the Add after it when it
// adds the chain's input (the residual).
std::vector<TileChain> invertedResidualChains(const Graph &graph);

// Fleets, before channel slicing: every inverted-residual chain that no device holds whole (by
// the placement's estimate, sketchedStageLoad, of all its rows where its input is made), and
// which channel slicing cannot help because the tensor its Concat would gather (the projecting
// Conv's input) twice over fits no device's budget (deviceBudgets) either, is cut into the
// smallest k (2 <= k <= its output rows) such that at least k devices other than the aggregator
// each hold the largest band by that estimate (with its input where pieceInputs says). A chain
// with a node the topology's "placement" pins, or for which no k works, is left whole (to
// channel slicing). `separate` lists, per tiled chain, each band's copy of its first node: they
// must run on pairwise different devices.
struct TilePlan {
  std::vector<TiledChain> chains;
  std::vector<std::vector<const Node *>> separate;
  std::vector<int64_t> bandRamBytes; // per tiled chain, the largest band's RAM on a taker
};
TilePlan tileOversizedChains(Graph &graph, const Topology &topology, Precision precision);

} // namespace edgesplit
