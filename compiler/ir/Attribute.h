// Node attributes, kept in the order the model wrote them (deterministic iteration).
#pragma once

#include "ir/Tensor.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringRef.h>

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace edgesplit {

using AttributeValue = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                                    std::vector<float>, std::vector<std::string>, Tensor>;

class AttributeMap {
public:
  void set(std::string name, AttributeValue value);
  bool has(llvm::StringRef name) const { return find(name) != nullptr; }
  const AttributeValue *find(llvm::StringRef name) const;
  void erase(llvm::StringRef name);

  // Typed getters; a present attribute of the wrong kind is a model error (thrown by the caller's
  // context, which knows the node). These return nullopt when absent.
  std::optional<int64_t> getInt(llvm::StringRef name) const;
  std::optional<float> getFloat(llvm::StringRef name) const;
  std::optional<std::string> getString(llvm::StringRef name) const;
  std::optional<std::vector<int64_t>> getInts(llvm::StringRef name) const;
  std::optional<std::vector<float>> getFloats(llvm::StringRef name) const;
  const Tensor *getTensor(llvm::StringRef name) const;

  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }
  size_t size() const { return entries_.size(); }

private:
  llvm::SmallVector<std::pair<std::string, AttributeValue>, 4> entries_;
};

} // namespace edgesplit
