// The contract every operator implements, in one file per op (compiler/ops/<Op>.cpp), listed once
// in compiler/ops/OpTable.def. Later pipeline stages add their hooks (quantisation rule, C emitter)
// to OpDef so an op stays one self-contained unit.
#pragma once

#include "ir/Graph.h"
#include "support/Error.h"

#include <llvm/ADT/ArrayRef.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgesplit {

class LowerContext;
class QuantizeContext;

// Thrown by InferContext when an output shape depends on a value that is only known at run time
// (e.g. a Reshape whose target shape is a graph input). Static inference leaves such shapes
// unknown; the interpreter, which knows every value, never sees it.
struct NeedsRuntimeValue {};

// Attribute access and error reporting shared by shape inference and kernels. Errors name the node.
class NodeContext {
public:
  explicit NodeContext(const Node &node) : node_(node) {}

  const Node &node() const { return node_; }
  int opset() const { return node_.opset; }
  size_t numInputs() const { return node_.inputs.size(); }
  size_t numOutputs() const { return node_.outputs.size(); }
  bool hasOutput(size_t index) const {
    return index < node_.outputs.size() && node_.outputs[index] != nullptr;
  }

  bool hasAttr(std::string_view name) const { return node_.attributes.has(name); }
  int64_t attrInt(std::string_view name, int64_t fallback) const;
  float attrFloat(std::string_view name, float fallback) const;
  std::string attrString(std::string_view name, std::string_view fallback) const;
  std::vector<int64_t> attrInts(std::string_view name, std::vector<int64_t> fallback = {}) const;
  std::vector<float> attrFloats(std::string_view name, std::vector<float> fallback = {}) const;
  // Required attribute: a clear error when missing.
  int64_t requireAttrInt(std::string_view name) const;
  std::vector<int64_t> requireAttrInts(std::string_view name) const;

  // Normalises a possibly negative axis against `rank`, or fails naming the attribute.
  int64_t normalizeAxis(int64_t axis, int64_t rank, std::string_view what = "axis") const;

  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args &&...args) const {
    throw Error(fmt::format("{}: {}", node_.describe(),
                            fmt::format(format, std::forward<Args>(args)...)));
  }

private:
  const Node &node_;
};

// What shape inference sees of one input.
struct InferInput {
  bool present = false;
  DType dtype = DType::Undefined;
  const Shape *shape = nullptr;  // null when not statically known
  const Tensor *value = nullptr; // null unless constant (static) or at run time (interpreter)
};

class InferContext : public NodeContext {
public:
  InferContext(const Node &node, llvm::ArrayRef<InferInput> inputs);

  bool hasInput(size_t index) const { return index < inputs_.size() && inputs_[index].present; }
  DType inputType(size_t index) const;
  llvm::ArrayRef<int64_t> inputShape(size_t index) const; // throws NeedsRuntimeValue if unknown
  int64_t inputRank(size_t index) const { return static_cast<int64_t>(inputShape(index).size()); }
  // The input's data if known (constant, or at run time); nullptr otherwise.
  const Tensor *inputValue(size_t index) const;
  // The input's data; throws NeedsRuntimeValue when it is only known at run time.
  const Tensor &requireInputValue(size_t index) const;

  void setOutput(size_t index, DType dtype, llvm::ArrayRef<int64_t> shape);

  struct Output {
    bool set = false;
    DType dtype = DType::Undefined;
    Shape shape;
  };
  llvm::ArrayRef<Output> outputs() const { return outputs_; }

private:
  llvm::ArrayRef<InferInput> inputs_;
  llvm::SmallVector<Output, 2> outputs_;
};

// A reference kernel reads its inputs and fills its outputs, which the interpreter has already
// allocated with the dtype and shape that the op's infer() gave.
class KernelContext : public NodeContext {
public:
  KernelContext(const Node &node, llvm::ArrayRef<const Tensor *> inputs,
                llvm::MutableArrayRef<Tensor> outputs)
      : NodeContext(node), inputs_(inputs), outputs_(outputs) {}

  bool hasInput(size_t index) const { return index < inputs_.size() && inputs_[index]; }
  const Tensor &input(size_t index) const;
  Tensor &output(size_t index) { return outputs_[index]; }

private:
  llvm::ArrayRef<const Tensor *> inputs_;
  llvm::MutableArrayRef<Tensor> outputs_;
};

struct OpDef {
  std::string_view name; // ONNX op type (default domain)
  int minInputs = 1;
  int maxInputs = 1;
  int minOutputs = 1;
  int maxOutputs = 1;
  // Checks attributes and input types, sets every present output's dtype and shape.
  void (*infer)(InferContext &ctx) = nullptr;
  // Float (and integer where the op needs it) reference kernel.
  void (*run)(KernelContext &ctx) = nullptr;
  // Multiply-accumulates for one execution, from the node's static shapes; null means 0.
  int64_t (*macs)(const Node &node) = nullptr;
  // int8 annotation rule (compiler/quantize/Annotate.h): how the output parameters follow from
  // the inputs' and which constant inputs are per-channel weights or int32 biases. Null: every
  // output takes the parameters of its calibrated range.
  void (*quantize)(QuantizeContext &ctx) = nullptr;
  // Adds the runtime-c call(s) of one node to the device program (compiler/codegen). Null: code
  // generation does not support the op.
  void (*lower)(LowerContext &ctx) = nullptr;
  // The lowering clamps its output to a following Relu/Clip (codegen/FuseActivations.h).
  bool fusesActivation = false;
};

// The registry: every op of compiler/ops/OpTable.def. nullptr for an op edgesplit lacks.
const OpDef *findOp(std::string_view domain, std::string_view opType);
llvm::ArrayRef<const OpDef *> allOps();

} // namespace edgesplit
