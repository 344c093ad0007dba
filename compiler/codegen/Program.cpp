#include "codegen/Program.h"

#include <algorithm>
#include <cctype>

namespace edgesplit {

std::string_view precisionName(Precision precision) {
  return precision == Precision::Int8 ? "int8" : "float32";
}

int64_t elementBytes(Precision precision) { return precision == Precision::Int8 ? 1 : 4; }

KernelIsa kernelIsaOf(llvm::ArrayRef<std::string> targetFeatures) {
  auto has = [&](std::string_view feature) {
    return std::find(targetFeatures.begin(), targetFeatures.end(), feature) != targetFeatures.end();
  };
  if (has("mve-int")) return KernelIsa::Mve;
  if (has("dsp")) return KernelIsa::Dsp;
  return KernelIsa::Plain;
}

llvm::DenseMap<const Node *, int64_t> Program::scratchBytesByNode() const {
  llvm::DenseMap<const Node *, int64_t> bytes;
  for (const KernelCall &call : calls)
    for (const KernelArg &arg : call.args)
      if (arg.kind == KernelArg::Kind::Scratch)
        bytes[call.node] = std::max(bytes.lookup(call.node), arg.integer);
  return bytes;
}

int64_t Program::constantBytes() const {
  int64_t total = 0;
  for (const ConstantArray &array : constants) total += static_cast<int64_t>(array.bytes);
  return total;
}

std::string Program::uniqueSymbol(const std::string &base) {
  std::string symbol;
  for (char c : base) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0;
    if (ok) symbol += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!symbol.empty() && symbol.back() != '_') symbol += '_';
  }
  while (!symbol.empty() && symbol.back() == '_') symbol.pop_back();
  if (symbol.empty() || std::isdigit(static_cast<unsigned char>(symbol[0]))) symbol = "c_" + symbol;
  // Long ONNX names (tf2onnx joins whole scopes) would make unreadable identifiers.
  if (symbol.size() > 48) symbol = symbol.substr(symbol.size() - 48);
  while (!symbol.empty() && (symbol[0] == '_' || std::isdigit(static_cast<unsigned char>(symbol[0]))))
    symbol.erase(0, 1);
  std::string candidate = symbol;
  for (int suffix = 2; std::find(symbols_.begin(), symbols_.end(), candidate) != symbols_.end();
       ++suffix)
    candidate = symbol + "_" + std::to_string(suffix);
  symbols_.push_back(candidate);
  return candidate;
}

} // namespace edgesplit
