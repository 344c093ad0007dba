#include "ir/Tensor.h"

#include "ir/Limits.h"
#include "support/Error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <limits>

namespace edgesplit {

int64_t numElements(llvm::ArrayRef<int64_t> shape) {
  const auto count = checkedElementCount(shape);
  if (!count)
    fail("shape {} has a negative dimension or more elements than a 64-bit count holds",
         formatShape(shape));
  return *count;
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape.begin(), shape.end(), ", "));
}

Shape stridesOf(llvm::ArrayRef<int64_t> shape) {
  Shape strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

// Every tensor is allocated here, so this is where no shape can ask for more than the limit: the
// checks with a file and node to name come earlier, this one catches whatever they miss.
Tensor::Tensor(DType dtype, llvm::ArrayRef<int64_t> shape)
    : dtype_(dtype), shape_(shape.begin(), shape.end()) {
  checkTensorLimits(dtype, shape, "cannot allocate a tensor");
  elementCount_ = edgesplit::numElements(shape);
  bytes_.resize(static_cast<size_t>(elementCount_) * dtypeSize(dtype));
}

namespace {

template <typename T> double toDouble(T value) {
  if constexpr (std::is_same_v<T, Half>) return halfToFloat(value);
  else if constexpr (std::is_same_v<T, BFloat16>) return bfloat16ToFloat(value);
  else return static_cast<double>(value);
}

// Float to integer without undefined behaviour: NaN -> 0, out of range saturates.
template <typename To> To saturatingFromDouble(double value) {
  if (std::isnan(value)) return To{0};
  const double truncated = std::trunc(value);
  if (truncated <= static_cast<double>(std::numeric_limits<To>::lowest()))
    return std::numeric_limits<To>::lowest();
  if (truncated >= static_cast<double>(std::numeric_limits<To>::max()))
    return std::numeric_limits<To>::max();
  return static_cast<To>(truncated);
}

template <typename From, typename To> To convertElement(From value) {
  if constexpr (std::is_same_v<To, bool>) {
    return toDouble(value) != 0.0;
  } else if constexpr (std::is_same_v<To, Half>) {
    if constexpr (std::is_same_v<From, double>) {
      // Round once, directly from double: going through float would round twice.
      const float nearest = static_cast<float>(value);
      Half half = floatToHalf(nearest);
      const double back = halfToFloat(half);
      if (back != value && std::isfinite(value)) {
        // Pick the nearer of the two halves that bracket value; ties to even.
        const bool awayFromZero = (back < value) == (value >= 0);
        Half other{static_cast<uint16_t>(awayFromZero ? half.bits + 1 : half.bits - 1)};
        const double otherValue = halfToFloat(other);
        const double dHalf = std::fabs(back - value), dOther = std::fabs(otherValue - value);
        if (std::isfinite(otherValue) &&
            (dOther < dHalf || (dOther == dHalf && (other.bits & 1u) == 0)))
          half = other;
      }
      return half;
    } else {
      return floatToHalf(static_cast<float>(toDouble(value)));
    }
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    return floatToBFloat16(static_cast<float>(toDouble(value)));
  } else if constexpr (std::is_floating_point_v<To>) {
    if constexpr (std::is_integral_v<From>) return static_cast<To>(value);
    else return static_cast<To>(toDouble(value));
  } else if constexpr (std::is_integral_v<From>) {
    return static_cast<To>(value); // integer to integer wraps, as numpy/ONNX do
  } else {
    return saturatingFromDouble<To>(toDouble(value));
  }
}

} // namespace

Tensor Tensor::castTo(DType target) const {
  if (target == dtype_) return *this;
  Tensor result(target, shape_);
  dispatchDType(dtype_, [&](auto fromTag) {
    using From = typename decltype(fromTag)::type;
    dispatchDType(target, [&](auto toTag) {
      using To = typename decltype(toTag)::type;
      const From *in = data<From>();
      To *out = result.data<To>();
      for (int64_t i = 0; i < elementCount_; ++i) out[i] = convertElement<From, To>(in[i]);
    });
  });
  return result;
}

std::vector<int64_t> Tensor::toInt64Vector() const {
  Tensor asInt = castTo(DType::Int64);
  auto values = asInt.values<int64_t>();
  return {values.begin(), values.end()};
}

std::vector<double> Tensor::toDoubleVector() const {
  Tensor asDouble = castTo(DType::Float64);
  auto values = asDouble.values<double>();
  return {values.begin(), values.end()};
}

double Tensor::elementAsDouble(int64_t index) const {
  return dispatchDType(dtype_, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return toDouble(data<T>()[index]);
  });
}

Tensor Tensor::reshaped(llvm::ArrayRef<int64_t> shape) const {
  assert(edgesplit::numElements(shape) == elementCount_);
  Tensor result = *this;
  result.shape_.assign(shape.begin(), shape.end());
  return result;
}

} // namespace edgesplit
