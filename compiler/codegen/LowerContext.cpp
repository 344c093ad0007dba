#include "codegen/LowerContext.h"

#include "quantize/QuantMath.h"

#include <algorithm>
#include <cmath>

namespace edgesplit {

LowerContext::LowerContext(const Node &node, Program &program,
                           std::optional<ActivationClamp> clamp)
    : NodeContext(node), program_(program), clamp_(clamp) {}

const Value &LowerContext::inputValue(size_t index) const {
  const Value *value = node().input(index);
  if (!value) fail("input {} is missing", index);
  return *value;
}

const Value &LowerContext::outputValue(size_t index) const {
  if (!hasOutput(index)) fail("output {} is missing", index);
  return *node().outputs[index];
}

static llvm::ArrayRef<int64_t> staticShape(const NodeContext &ctx, const Value &value) {
  if (!value.shape) ctx.fail("'{}' has no static shape; pass --input-shape", value.name);
  return *value.shape;
}

llvm::ArrayRef<int64_t> LowerContext::inputShape(size_t index) const {
  return staticShape(*this, inputValue(index));
}
llvm::ArrayRef<int64_t> LowerContext::outputShape(size_t index) const {
  return staticShape(*this, outputValue(index));
}

bool LowerContext::inputIsConstant(size_t index) const {
  return hasInput(index) && inputValue(index).isConstant();
}

const Tensor &LowerContext::constantInput(size_t index) const {
  const Value &value = inputValue(index);
  if (!value.isConstant())
    fail("input '{}' must be a constant for code generation (it is computed at run time)",
         value.name);
  return *value.constant;
}

std::pair<float, float> LowerContext::floatActivationRange() const {
  if (!clamp_) return {-INFINITY, INFINITY};
  return {clamp_->lo, clamp_->hi};
}

std::pair<int32_t, int32_t> LowerContext::int8ActivationRange(const TensorQuant &output) const {
  return int8ActivationRange(clamp_, output);
}

std::pair<int32_t, int32_t>
LowerContext::int8ActivationRange(const std::optional<ActivationClamp> &clamp,
                                  const TensorQuant &output) {
  int32_t lo = -128, hi = 127;
  if (clamp) {
    if (std::isfinite(clamp->lo))
      lo = std::max<int32_t>(
          lo, static_cast<int32_t>(roundHalfAway(clamp->lo / output.scale, -1000, 1000)) +
                  output.zeroPoint);
    if (std::isfinite(clamp->hi))
      hi = std::min<int32_t>(
          hi, static_cast<int32_t>(roundHalfAway(clamp->hi / output.scale, -1000, 1000)) +
                  output.zeroPoint);
    lo = std::clamp(lo, -128, 127);
    hi = std::clamp(hi, lo, 127);
  }
  return {lo, hi};
}

TensorQuant LowerContext::quant(const Value &value) const {
  if (value.quant) {
    const QuantParams &params = *value.quant;
    if (params.scales.size() != 1)
      fail("'{}' is quantised per channel, which this op supports only for weights; "
           "quantise it per tensor",
           value.name);
    return {params.scales[0], params.zeroPoints.empty() ? 0 : params.zeroPoints[0]};
  }
  if (value.isConstant()) {
    // A constant operand of an element-wise op without a rule that annotates it: its own range
    // decides, as annotateConstantOperand would have chosen.
    const ActivationParams params = chooseConstantOperandParams(*value.constant);
    return {params.scale, params.zeroPoint};
  }
  fail("'{}' has no int8 parameters: compile with --calibration, or give a quantised model",
       value.name);
}

namespace {
// Moves axis `channelAxis` of a tensor first: [d0.. dc .. dn] -> [dc, d0.., dn].
template <typename T>
std::vector<T> channelsFirst(const std::vector<T> &data, llvm::ArrayRef<int64_t> shape,
                             int64_t channelAxis) {
  if (channelAxis == 0) return data;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < channelAxis; ++i) outer *= shape[i];
  for (size_t i = channelAxis + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t channels = shape[channelAxis];
  std::vector<T> result(data.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i)
        result[(c * outer + o) * inner + i] = data[(o * channels + c) * inner + i];
  return result;
}
} // namespace

LowerContext::Weights LowerContext::int8Weights(size_t index, int64_t channelAxis) const {
  const Value &value = inputValue(index);
  const Tensor &tensor = constantInput(index);
  const llvm::ArrayRef<int64_t> shape = tensor.shape();
  const std::vector<float> data = channelsFirst(
      tensor.castTo(DType::Float32).values<float>().vec(), shape, channelAxis);
  const int64_t channels = shape[channelAxis];
  const int64_t perChannel = channels == 0 ? 0 : static_cast<int64_t>(data.size()) / channels;
  Weights weights;
  if (value.quant) {
    const QuantParams &params = *value.quant;
    const bool perAxis = params.scales.size() > 1;
    if (perAxis && params.axis != channelAxis)
      fail("weights '{}' are quantised along axis {}, expected the output-channel axis {}; "
           "quantise them per output channel",
           value.name, params.axis, channelAxis);
    for (int32_t zp : params.zeroPoints)
      if (zp != 0)
        fail("weights '{}' have zero point {}; edgesplit needs symmetric int8 weights (zero "
             "point 0); quantise the model again with symmetric weights",
             value.name, zp);
    for (int64_t c = 0; c < channels; ++c)
      weights.scales.push_back(params.scales[perAxis ? c : 0]);
  } else {
    for (double scale : symmetricChannelScales(tensor, channelAxis))
      weights.scales.push_back(static_cast<float>(scale));
  }
  weights.values.resize(data.size());
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < perChannel; ++i)
      weights.values[c * perChannel + i] = static_cast<int8_t>(
          roundHalfAway(data[c * perChannel + i] / weights.scales[c], -127, 127));
  return weights;
}

std::vector<int32_t> LowerContext::int32Bias(size_t index, double inputScale,
                                             llvm::ArrayRef<double> weightScales) const {
  const Tensor &bias = constantInput(index);
  if (static_cast<size_t>(bias.numElements()) != weightScales.size())
    fail("bias '{}' has {} elements for {} output channels; give it one per output channel",
         inputValue(index).name, bias.numElements(), weightScales.size());
  const Tensor quantised = quantizeBias(bias, inputScale, weightScales);
  return quantised.values<int32_t>().vec();
}

std::vector<int8_t> LowerContext::int8Constant(size_t index) const {
  const TensorQuant params = quant(inputValue(index));
  const std::vector<float> data = constantInput(index).castTo(DType::Float32).values<float>().vec();
  std::vector<int8_t> values;
  values.reserve(data.size());
  for (float x : data)
    values.push_back(static_cast<int8_t>(
        roundHalfAway(x / params.scale + params.zeroPoint, -128, 127)));
  return values;
}

std::vector<float> LowerContext::floatWeights(size_t index, int64_t channelAxis) const {
  const Tensor &tensor = constantInput(index);
  return channelsFirst(tensor.castTo(DType::Float32).values<float>().vec(), tensor.shape(),
                       channelAxis);
}

std::vector<float> LowerContext::floatConstant(size_t index) const {
  return constantInput(index).castTo(DType::Float32).values<float>().vec();
}

es_requant_t LowerContext::requant(double factor) const {
  const FixedPointFactor fixed = quantizeMultiplier(factor);
  return {fixed.multiplier, fixed.shift};
}

KernelArg LowerContext::input(size_t index) const {
  const Value &value = inputValue(index);
  if (value.isConstant()) fail("internal error: constant input '{}' passed as activation",
                               value.name);
  KernelArg arg;
  arg.kind = KernelArg::Kind::Input;
  arg.value = &value;
  return arg;
}

KernelArg LowerContext::output(size_t index) const {
  KernelArg arg;
  arg.kind = KernelArg::Kind::Output;
  arg.value = &outputValue(index);
  return arg;
}

KernelArg LowerContext::inputList(llvm::ArrayRef<size_t> indices) const {
  KernelArg arg;
  arg.kind = KernelArg::Kind::InputList;
  for (size_t index : indices) appendToList(arg, input(index));
  return arg;
}

void LowerContext::appendToList(KernelArg &list, const KernelArg &entry) {
  list.values.push_back(entry.kind == KernelArg::Kind::Constant ? nullptr : entry.value);
  list.listConstants.push_back(entry.kind == KernelArg::Kind::Constant ? entry.constant : 0);
}

KernelArg LowerContext::null() { return KernelArg{}; }

KernelArg LowerContext::integer(int64_t value) {
  KernelArg arg;
  arg.kind = KernelArg::Kind::Integer;
  arg.integer = value;
  return arg;
}

KernelArg LowerContext::scratch(int64_t bytes) {
  KernelArg arg;
  arg.kind = KernelArg::Kind::Scratch;
  arg.integer = bytes;
  return arg;
}

namespace {
KernelArg constantArg(size_t index) {
  KernelArg arg;
  arg.kind = KernelArg::Kind::Constant;
  arg.constant = index;
  return arg;
}
std::string requantLiteral(const es_requant_t &value) { return describe(value).str(); }
} // namespace

#define ES_CONSTANT_BUILDER(T, cType, printer)                                                     \
  KernelArg LowerContext::constantArray(const std::string &suffix, std::vector<T> values) {       \
    return constantArg(program_.addConstant<T>(node().name + "_" + suffix, std::move(values),     \
                                               cType, printer));                                   \
  }
ES_CONSTANT_BUILDER(int8_t, "int8_t", [](const int8_t &v) { return cLiteral(v); })
ES_CONSTANT_BUILDER(int16_t, "int16_t",
                    [](const int16_t &v) { return cLiteral(static_cast<int32_t>(v)); })
ES_CONSTANT_BUILDER(int32_t, "int32_t", [](const int32_t &v) { return cLiteral(v); })
ES_CONSTANT_BUILDER(uint32_t, "uint32_t", [](const uint32_t &v) { return cLiteral(v); })
ES_CONSTANT_BUILDER(float, "float", [](const float &v) { return cLiteral(v); })
ES_CONSTANT_BUILDER(es_requant_t, "es_requant_t", requantLiteral)
ES_CONSTANT_BUILDER(es_concat_s8_input_t, "es_concat_s8_input_t",
                    [](const es_concat_s8_input_t &v) { return describe(v).str(); })
#undef ES_CONSTANT_BUILDER

const std::string &LowerContext::constantSymbol(const KernelArg &arg) const {
  return program_.constant(arg.constant).symbol;
}

const void *LowerContext::constantData(const KernelArg &arg) const {
  return program_.constant(arg.constant).storage.get();
}

void LowerContext::callPlain(std::string function, std::vector<KernelArg> args,
                             std::function<void(const KernelArgs &)> invoke,
                             std::string_view kernelClass) {
  KernelCall kernel;
  kernel.function = std::move(function);
  kernel.args = std::move(args);
  kernel.invoke = std::move(invoke);
  add(std::move(kernel), kernelClass);
}

void LowerContext::copy() {
  KernelCall kernel;
  kernel.isCopy = true;
  kernel.args = {input(0), output(0)};
  add(std::move(kernel), "copy");
}

void LowerContext::fakeQuantize(const Value &value) {
  const TensorQuant params = quant(value);
  es_fake_quant_f32_params_t p{static_cast<int32_t>(numElements(*value.shape)),
                               static_cast<float>(params.scale), params.zeroPoint};
  KernelArg inOut;
  inOut.kind = KernelArg::Kind::Input;
  inOut.value = &value;
  KernelArg out = inOut;
  out.kind = KernelArg::Kind::Output;
  call<es_fake_quant_f32_params_t>(
      "es_fake_quant_f32", p, {inOut, out},
      [](const es_fake_quant_f32_params_t &p, const KernelArgs &a) {
        es_fake_quant_f32(&p, a.in<float>(1), a.out<float>(2));
      },
      "elementwise");
  program_.calls.back().result = &value;
  program_.calls.back().macs = 0;
}

void LowerContext::add(KernelCall kernel, std::string_view kernelClass) {
  kernel.node = &node();
  // The first output the node produces: a recurrent layer may leave out Y and keep Y_h.
  const auto produced = llvm::find_if(node().outputs, [](const Value *v) { return v != nullptr; });
  kernel.result = produced == node().outputs.end() ? nullptr : *produced;
  kernel.kernelClass = std::string(kernelClass);
  kernel.macs = node().op && node().op->macs ? node().op->macs(node()) : 0;
  program_.calls.push_back(std::move(kernel));
}

} // namespace edgesplit
