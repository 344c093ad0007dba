#include "codegen/CInit.h"

#include "support/Error.h"

#include <fmt/format.h>

#include <algorithm>

#include <cmath>

namespace edgesplit {

CInit CInit::integer(int64_t value) {
  // INT32_MIN has no literal of type int; write it as an expression so the type stays int32.
  if (value == INT32_MIN) return symbol("(-2147483647 - 1)");
  return symbol(std::to_string(value));
}

CInit CInit::real(float value) { return symbol(cLiteral(value)); }

CInit CInit::symbol(std::string text) {
  CInit init;
  init.text_ = std::move(text);
  return init;
}

CInit CInit::fields(std::vector<std::pair<std::string, CInit>> fields) {
  CInit init;
  init.kind_ = Kind::Fields;
  init.children_ = std::move(fields);
  return init;
}

CInit CInit::array(std::vector<CInit> elements) {
  CInit init;
  init.kind_ = Kind::Array;
  for (CInit &element : elements) init.children_.emplace_back(std::string(), std::move(element));
  return init;
}

void CInit::setField(const std::string &name, CInit value) {
  for (auto &[fieldName, fieldValue] : children_)
    if (fieldName == name) {
      fieldValue = std::move(value);
      return;
    }
  fail("internal error: C initialiser has no field '{}'", name);
}

bool CInit::usesMath() const {
  if (kind_ == Kind::Scalar) return text_.find("INFINITY") != std::string::npos;
  for (const auto &child : children_)
    if (child.second.usesMath()) return true;
  return false;
}

std::string CInit::str(int indent) const {
  if (kind_ == Kind::Scalar) return text_;
  std::vector<std::string> parts;
  size_t width = 0;
  for (const auto &[name, value] : children_) {
    std::string part = name.empty() ? value.str(indent + 2)
                                     : fmt::format(".{} = {}", name, value.str(indent + 2));
    width += part.size() + 2;
    parts.push_back(std::move(part));
  }
  if (parts.empty()) return "{0}";
  const bool oneLine = width + static_cast<size_t>(indent) < 90 &&
                       std::none_of(parts.begin(), parts.end(), [](const std::string &part) {
                         return part.find('\n') != std::string::npos;
                       });
  if (oneLine) return fmt::format("{{{}}}", fmt::join(parts, ", "));
  const std::string pad(static_cast<size_t>(indent) + 2, ' ');
  std::string out = "{\n";
  for (const std::string &part : parts) out += pad + part + ",\n";
  return out + std::string(static_cast<size_t>(indent), ' ') + "}";
}

std::string cLiteral(int8_t value) { return std::to_string(value); }
std::string cLiteral(int32_t value) { return CInit::integer(value).str(); }
std::string cLiteral(uint32_t value) { return std::to_string(value) + "u"; }

std::string cLiteral(float value) {
  if (std::isinf(value)) return value > 0 ? "INFINITY" : "-INFINITY";
  if (std::isnan(value)) fail("internal error: NaN in emitted constant");
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text + "f";
}

} // namespace edgesplit
