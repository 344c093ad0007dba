// Escaping text for XML: SVG pictures and the HTML of markdown <details>.
#pragma once

#include <string>
#include <string_view>

namespace edgesplit {

// Safe in element content and in double- or single-quoted attribute values.
inline std::string xmlEscaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&apos;"; break;
    default: out += c;
    }
  }
  return out;
}

} // namespace edgesplit
