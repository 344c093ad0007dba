#include "ops/Unary.h"

namespace edgesplit::ops {
namespace {
bool isNumeric(DType type) { return type != DType::Bool; }
bool isSignedNumber(DType type) { return isFloatingPoint(type) || isSignedInteger(type); }
} // namespace

void inferFloatUnary(InferContext &ctx) { inferSameAsInput(ctx, isFloatingPoint); }
void inferNumericUnary(InferContext &ctx) { inferSameAsInput(ctx, isNumeric); }
void inferSignedUnary(InferContext &ctx) { inferSameAsInput(ctx, isSignedNumber); }

} // namespace edgesplit::ops
