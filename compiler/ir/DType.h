// Element types. The numeric values are ONNX's TensorProto.DataType codes so the frontend maps
// them one to one.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <type_traits>

namespace edgesplit {

enum class DType : uint8_t {
  Undefined = 0,
  Float32 = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  Bool = 9,
  Float16 = 10,
  Float64 = 11,
  UInt32 = 12,
  UInt64 = 13,
  BFloat16 = 16,
};

// IEEE half and bfloat16 are stored as raw bits; arithmetic converts through float.
struct Half {
  uint16_t bits = 0;
};
struct BFloat16 {
  uint16_t bits = 0;
};

float halfToFloat(Half value);
Half floatToHalf(float value);
float bfloat16ToFloat(BFloat16 value);
BFloat16 floatToBFloat16(float value);

size_t dtypeSize(DType type);
std::string_view dtypeName(DType type);
std::optional<DType> dtypeFromOnnx(int32_t code);
bool isFloatingPoint(DType type);
bool isSignedInteger(DType type);
bool isUnsignedInteger(DType type);

template <typename T> struct TypeTag {
  using type = T;
};

template <typename T> constexpr DType dtypeOf() {
  if constexpr (std::is_same_v<T, float>) return DType::Float32;
  else if constexpr (std::is_same_v<T, double>) return DType::Float64;
  else if constexpr (std::is_same_v<T, Half>) return DType::Float16;
  else if constexpr (std::is_same_v<T, BFloat16>) return DType::BFloat16;
  else if constexpr (std::is_same_v<T, int8_t>) return DType::Int8;
  else if constexpr (std::is_same_v<T, int16_t>) return DType::Int16;
  else if constexpr (std::is_same_v<T, int32_t>) return DType::Int32;
  else if constexpr (std::is_same_v<T, int64_t>) return DType::Int64;
  else if constexpr (std::is_same_v<T, uint8_t>) return DType::UInt8;
  else if constexpr (std::is_same_v<T, uint16_t>) return DType::UInt16;
  else if constexpr (std::is_same_v<T, uint32_t>) return DType::UInt32;
  else if constexpr (std::is_same_v<T, uint64_t>) return DType::UInt64;
  else if constexpr (std::is_same_v<T, bool>) return DType::Bool;
  else static_assert(!sizeof(T), "no DType for this C++ type");
}

// Calls f(TypeTag<T>{}) for the C++ type stored by `type`. Half and BFloat16 are passed as such;
// kernels that do arithmetic usually widen them through Tensor::castTo(Float32) first.
template <typename F> decltype(auto) dispatchDType(DType type, F &&f) {
  switch (type) {
  case DType::Float32: return f(TypeTag<float>{});
  case DType::Float64: return f(TypeTag<double>{});
  case DType::Float16: return f(TypeTag<Half>{});
  case DType::BFloat16: return f(TypeTag<BFloat16>{});
  case DType::Int8: return f(TypeTag<int8_t>{});
  case DType::Int16: return f(TypeTag<int16_t>{});
  case DType::Int32: return f(TypeTag<int32_t>{});
  case DType::Int64: return f(TypeTag<int64_t>{});
  case DType::UInt8: return f(TypeTag<uint8_t>{});
  case DType::UInt16: return f(TypeTag<uint16_t>{});
  case DType::UInt32: return f(TypeTag<uint32_t>{});
  case DType::UInt64: return f(TypeTag<uint64_t>{});
  case DType::Bool: return f(TypeTag<bool>{});
  case DType::Undefined: break;
  }
  return f(TypeTag<float>{}); // unreachable for verified graphs; keeps every path typed
}

// Same, restricted to types with native C++ arithmetic (no Half/BFloat16/bool).
template <typename F> decltype(auto) dispatchArithmetic(DType type, F &&f) {
  switch (type) {
  case DType::Float64: return f(TypeTag<double>{});
  case DType::Int8: return f(TypeTag<int8_t>{});
  case DType::Int16: return f(TypeTag<int16_t>{});
  case DType::Int32: return f(TypeTag<int32_t>{});
  case DType::Int64: return f(TypeTag<int64_t>{});
  case DType::UInt8: return f(TypeTag<uint8_t>{});
  case DType::UInt16: return f(TypeTag<uint16_t>{});
  case DType::UInt32: return f(TypeTag<uint32_t>{});
  case DType::UInt64: return f(TypeTag<uint64_t>{});
  default: return f(TypeTag<float>{});
  }
}

} // namespace edgesplit
