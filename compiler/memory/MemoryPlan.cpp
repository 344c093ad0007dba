#include "memory/MemoryPlan.h"

#include "memory/OffsetPlanner.h"
#include "support/Error.h"

namespace edgesplit {

MemoryPlan planMemory(const Graph &graph, const MemoryPlanOptions &options) {
  if (!options.valueBytes) fail("internal error: planMemory: no valueBytes function given");
  ExecutionOrder order =
      chooseExecutionOrder(graph, options.valueBytes, options.scratchBytes, options.orderSearch);
  const Liveness liveness = computeLiveness(graph, order.nodes, options.valueBytes,
                                            options.scratchBytes, options.alignment);
  const OffsetPlan offsets = planOffsets(liveness.buffers);

  MemoryPlan plan;
  plan.order = std::move(order.nodes);
  plan.orderProvenMinimal = order.provenMinimal;
  plan.arenaBytes = offsets.arenaBytes;
  plan.lowerBoundBytes = lowerBoundBytes(liveness.buffers);
  auto slotOf = [&](size_t buffer) {
    return ArenaSlot{offsets.offsets[buffer], liveness.buffers[buffer].bytes};
  };
  for (const auto &[value, buffer] : liveness.bufferOfValue) plan.values[value] = slotOf(buffer);
  for (const auto &[node, buffer] : liveness.scratchOfNode) plan.scratch[node] = slotOf(buffer);
  return plan;
}

} // namespace edgesplit
