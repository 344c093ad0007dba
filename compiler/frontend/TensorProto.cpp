#include "frontend/TensorProto.h"

#include "support/Error.h"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <sstream>

namespace edgesplit {

namespace {

std::string readExternalData(const onnx::TensorProto &proto, const std::filesystem::path &baseDir,
                             const std::string &context) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : proto.external_data()) {
    if (entry.key() == "location") location = entry.value();
    else if (entry.key() == "offset") offset = std::stoll(entry.value());
    else if (entry.key() == "length") length = std::stoll(entry.value());
  }
  if (location.empty()) fail("{}: external data without a location", context);
  const std::filesystem::path file = baseDir / location;
  std::ifstream stream(file, std::ios::binary);
  if (!stream)
    fail("{}: cannot open external data file '{}'; keep it next to the model", context,
         file.string());
  stream.seekg(0, std::ios::end);
  const int64_t fileSize = stream.tellg();
  if (length < 0) length = fileSize - offset;
  if (offset < 0 || offset + length > fileSize)
    fail("{}: external data range [{}, {}) is outside '{}' ({} bytes)", context, offset,
         offset + length, file.string(), fileSize);
  std::string bytes(static_cast<size_t>(length), '\0');
  stream.seekg(offset);
  stream.read(bytes.data(), length);
  return bytes;
}

template <typename T, typename Field>
void copyTypedField(Tensor &tensor, const Field &field, const std::string &context) {
  if (static_cast<int64_t>(field.size()) != tensor.numElements())
    fail("{}: has {} values for shape {}", context, field.size(), formatShape(tensor.shape()));
  T *out = reinterpret_cast<T *>(tensor.rawData());
  for (int i = 0; i < field.size(); ++i) {
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
      out[i] = T{static_cast<uint16_t>(field.Get(i))};
    else
      out[i] = static_cast<T>(field.Get(i));
  }
}

} // namespace

Tensor tensorFromProto(const onnx::TensorProto &proto, const std::filesystem::path &baseDir,
                       const std::string &context) {
  const auto dtype = dtypeFromOnnx(proto.data_type());
  if (!dtype)
    fail("{}: element type {} is not supported (use float, double, float16 or an integer type)",
         context, proto.data_type());
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t dim : shape)
    if (dim < 0) fail("{}: negative dimension in {}", context, formatShape(shape));
  Tensor tensor(*dtype, shape);

  std::string external;
  const std::string *raw = nullptr;
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    external = readExternalData(proto, baseDir, context);
    raw = &external;
  } else if (proto.has_raw_data()) {
    raw = &proto.raw_data();
  }
  if (raw) {
    if (raw->size() != tensor.byteSize())
      fail("{}: holds {} bytes, shape {} of {} needs {}", context, raw->size(),
           formatShape(shape), dtypeName(*dtype), tensor.byteSize());
    if (!raw->empty()) // an empty tensor has no storage to copy into
      std::memcpy(tensor.rawData(), raw->data(), raw->size()); // ONNX raw data is little-endian
    return tensor;
  }
  if (tensor.numElements() == 0) return tensor;
  dispatchDType(*dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, float>) copyTypedField<T>(tensor, proto.float_data(), context);
    else if constexpr (std::is_same_v<T, double>)
      copyTypedField<T>(tensor, proto.double_data(), context);
    else if constexpr (std::is_same_v<T, int64_t>)
      copyTypedField<T>(tensor, proto.int64_data(), context);
    else if constexpr (std::is_same_v<T, uint32_t> || std::is_same_v<T, uint64_t>)
      copyTypedField<T>(tensor, proto.uint64_data(), context);
    else // int8/16/32, uint8/16, bool, float16 and bfloat16 bits all live in int32_data
      copyTypedField<T>(tensor, proto.int32_data(), context);
  });
  return tensor;
}

Tensor loadTensorProtoFile(const std::filesystem::path &path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) fail("cannot open '{}'; check the path", path.string());
  onnx::TensorProto proto;
  if (!proto.ParseFromIstream(&stream))
    fail("'{}' is not a serialized onnx.TensorProto", path.string());
  return tensorFromProto(proto, path.parent_path(), path.string());
}

} // namespace edgesplit
