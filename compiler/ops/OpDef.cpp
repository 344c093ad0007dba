#include "ops/OpDef.h"

#include <fmt/format.h>

namespace edgesplit {

namespace {
template <typename T>
T attrOr(const NodeContext &ctx, std::string_view name, std::optional<T> value, T fallback,
         std::string_view kind) {
  if (value) return *value;
  if (ctx.node().attributes.has(name)) ctx.fail("attribute '{}' must be {}", name, kind);
  return fallback;
}
} // namespace

int64_t NodeContext::attrInt(std::string_view name, int64_t fallback) const {
  return attrOr(*this, name, node_.attributes.getInt(name), fallback, "an int");
}
float NodeContext::attrFloat(std::string_view name, float fallback) const {
  return attrOr(*this, name, node_.attributes.getFloat(name), fallback, "a float");
}
std::string NodeContext::attrString(std::string_view name, std::string_view fallback) const {
  return attrOr(*this, name, node_.attributes.getString(name), std::string(fallback), "a string");
}
std::vector<int64_t> NodeContext::attrInts(std::string_view name,
                                           std::vector<int64_t> fallback) const {
  return attrOr(*this, name, node_.attributes.getInts(name), std::move(fallback), "a list of ints");
}
std::vector<float> NodeContext::attrFloats(std::string_view name,
                                           std::vector<float> fallback) const {
  return attrOr(*this, name, node_.attributes.getFloats(name), std::move(fallback),
                "a list of floats");
}
int64_t NodeContext::requireAttrInt(std::string_view name) const {
  if (!hasAttr(name)) fail("missing required attribute '{}'", name);
  return attrInt(name, 0);
}
std::vector<int64_t> NodeContext::requireAttrInts(std::string_view name) const {
  if (!hasAttr(name)) fail("missing required attribute '{}'", name);
  return attrInts(name);
}

int64_t NodeContext::normalizeAxis(int64_t axis, int64_t rank, std::string_view what) const {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    fail("{} {} is out of range for a rank-{} input", what, axis, rank);
  return axis < 0 ? axis + rank : axis;
}

InferContext::InferContext(const Node &node, llvm::ArrayRef<InferInput> inputs)
    : NodeContext(node), inputs_(inputs), outputs_(node.outputs.size()) {}

DType InferContext::inputType(size_t index) const {
  if (!hasInput(index)) fail("input {} is missing", index);
  return inputs_[index].dtype;
}

llvm::ArrayRef<int64_t> InferContext::inputShape(size_t index) const {
  if (!hasInput(index)) fail("input {} is missing", index);
  if (!inputs_[index].shape) throw NeedsRuntimeValue{};
  return *inputs_[index].shape;
}

const Tensor *InferContext::inputValue(size_t index) const {
  return hasInput(index) ? inputs_[index].value : nullptr;
}

const Tensor &InferContext::requireInputValue(size_t index) const {
  if (!hasInput(index)) fail("input {} is missing", index);
  if (!inputs_[index].value) throw NeedsRuntimeValue{};
  return *inputs_[index].value;
}

void InferContext::setOutput(size_t index, DType dtype, llvm::ArrayRef<int64_t> shape) {
  if (index >= outputs_.size()) return; // optional output the model does not request
  for (int64_t dim : shape)
    if (dim < 0) fail("output {} would have a negative dimension {}", index, formatShape(shape));
  outputs_[index] = {true, dtype, Shape(shape.begin(), shape.end())};
}

const Tensor &KernelContext::input(size_t index) const {
  if (!hasInput(index)) fail("input {} is missing", index);
  return *inputs_[index];
}

} // namespace edgesplit
