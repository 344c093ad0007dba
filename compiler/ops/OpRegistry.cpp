// The one table of operators. Add an op: write compiler/ops/<Op>.cpp defining `const OpDef k<Op>`
// and add its line to OpTable.def.
#include "ops/OpDef.h"

namespace edgesplit {
namespace ops {
#define EDGESPLIT_OP(NAME) extern const OpDef k##NAME;
#include "ops/OpTable.def"
#undef EDGESPLIT_OP
} // namespace ops

namespace {
const OpDef *const kAllOps[] = {
#define EDGESPLIT_OP(NAME) &ops::k##NAME,
#include "ops/OpTable.def"
#undef EDGESPLIT_OP
};
} // namespace

const OpDef *findOp(std::string_view domain, std::string_view opType) {
  if (!domain.empty() && domain != "ai.onnx") return nullptr;
  for (const OpDef *op : kAllOps)
    if (op->name == opType) return op;
  return nullptr;
}

llvm::ArrayRef<const OpDef *> allOps() { return kAllOps; }

} // namespace edgesplit
