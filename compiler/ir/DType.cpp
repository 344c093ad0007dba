#include "ir/DType.h"

#include <bit>
#include <cmath>

namespace edgesplit {

float halfToFloat(Half value) {
  const uint32_t sign = static_cast<uint32_t>(value.bits & 0x8000u) << 16;
  const uint32_t exponent = (value.bits >> 10) & 0x1fu;
  const uint32_t mantissa = value.bits & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: value = mantissa * 2^-24.
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1f)
    return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

Half floatToHalf(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t absBits = bits & 0x7fffffffu;
  if (absBits >= 0x7f800000u) // inf or nan
    return {static_cast<uint16_t>(sign | 0x7c00u | (absBits > 0x7f800000u ? 0x200u : 0u))};
  if (absBits >= 0x477ff000u) // rounds to >= 65520: overflow to infinity
    return {static_cast<uint16_t>(sign | 0x7c00u)};
  if (absBits < 0x38800000u) {
    // Result is subnormal (or zero) in half: round-to-nearest-even of value * 2^24.
    const float scaled = std::fabs(value) * 16777216.0f;
    return {static_cast<uint16_t>(sign | static_cast<uint16_t>(std::nearbyint(scaled)))};
  }
  // Normal: rebias exponent, round mantissa from 23 to 10 bits to nearest even.
  uint32_t half = ((absBits >> 13) - (112u << 10));
  const uint32_t remainder = absBits & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (half & 1u))) ++half;
  return {static_cast<uint16_t>(sign | half)};
}

float bfloat16ToFloat(BFloat16 value) {
  return std::bit_cast<float>(static_cast<uint32_t>(value.bits) << 16);
}

BFloat16 floatToBFloat16(float value) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return {static_cast<uint16_t>((bits >> 16) | 0x40u)};
  bits += 0x7fffu + ((bits >> 16) & 1u); // round to nearest even
  return {static_cast<uint16_t>(bits >> 16)};
}

size_t dtypeSize(DType type) {
  switch (type) {
  case DType::Float64:
  case DType::Int64:
  case DType::UInt64: return 8;
  case DType::Float32:
  case DType::Int32:
  case DType::UInt32: return 4;
  case DType::Float16:
  case DType::BFloat16:
  case DType::Int16:
  case DType::UInt16: return 2;
  case DType::Int8:
  case DType::UInt8:
  case DType::Bool: return 1;
  case DType::Undefined: return 0;
  }
  return 0;
}

std::string_view dtypeName(DType type) {
  switch (type) {
  case DType::Float32: return "float32";
  case DType::Float64: return "float64";
  case DType::Float16: return "float16";
  case DType::BFloat16: return "bfloat16";
  case DType::Int8: return "int8";
  case DType::Int16: return "int16";
  case DType::Int32: return "int32";
  case DType::Int64: return "int64";
  case DType::UInt8: return "uint8";
  case DType::UInt16: return "uint16";
  case DType::UInt32: return "uint32";
  case DType::UInt64: return "uint64";
  case DType::Bool: return "bool";
  case DType::Undefined: return "undefined";
  }
  return "undefined";
}

std::optional<DType> dtypeFromOnnx(int32_t code) {
  switch (code) {
  case 1: case 2: case 3: case 4: case 5: case 6: case 7:
  case 9: case 10: case 11: case 12: case 13: case 16:
    return static_cast<DType>(code);
  default: return std::nullopt; // string, complex, float8...
  }
}

bool isFloatingPoint(DType type) {
  return type == DType::Float32 || type == DType::Float64 || type == DType::Float16 ||
         type == DType::BFloat16;
}

bool isSignedInteger(DType type) {
  return type == DType::Int8 || type == DType::Int16 || type == DType::Int32 ||
         type == DType::Int64;
}

bool isUnsignedInteger(DType type) {
  return type == DType::UInt8 || type == DType::UInt16 || type == DType::UInt32 ||
         type == DType::UInt64;
}

} // namespace edgesplit
