#pragma once

#include "ir/Graph.h"

namespace edgesplit::ops {
// The tensor a Constant node stands for (value, value_float(s), value_int(s)); shared by the op
// and the constants-to-initializers pass.
Tensor constantNodeValue(const Node &node);
} // namespace edgesplit::ops
