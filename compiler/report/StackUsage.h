// A device's worst-case stack from its generated code: gcc's per-function frame sizes
// (-fstack-usage) over the call graph gcc writes beside them (-fcallgraph-info=su, one VCG file
// per translation unit), walked from the device's entry points.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace edgesplit {

struct StackEstimate {
  int64_t callGraphBytes = 0; // the deepest chain of frames from any entry point
  std::vector<std::string> deepestChain; // its functions, entry point first
};

class CallGraph {
public:
  // One -fcallgraph-info=su file's text. Fails (internal) on a malformed file.
  // An indirect call is taken to reach any function of its own unit that makes no indirect call
  // itself (the runtime's function pointers select among its own file's static helpers).
  void addTranslationUnit(std::string_view vcg);
  // The calls and tail branches `<prefix>objdump -d` shows in the linked program, which include
  // the library helpers gcc calls without listing them in its call graph. Functions are matched
  // by name (a static one by the name after its file). Functions gcc did not compile here (the
  // C library's, libgcc's) get the frame their instructions allocate (push, vpush, stmdb, sub
  // sp / addi sp; RISC-V's __riscv_save_N counted in its caller's frame); their indirect calls
  // are not followed. A function gcc compiled gets that too where it exceeds gcc's figure (an Arm
  // prologue's area for a by-value argument's register part, which -fstack-usage leaves out).
  void addMachineCalls(std::string_view disassembly);
  // The deepest chain from `roots` (functions absent from the graph are skipped). Returns an
  // empty `reason`-free result, or fills `reason` with why no bound exists: recursion, a frame
  // of unbounded dynamic size, or an indirect call.
  StackEstimate worstCase(const std::vector<std::string> &roots, std::string &reason) const;

private:
  struct Function {
    int64_t frameBytes = 0;
    bool defined = false;   // compiled here: its frame is known
    bool unbounded = false; // alloca/VLA of unknown size
    std::set<std::string> callees;
  };
  std::map<std::string, Function> functions_;
  int units_ = 0;
};

} // namespace edgesplit
