#include "ir/Limits.h"

#include "ir/Tensor.h"
#include "support/Error.h"

#include <fmt/format.h>

namespace edgesplit {

namespace {
int64_t gMaxTensorBytes = kDefaultMaxTensorBytes;
} // namespace

int64_t maxTensorBytes() { return gMaxTensorBytes; }
void setMaxTensorBytes(int64_t bytes) { gMaxTensorBytes = bytes; }

std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  int64_t result = 0;
  if (__builtin_mul_overflow(a, b, &result)) return std::nullopt;
  return result;
}

std::optional<int64_t> checkedAdd(int64_t a, int64_t b) {
  int64_t result = 0;
  if (__builtin_add_overflow(a, b, &result)) return std::nullopt;
  return result;
}

std::optional<int64_t> checkedElementCount(llvm::ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    const auto next = checkedMul(count, dim);
    if (!next) return std::nullopt;
    count = *next;
  }
  return count;
}

std::string tensorLimitProblem(DType dtype, llvm::ArrayRef<int64_t> shape) {
  for (int64_t dim : shape)
    if (dim < 0)
      return fmt::format("shape {} has a negative dimension; every dimension must be >= 0",
                         formatShape(shape));
  if (shape.size() > kMaxRank)
    return fmt::format("shape {} has rank {}, more than the {} edgesplit supports; give the "
                       "tensor fewer dimensions",
                       formatShape(shape), shape.size(), kMaxRank);
  const auto count = checkedElementCount(shape);
  const auto bytes =
      count ? checkedMul(*count, static_cast<int64_t>(dtypeSize(dtype))) : std::nullopt;
  if (!bytes)
    return fmt::format("shape {} has more elements than a 64-bit count holds; check the "
                       "dimensions",
                       formatShape(shape));
  if (*bytes > maxTensorBytes())
    return fmt::format("{} {} needs {} bytes, more than the limit of {}; pass "
                       "--max-tensor-bytes to raise it if the size is intended",
                       dtypeName(dtype), formatShape(shape), *bytes, maxTensorBytes());
  return {};
}

void checkTensorLimits(DType dtype, llvm::ArrayRef<int64_t> shape, std::string_view context) {
  const std::string problem = tensorLimitProblem(dtype, shape);
  if (!problem.empty()) fail("{}: {}", context, problem);
}

} // namespace edgesplit
