// Resource limits on what a model or an input file may make edgesplit allocate, and the
// overflow-checked arithmetic that element counts and byte sizes go through. Inputs are
// untrusted: a dimension of 2^40 must end in an error naming the file and node, never in signed
// overflow, a bad_alloc or the kernel's out-of-memory killer.
#pragma once

#include "ir/DType.h"

#include <llvm/ADT/ArrayRef.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edgesplit {

// Far above what a model for a microcontroller uses (the generated code handles rank 4), yet it
// keeps shape vectors and per-dimension loops small.
inline constexpr size_t kMaxRank = 8;
inline constexpr int64_t kDefaultMaxTensorBytes = int64_t(1) << 30;
// The most --max-tensor-bytes accepts: element counts up to 2^31 keep the product of two of them
// (an op's MACs: output elements times kernel size) inside int64.
inline constexpr int64_t kMaxTensorBytesCeiling = int64_t(1) << 31;

// The largest tensor edgesplit allocates. Process-wide because one invocation runs one
// subcommand, which sets it from --max-tensor-bytes before loading anything.
int64_t maxTensorBytes();
void setMaxTensorBytes(int64_t bytes);

// a * b and a + b, or nullopt when the exact result does not fit int64.
std::optional<int64_t> checkedMul(int64_t a, int64_t b);
std::optional<int64_t> checkedAdd(int64_t a, int64_t b);

// The element count of `shape`, or nullopt when a dimension is negative or the count overflows.
std::optional<int64_t> checkedElementCount(llvm::ArrayRef<int64_t> shape);

// Why a tensor of `dtype` and `shape` may not exist: a negative dimension, a rank above kMaxRank,
// an element count or byte size beyond int64, or more bytes than maxTensorBytes(). Empty when it
// may. The text reads after "<what>: " and ends with the fix.
std::string tensorLimitProblem(DType dtype, llvm::ArrayRef<int64_t> shape);
// Throws Error "<context>: <problem>" when tensorLimitProblem finds one.
void checkTensorLimits(DType dtype, llvm::ArrayRef<int64_t> shape, std::string_view context);

} // namespace edgesplit
