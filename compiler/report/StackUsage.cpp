#include "report/StackUsage.h"

#include "support/Error.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <regex>

namespace edgesplit {
namespace {

// The value of `key: "..."` in one VCG line (gcc writes no escaped quotes in titles).
std::optional<std::string> quoted(const std::string &line, const std::string &key) {
  const size_t at = line.find(key + ": \"");
  if (at == std::string::npos) return std::nullopt;
  const size_t start = at + key.size() + 3;
  const size_t end = line.find('"', start);
  if (end == std::string::npos) return std::nullopt;
  return line.substr(start, end - start);
}

// A static function's title is "<path of its file>:<name>"; the file's name is enough and keeps
// the report free of the build folder.
std::string shownName(const std::string &title) {
  if (title.rfind("__indirect_call@", 0) == 0) return "(indirect call)";
  const size_t slash = title.rfind('/');
  return slash == std::string::npos ? title : title.substr(slash + 1);
}

} // namespace

void CallGraph::addTranslationUnit(std::string_view vcg) {
  // Node labels end in "<bytes> bytes (static|dynamic|dynamic,bounded)" for functions compiled
  // in this unit; functions only called from it have no size.
  static const std::regex frame(R"(\\n(\d+) bytes \((static|dynamic|dynamic,bounded)\)$)");
  const std::string indirect = "__indirect_call@" + std::to_string(units_++);
  std::vector<std::string> defined;
  size_t begin = 0;
  while (begin < vcg.size()) {
    size_t end = vcg.find('\n', begin);
    if (end == std::string_view::npos) end = vcg.size();
    const std::string line(vcg.substr(begin, end - begin));
    begin = end + 1;
    if (line.rfind("node:", 0) == 0) {
      const auto title = quoted(line, "title"), label = quoted(line, "label");
      if (!title || !label) fail("internal error: unreadable call graph node '{}'", line);
      if (*title == "__indirect_call") continue;
      Function &function = functions_[*title];
      std::smatch match;
      if (std::regex_search(*label, match, frame)) {
        // A static function of the same name in two units: the larger frame stands for both.
        function.frameBytes = std::max<int64_t>(function.frameBytes, std::stoll(match[1].str()));
        function.unbounded = function.unbounded || match[2].str() == "dynamic";
        function.defined = true;
        defined.push_back(*title);
      }
    } else if (line.rfind("edge:", 0) == 0) {
      const auto source = quoted(line, "sourcename"), target = quoted(line, "targetname");
      if (!source || !target) fail("internal error: unreadable call graph edge '{}'", line);
      const std::string callee = *target == "__indirect_call" ? indirect : *target;
      functions_[*source].callees.insert(callee);
      functions_[callee];
    }
  }
  if (auto node = functions_.find(indirect); node != functions_.end()) {
    node->second.defined = true;
    const std::set<std::string> unit(defined.begin(), defined.end());
    for (const std::string &name : defined) {
      const std::set<std::string> &callees = functions_[name].callees;
      if (std::none_of(callees.begin(), callees.end(), [&](const std::string &callee) {
            return unit.count(callee) || callee == indirect;
          }))
        node->second.callees.insert(name);
    }
  }
}

namespace {

// Registers in an Arm register list: "{r4, r5, lr}", "{d8-d15}".
int64_t listedRegisters(const std::string &list) {
  static const std::regex item(R"(([a-z]+)(\d+)?(?:-[a-z]+(\d+))?)");
  int64_t count = 0;
  for (auto it = std::sregex_iterator(list.begin(), list.end(), item); it != std::sregex_iterator();
       ++it)
    count += (*it)[3].matched ? std::stoll((*it)[3].str()) - std::stoll((*it)[2].str()) + 1 : 1;
  return count;
}

// Bytes one instruction moves the stack pointer down by, 0 for any other instruction.
int64_t stackAllocation(const std::string &line) {
  static const std::regex push(R"(\s(push|stmdb\s+sp!,)\s*\{([^}]*)\})");
  static const std::regex vpush(R"(\svpush\s*\{([sd])[^}]*\})");
  static const std::regex armSub(R"(\ssub(?:\.w|w)?\s+sp,\s*(?:sp,\s*)?#(\d+))");
  static const std::regex riscvAdd(R"(\s(?:c\.)?addi?(?:16sp)?\s+sp,\s*(?:sp,\s*)?-(\d+))");
  static const std::regex preIndexed(R"(\[sp, #-(\d+)\]!)"); // str.w lr, [sp, #-8]!
  std::smatch match;
  if (std::regex_search(line, match, push)) return 4 * listedRegisters(match[2].str());
  if (std::regex_search(line, match, vpush)) {
    const std::string list = line.substr(line.find('{'));
    return (match[1].str() == "d" ? 8 : 4) * listedRegisters(list);
  }
  if (std::regex_search(line, match, armSub) || std::regex_search(line, match, riscvAdd) ||
      std::regex_search(line, match, preIndexed))
    return std::stoll(match[1].str());
  return 0;
}

} // namespace

void CallGraph::addMachineCalls(std::string_view disassembly) {
  // "<address> <name>:" opens a function; "... <target>" ends a call or branch to another
  // function's entry (no "+offset": branches inside a function carry one). Functions gcc's call
  // graph does not know (the C library's, libgcc's) get the frame their instructions allocate;
  // gcc's own get it too where it is larger than the frame gcc reports: gcc leaves out the area
  // an Arm prologue subtracts before pushing the registers, where the function stores the part of
  // a by-value argument that arrived in registers next to the part its caller stacked ("pretend
  // arguments": s8_add.c's helpers take their operands' descriptions so).
  static const std::regex header(R"(^[0-9a-f]+ <([^>+]+)>:$)");
  static const std::regex call(R"(\s(bl|blx|b|b\.w|b\.n|jal|j|call|tail)\s.*<([^>+]+)>$)");
  std::map<std::string, std::string> byName; // linker name -> call graph title
  for (const auto &[title, function] : functions_)
    if (function.defined) byName[title.substr(title.rfind(':') + 1)] = title;
  std::set<std::string> library; // functions whose frames come from here
  std::vector<std::pair<std::string, std::string>> savers; // (caller, its __riscv_save_N)
  std::map<std::string, int64_t> allocated; // by each function's instructions (its largest copy)
  std::string current;
  int64_t allocatedHere = 0; // by the current function's instructions so far
  auto closeFunction = [&] {
    if (!current.empty()) allocated[current] = std::max(allocated[current], allocatedHere);
  };
  size_t begin = 0;
  while (begin < disassembly.size()) {
    size_t end = disassembly.find('\n', begin);
    if (end == std::string_view::npos) end = disassembly.size();
    const std::string line(disassembly.substr(begin, end - begin));
    begin = end + 1;
    std::smatch match;
    if (std::regex_search(line, match, header)) {
      closeFunction();
      allocatedHere = 0;
      auto title = byName.find(match[1].str());
      current = title == byName.end() ? match[1].str() : title->second;
      if (title == byName.end() && library.insert(current).second) {
        functions_[current].frameBytes = 0;
        functions_[current].defined = true;
      }
      continue;
    }
    if (current.empty()) continue;
    allocatedHere += stackAllocation(line);
    if (!std::regex_search(line, match, call)) continue;
    const std::string target = match[2].str();
    auto title = byName.find(target);
    const std::string callee = title == byName.end() ? target : title->second;
    if (callee == current) continue;
    // RISC-V's register-save millicode allocates its caller's frame: part of that frame, not a
    // call below it.
    if (callee.rfind("__riscv_save", 0) == 0) {
      if (library.count(current)) savers.emplace_back(current, callee);
      continue;
    }
    if (callee.rfind("__riscv_restore", 0) == 0) continue;
    functions_[current].callees.insert(callee);
    functions_[callee];
  }
  closeFunction();
  for (const auto &[name, bytes] : allocated) {
    Function &function = functions_[name];
    function.frameBytes = library.count(name) ? bytes : std::max(function.frameBytes, bytes);
  }
  for (const auto &[caller, save] : savers)
    if (auto found = functions_.find(save); found != functions_.end())
      functions_[caller].frameBytes += found->second.frameBytes;
}

StackEstimate CallGraph::worstCase(const std::vector<std::string> &roots,
                                   std::string &reason) const {
  std::map<std::string, StackEstimate> deepest; // memo: the deepest chain from each function
  std::set<std::string> onPath;
  std::function<std::optional<StackEstimate>(const std::string &)> walk =
      [&](const std::string &name) -> std::optional<StackEstimate> {
    if (auto known = deepest.find(name); known != deepest.end()) return known->second;
    if (!onPath.insert(name).second) {
      reason = "recursion through " + shownName(name);
      return std::nullopt;
    }
    const Function &function = functions_.at(name);
    if (function.unbounded) {
      reason = shownName(name) + " allocates a stack area of unbounded size";
      return std::nullopt;
    }
    StackEstimate best;
    for (const std::string &callee : function.callees) {
      // Neither compiled here nor linked: a builtin gcc expanded inline (memset, memcpy).
      if (!functions_.at(callee).defined) continue;
      const std::optional<StackEstimate> below = walk(callee);
      if (!below) return std::nullopt;
      if (below->callGraphBytes > best.callGraphBytes || best.deepestChain.empty()) best = *below;
    }
    best.callGraphBytes += function.frameBytes;
    // A static function's title is "<path of its file>:<name>"; the file's name is enough and
    // keeps the report free of the build folder.
    best.deepestChain.insert(best.deepestChain.begin(), shownName(name));
    onPath.erase(name);
    deepest[name] = best;
    return best;
  };
  StackEstimate result;
  for (const std::string &root : roots) {
    auto found = functions_.find(root);
    if (found == functions_.end() || !found->second.defined) continue;
    const std::optional<StackEstimate> chain = walk(root);
    if (!chain) return {};
    if (chain->callGraphBytes > result.callGraphBytes || result.deepestChain.empty())
      result = *chain;
  }
  return result;
}

} // namespace edgesplit
