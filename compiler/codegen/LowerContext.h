// What an op's lowering hook (OpDef::lower) sees: its node with the fused activation, the
// precision, each value's int8 parameters, and builders for constants and the kernel call it adds
// to the Program. Op files call only this, so an op's lowering stays in the op's own file.
#pragma once

#include "codegen/Program.h"
#include "codegen/RuntimeBindings.h"
#include "ops/OpDef.h"

#include <cmath>
#include <optional>

namespace edgesplit {

// Bounds of a Relu/Clip fused into the node that produces its input.
struct ActivationClamp {
  float lo = -INFINITY;
  float hi = INFINITY;
};

// Per-tensor affine parameters of an int8 activation (docs/int8.md).
struct TensorQuant {
  double scale = 1.0;
  int32_t zeroPoint = 0;
};

class LowerContext : public NodeContext {
public:
  LowerContext(const Node &node, Program &program, std::optional<ActivationClamp> clamp);

  Precision precision() const { return program_.precision; }
  bool isInt8() const { return program_.precision == Precision::Int8; }
  KernelIsa isa() const { return program_.isa; }
  // The build's int8 rescaling rule, which the int8 tables follow too (docs/int8.md).
  S8Rounding rounding() const { return program_.rounding; }
  const Value &inputValue(size_t index) const;
  const Value &outputValue(size_t index = 0) const;
  llvm::ArrayRef<int64_t> inputShape(size_t index) const;
  llvm::ArrayRef<int64_t> outputShape(size_t index = 0) const;
  bool hasInput(size_t index) const { return node().input(index) != nullptr; }
  bool inputIsConstant(size_t index) const;
  const Tensor &constantInput(size_t index) const; // fails naming the input when not constant

  // The fused activation, if any; kernels clamp their output to it.
  const std::optional<ActivationClamp> &clamp() const { return clamp_; }
  // Float act_min/act_max of the fused activation (infinite when none).
  std::pair<float, float> floatActivationRange() const;
  // int8 act_min/act_max: [-128, 127] narrowed by the fused activation in `output`'s parameters.
  std::pair<int32_t, int32_t> int8ActivationRange(const TensorQuant &output) const;
  // The same for any clamp (none: all of int8), e.g. one fused inside a fused layer.
  static std::pair<int32_t, int32_t>
  int8ActivationRange(const std::optional<ActivationClamp> &clamp, const TensorQuant &output);

  // Per-tensor parameters of an activation or constant; fails when it has none (or per-axis).
  TensorQuant quant(const Value &value) const;
  TensorQuant inputQuant(size_t index) const { return quant(inputValue(index)); }
  TensorQuant outputQuant(size_t index = 0) const { return quant(outputValue(index)); }

  // The quantised weights of constant input `index` with output channels along `channelAxis`,
  // transposed so channels come first when `channelAxis` is not 0 ([K, N] -> [N, K]): int8 values
  // and one scale per channel (the annotation's, else symmetric per-channel of docs/int8.md).
  struct Weights {
    std::vector<int8_t> values;
    std::vector<double> scales; // one per output channel
  };
  Weights int8Weights(size_t index, int64_t channelAxis) const;
  // Constant input `index` as the int32 bias of a layer: scale inputScale * weightScales[c].
  std::vector<int32_t> int32Bias(size_t index, double inputScale,
                                 llvm::ArrayRef<double> weightScales) const;
  // Constant input `index` (broadcast by the caller) as int8 in its own parameters.
  std::vector<int8_t> int8Constant(size_t index) const;
  // Float weights with channels along `channelAxis` moved first, as int8Weights lays them out.
  std::vector<float> floatWeights(size_t index, int64_t channelAxis) const;
  std::vector<float> floatConstant(size_t index) const;

  es_requant_t requant(double factor) const;

  // Argument builders.
  KernelArg input(size_t index) const;
  KernelArg output(size_t index = 0) const;
  KernelArg inputList(llvm::ArrayRef<size_t> indices) const;
  // Adds an input or a constant array to an input list.
  static void appendToList(KernelArg &list, const KernelArg &entry);
  static KernelArg null();
  static KernelArg integer(int64_t value);
  // `bytes` of the arena for the call alone, planned with the node (contents undefined).
  static KernelArg scratch(int64_t bytes);
  KernelArg constantArray(const std::string &suffix, std::vector<int8_t> values);
  KernelArg constantArray(const std::string &suffix, std::vector<int16_t> values);
  KernelArg constantArray(const std::string &suffix, std::vector<int32_t> values);
  KernelArg constantArray(const std::string &suffix, std::vector<uint32_t> values);
  KernelArg constantArray(const std::string &suffix, std::vector<float> values);
  KernelArg constantArray(const std::string &suffix, std::vector<es_requant_t> values);
  KernelArg constantArray(const std::string &suffix, std::vector<es_concat_s8_input_t> values);
  // The symbol of the constant a builder just made (for pointer fields of parameter structs).
  const std::string &constantSymbol(const KernelArg &arg) const;
  const void *constantData(const KernelArg &arg) const;

  // Adds the call `function(&params, args...)`; `invoke` performs it in-process.
  template <typename P>
  void call(std::string function, const P &params, std::vector<KernelArg> args,
            std::function<void(const P &, const KernelArgs &)> invoke,
            std::string_view kernelClass, std::optional<CInit> init = std::nullopt);
  // Adds a call without a parameter struct.
  void callPlain(std::string function, std::vector<KernelArg> args,
                 std::function<void(const KernelArgs &)> invoke, std::string_view kernelClass);
  // Output 0 is input 0's bytes (views): no code when the planner aliased them.
  void copy();
  // Float programs of pre-quantised models: `value` (written earlier) is rounded in place to its
  // int8 grid, as the model's QuantizeLinear -> DequantizeLinear pair does in float.
  void fakeQuantize(const Value &value);

private:
  void add(KernelCall call, std::string_view kernelClass);
  Program &program_;
  std::optional<ActivationClamp> clamp_;
};

template <typename P>
void LowerContext::call(std::string function, const P &params, std::vector<KernelArg> args,
                        std::function<void(const P &, const KernelArgs &)> invoke,
                        std::string_view kernelClass, std::optional<CInit> init) {
  auto storage = std::make_shared<P>(params);
  KernelCall kernel;
  kernel.function = std::move(function);
  kernel.params = KernelParams{std::string(CTypeName<P>::value),
                               init ? std::move(*init) : describe(params), storage};
  KernelArg paramsArg;
  paramsArg.kind = KernelArg::Kind::Params;
  kernel.args.push_back(paramsArg);
  for (KernelArg &arg : args) kernel.args.push_back(std::move(arg));
  kernel.invoke = [storage, invoke = std::move(invoke)](const KernelArgs &resolved) {
    invoke(*storage, resolved);
  };
  add(std::move(kernel), kernelClass);
}

} // namespace edgesplit
