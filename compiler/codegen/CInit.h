// C initialiser expressions for emitted code: the parameters of a kernel call are built once as
// runtime-c structs, described as CInit trees and printed as designated initialisers.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace edgesplit {

class CInit {
public:
  static CInit integer(int64_t value);
  // Shortest text that reads back as the same float; INFINITY for infinities (math.h).
  static CInit real(float value);
  // An identifier or expression printed as is (enumerators, symbols, addresses).
  static CInit symbol(std::string text);
  // { .name = value, ... } in the given order.
  static CInit fields(std::vector<std::pair<std::string, CInit>> fields);
  // { value, value, ... }
  static CInit array(std::vector<CInit> elements);

  // Replaces the value of field `name` of a fields() initialiser (it must exist).
  void setField(const std::string &name, CInit value);
  bool usesMath() const; // mentions INFINITY

  // One line when short, else one field or element per line at `indent` + 2.
  std::string str(int indent = 0) const;

private:
  enum class Kind { Scalar, Fields, Array } kind_ = Kind::Scalar;
  std::string text_;
  std::vector<std::pair<std::string, CInit>> children_;
};

// The C literal of one constant element, for the arrays emitted into weights.c.
std::string cLiteral(int8_t value);
std::string cLiteral(int32_t value);
std::string cLiteral(uint32_t value);
std::string cLiteral(float value);

} // namespace edgesplit
