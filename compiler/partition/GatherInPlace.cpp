#include "partition/GatherInPlace.h"

#include <algorithm>

namespace edgesplit {

std::optional<std::vector<int64_t>> concatPartOffsets(const Node &node, int64_t elementBytes) {
  if ((!node.domain.empty() && node.domain != "ai.onnx") || node.opType != "Concat" ||
      node.outputs.size() != 1 || !node.outputs[0] || !node.outputs[0]->shape)
    return std::nullopt;
  const Shape &output = *node.outputs[0]->shape;
  const int64_t rank = static_cast<int64_t>(output.size());
  int64_t axis = node.attributes.getInt("axis").value_or(0);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return std::nullopt;
  // Part i is one range of the output only when nothing outside it precedes the axis.
  for (int64_t d = 0; d < axis; ++d)
    if (output[d] != 1) return std::nullopt;
  std::vector<int64_t> offsets;
  int64_t offset = 0;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const Value *part = node.inputs[i];
    if (!part || part->isConstant() || !part->shape) return std::nullopt;
    if (std::find(node.inputs.begin(), node.inputs.begin() + i, part) != node.inputs.begin() + i)
      return std::nullopt;
    offsets.push_back(offset);
    offset += numElements(*part->shape) * elementBytes;
  }
  if (offsets.empty() || offset != numElements(output) * elementBytes) return std::nullopt;
  return offsets;
}

} // namespace edgesplit
