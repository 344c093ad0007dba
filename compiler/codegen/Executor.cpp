#include "codegen/Executor.h"

#include "support/Error.h"

#include <algorithm>
#include <cmath>
#include <cstring>

// The rescaling rule of the runtime-c kernels linked into the compiler, which are built with
// ES_S8_ROUNDING_AT_RUN_TIME (runtime-c/src/s8_rounding.h).
extern "C" int es_s8_single_rounding;

namespace edgesplit {

namespace {
// Sets the kernels' rounding rule for one run, restoring the previous one after it.
class ScopedS8Rounding {
public:
  explicit ScopedS8Rounding(S8Rounding rounding) : saved_(es_s8_single_rounding) {
    es_s8_single_rounding = rounding == S8Rounding::Single;
  }
  ~ScopedS8Rounding() { es_s8_single_rounding = saved_; }
  ScopedS8Rounding(const ScopedS8Rounding &) = delete;
  ScopedS8Rounding &operator=(const ScopedS8Rounding &) = delete;

private:
  int saved_;
};
} // namespace

int8_t quantizeInputValue(float value, float scale, int32_t zeroPoint) {
  float scaled = value / scale;
  if (std::isnan(scaled)) scaled = 0.0f;
  scaled = std::clamp(scaled, -512.0f, 512.0f);
  const long q = std::lround(scaled) + zeroPoint;
  return static_cast<int8_t>(std::clamp<long>(q, -128, 127));
}

float dequantizeOutputValue(int8_t value, float scale, int32_t zeroPoint) {
  return static_cast<float>(static_cast<int32_t>(value) - zeroPoint) * scale;
}

std::vector<uint8_t> &Executor::buffer(const Value *value) {
  auto &bytes = buffers_[value];
  const size_t size = static_cast<size_t>(numElements(*value->shape) *
                                          elementBytes(program_.precision));
  if (bytes.size() != size) bytes.assign(size, 0);
  return bytes;
}

std::vector<std::vector<uint8_t>>
Executor::runRaw(const std::vector<std::vector<uint8_t>> &inputs) {
  if (inputs.size() != program_.inputs.size())
    fail("internal error: {} inputs given, the program has {}", inputs.size(),
         program_.inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<uint8_t> &bytes = buffer(program_.inputs[i].value);
    if (inputs[i].size() != bytes.size())
      fail("internal error: input '{}' has {} bytes, expected {}", program_.inputs[i].name,
           inputs[i].size(), bytes.size());
    bytes = inputs[i];
  }
  const ScopedS8Rounding rounding(program_.rounding);
  for (const KernelCall &call : program_.calls) {
    if (call.isCopy) {
      const std::vector<uint8_t> source = buffer(call.args[0].value);
      buffer(call.args[1].value) = source;
      continue;
    }
    std::vector<void *> pointers;
    std::vector<std::vector<const void *>> lists;
    lists.reserve(call.args.size());
    // int64 elements: aligned for any kernel's scratch.
    std::vector<std::vector<int64_t>> scratch;
    scratch.reserve(call.args.size());
    for (const KernelArg &arg : call.args) {
      switch (arg.kind) {
      case KernelArg::Kind::Params: pointers.push_back(nullptr); break; // the invoke holds it
      case KernelArg::Kind::Constant:
        pointers.push_back(const_cast<void *>(program_.constant(arg.constant).storage.get()));
        break;
      case KernelArg::Kind::Input:
      case KernelArg::Kind::Output: pointers.push_back(buffer(arg.value).data()); break;
      case KernelArg::Kind::InputList: {
        lists.emplace_back();
        for (size_t k = 0; k < arg.values.size(); ++k)
          lists.back().push_back(
              arg.values[k] ? buffer(arg.values[k]).data()
                            : program_.constant(arg.listConstants[k]).storage.get());
        pointers.push_back(lists.back().data());
        break;
      }
      case KernelArg::Kind::Scratch:
        scratch.emplace_back(static_cast<size_t>((arg.integer + 7) / 8));
        pointers.push_back(scratch.back().data());
        break;
      case KernelArg::Kind::Null:
      case KernelArg::Kind::Integer: pointers.push_back(nullptr); break;
      }
    }
    call.invoke(KernelArgs(pointers));
  }
  std::vector<std::vector<uint8_t>> outputs;
  for (const ProgramPort &port : program_.outputs) outputs.push_back(buffer(port.value));
  return outputs;
}

std::vector<std::vector<uint8_t>> Executor::quantizeInputs(llvm::ArrayRef<Tensor> inputs) const {
  std::vector<std::vector<uint8_t>> raw;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ProgramPort &port = program_.inputs[i];
    const std::vector<float> values = inputs[i].castTo(DType::Float32).values<float>().vec();
    std::vector<uint8_t> bytes;
    if (program_.precision == Precision::Int8) {
      for (float value : values)
        bytes.push_back(static_cast<uint8_t>(quantizeInputValue(value, port.scale, port.zeroPoint)));
    } else {
      bytes.resize(values.size() * sizeof(float));
      std::memcpy(bytes.data(), values.data(), bytes.size());
    }
    raw.push_back(std::move(bytes));
  }
  return raw;
}

std::vector<Tensor> Executor::dequantizeOutputs(const std::vector<std::vector<uint8_t>> &raw) const {
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < raw.size(); ++i) {
    const ProgramPort &port = program_.outputs[i];
    Tensor tensor(DType::Float32, port.shape);
    float *data = tensor.data<float>();
    const size_t count = static_cast<size_t>(numElements(port.shape));
    if (program_.precision == Precision::Int8) {
      for (size_t k = 0; k < count; ++k)
        data[k] = dequantizeOutputValue(static_cast<int8_t>(raw[i][k]), port.scale, port.zeroPoint);
    } else {
      std::memcpy(data, raw[i].data(), count * sizeof(float));
    }
    outputs.push_back(std::move(tensor));
  }
  return outputs;
}

} // namespace edgesplit
