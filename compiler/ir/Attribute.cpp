#include "ir/Attribute.h"

namespace edgesplit {

void AttributeMap::set(std::string name, AttributeValue value) {
  for (auto &entry : entries_) {
    if (entry.first == name) {
      entry.second = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(name), std::move(value));
}

const AttributeValue *AttributeMap::find(llvm::StringRef name) const {
  for (const auto &entry : entries_)
    if (entry.first == name) return &entry.second;
  return nullptr;
}

void AttributeMap::erase(llvm::StringRef name) {
  llvm::erase_if(entries_, [&](const auto &entry) { return entry.first == name; });
}

namespace {
template <typename T> std::optional<T> getAs(const AttributeValue *value) {
  if (!value) return std::nullopt;
  if (const T *typed = std::get_if<T>(value)) return *typed;
  return std::nullopt;
}
} // namespace

std::optional<int64_t> AttributeMap::getInt(llvm::StringRef name) const {
  return getAs<int64_t>(find(name));
}
std::optional<float> AttributeMap::getFloat(llvm::StringRef name) const {
  return getAs<float>(find(name));
}
std::optional<std::string> AttributeMap::getString(llvm::StringRef name) const {
  return getAs<std::string>(find(name));
}
std::optional<std::vector<int64_t>> AttributeMap::getInts(llvm::StringRef name) const {
  return getAs<std::vector<int64_t>>(find(name));
}
std::optional<std::vector<float>> AttributeMap::getFloats(llvm::StringRef name) const {
  return getAs<std::vector<float>>(find(name));
}
const Tensor *AttributeMap::getTensor(llvm::StringRef name) const {
  const AttributeValue *value = find(name);
  return value ? std::get_if<Tensor>(value) : nullptr;
}

} // namespace edgesplit
