// <device>/memory.svg: a device's static arena over its execution order. Each tensor is a
// rectangle spanning the steps it is alive (x) and the bytes it occupies (y: offset to offset +
// bytes), with its name where it fits and always in a tooltip; lines mark the arena size and its
// lower bound. Written directly (no Graphviz), deterministic.
#pragma once

#include "codegen/Program.h"
#include "ir/Graph.h"
#include "memory/MemoryPlan.h"

#include <string>

namespace edgesplit {

// `plan` must be the plan of `graph` at `precision` (compileDevice / compileFusedDevice).
std::string memorySvg(const Graph &graph, const MemoryPlan &plan, Precision precision,
                      const std::string &device);

} // namespace edgesplit
