// partition.svg: the model graph as compiled, each node in the colour of the device that runs it,
// the edges crossing a link labelled with the bytes they send per inference (a relayed tensor
// drawn hop by hop through a node in each relay's box), the heads with the sensor groups they
// need, and a legend. Drawn by Graphviz `dot` from the text partitionDot
// builds.
#pragma once

#include "codegen/LowerContext.h"
#include "ir/Graph.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/StringMap.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace edgesplit {

struct PictureDevice {
  std::string name;
  std::string target;
  std::string role;                // "sensor", "aggregator", or empty for a single device
  std::vector<std::string> groups; // the sensor groups it owns
};

struct PictureHead {
  std::string output; // model output name
  const Value *value = nullptr;
  std::vector<std::string> groups; // the sensor groups it needs; empty for a single device
};

// What a device sends of one tensor per inference.
struct PictureSentTensor {
  int64_t payloadBytes = 0;
  int64_t airBytes = 0;  // on each hop
  std::string relays;    // the devices relaying it ("relay, w2"), empty when none does
};

struct PartitionPictureInput {
  std::string title; // e.g. "model.onnx, int8"
  const Graph *graph = nullptr;
  std::vector<const Node *> nodes; // the nodes that run, in execution order
  llvm::DenseMap<const Node *, size_t> deviceOf; // index into `devices`
  llvm::DenseMap<const Value *, size_t> inputDevice; // model inputs: the device reading them
  std::vector<PictureDevice> devices;
  std::vector<PictureHead> heads;
  llvm::StringMap<PictureSentTensor> sent; // by tensor name
  // Tensors relayed on their way (routes of more than one hop), by tensor name and reading
  // device: the devices along the route, producer first, reader last (indices into `devices`).
  std::map<std::pair<std::string, size_t>, std::vector<size_t>> routes;
  const llvm::DenseMap<const Node *, ActivationClamp> *fused = nullptr;
};

// Graphviz source of the picture. Deterministic.
std::string partitionDot(const PartitionPictureInput &input);

// What writePartitionPicture wrote.
enum class PictureFile { Svg, DotOnly };

// Runs `dot -Tsvg` on the source into `dir`/partition.svg; when dot is not installed (or fails),
// writes the source as `dir`/partition.dot instead.
PictureFile writePartitionPicture(const std::filesystem::path &dir, const std::string &dot);

// The one line compile prints on stderr after writing partition.dot into `outputDir`.
std::string missingDotNote(const std::filesystem::path &outputDir);

} // namespace edgesplit
