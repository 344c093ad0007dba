#include "memory/BufferSharing.h"

namespace edgesplit {

const SharingRule *sharingRuleFor(const Node &node) {
  if (!node.domain.empty() && node.domain != "ai.onnx") return nullptr;
  for (const SharingRule &rule : kSharingRules)
    if (rule.opType == node.opType) return &rule;
  return nullptr;
}

} // namespace edgesplit
