#include "frontend/TensorProto.h"

#include "ir/Limits.h"
#include "support/Error.h"

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/StringRef.h>
#include <onnx/onnx_pb.h>

#include <fstream>
#include <sstream>

namespace edgesplit {

namespace {

int64_t externalDataNumber(const std::string &text, std::string_view key,
                           const std::string &context) {
  int64_t value = 0;
  if (llvm::StringRef(text).getAsInteger(10, value) || value < 0)
    fail("{}: external data '{}' is '{}'; expected a non-negative integer", context, key, text);
  return value;
}

// The location is untrusted: it must name a regular file inside the model's folder (no absolute
// path, no "..": a model must not read /etc/passwd or block on a FIFO), and the byte range must
// lie inside it. `expectedBytes` is what the tensor's shape needs.
std::string readExternalData(const onnx::TensorProto &proto, const std::filesystem::path &baseDir,
                             int64_t expectedBytes, const std::string &context) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : proto.external_data()) {
    if (entry.key() == "location") location = entry.value();
    else if (entry.key() == "offset") offset = externalDataNumber(entry.value(), "offset", context);
    else if (entry.key() == "length") length = externalDataNumber(entry.value(), "length", context);
  }
  if (location.empty())
    fail("{}: external data without a location; re-export the model with its data", context);
  const std::filesystem::path relative(location);
  if (relative.is_absolute() ||
      llvm::any_of(relative, [](const std::filesystem::path &part) { return part == ".."; }))
    fail("{}: external data location '{}' leaves the model's folder; keep the data file next "
         "to the model and give its relative path",
         context, location);
  const std::filesystem::path file = baseDir / relative;
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error))
    fail("{}: cannot open external data file '{}'{}; keep it next to the model", context,
         file.string(), std::filesystem::exists(file, error) ? " (not a regular file)" : "");
  const int64_t fileSize = static_cast<int64_t>(std::filesystem::file_size(file, error));
  if (length < 0) length = fileSize > offset ? fileSize - offset : 0;
  if (offset > fileSize || length > fileSize - offset)
    fail("{}: external data range of {} bytes at offset {} is outside '{}' ({} bytes); the data "
         "file is truncated or belongs to another model",
         context, length, offset, file.string(), fileSize);
  if (length != expectedBytes)
    fail("{}: external data holds {} bytes, the tensor's shape needs {}; re-export the model",
         context, length, expectedBytes);
  std::ifstream stream(file, std::ios::binary);
  if (!stream)
    fail("{}: cannot read external data file '{}'; check its permissions", context, file.string());
  std::string bytes(static_cast<size_t>(length), '\0');
  stream.seekg(offset);
  stream.read(bytes.data(), length);
  if (stream.gcount() != length)
    fail("{}: external data file '{}' ended early; copy it again, it is truncated", context,
         file.string());
  return bytes;
}

// The field's size was checked against the shape before the tensor was allocated.
template <typename T, typename Field> void copyTypedField(Tensor &tensor, const Field &field) {
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
  const Shape shape(proto.dims().begin(), proto.dims().end());
  // Sizes are checked before anything is allocated: a model may declare dims of 2^40 and carry
  // four bytes of data.
  checkTensorLimits(*dtype, shape, context);
  const int64_t elements = numElements(shape);
  const int64_t bytes = elements * static_cast<int64_t>(dtypeSize(*dtype));

  std::string external;
  const std::string *raw = nullptr;
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    external = readExternalData(proto, baseDir, bytes, context);
    raw = &external;
  } else if (proto.has_raw_data()) {
    raw = &proto.raw_data();
  }
  if (raw) {
    if (static_cast<int64_t>(raw->size()) != bytes)
      fail("{}: holds {} bytes, shape {} of {} needs {}; re-export the model (its data is cut "
           "short or mislabelled)",
           context, raw->size(), formatShape(shape), dtypeName(*dtype), bytes);
    Tensor tensor(*dtype, shape);
    if (!raw->empty()) // an empty tensor has no storage to copy into
      std::memcpy(tensor.rawData(), raw->data(), raw->size()); // ONNX raw data is little-endian
    return tensor;
  }
  const int typedValues = dispatchDType(*dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, float>) return proto.float_data_size();
    else if constexpr (std::is_same_v<T, double>) return proto.double_data_size();
    else if constexpr (std::is_same_v<T, int64_t>) return proto.int64_data_size();
    else if constexpr (std::is_same_v<T, uint32_t> || std::is_same_v<T, uint64_t>)
      return proto.uint64_data_size();
    else return proto.int32_data_size();
  });
  if (typedValues != elements)
    fail("{}: holds {} values, shape {} of {} needs {}; re-export the model (its data is cut "
         "short or mislabelled)",
         context, typedValues, formatShape(shape), dtypeName(*dtype), elements);
  Tensor tensor(*dtype, shape);
  if (tensor.numElements() == 0) return tensor;
  dispatchDType(*dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, float>) copyTypedField<T>(tensor, proto.float_data());
    else if constexpr (std::is_same_v<T, double>)
      copyTypedField<T>(tensor, proto.double_data());
    else if constexpr (std::is_same_v<T, int64_t>)
      copyTypedField<T>(tensor, proto.int64_data());
    else if constexpr (std::is_same_v<T, uint32_t> || std::is_same_v<T, uint64_t>)
      copyTypedField<T>(tensor, proto.uint64_data());
    else // int8/16/32, uint8/16, bool, float16 and bfloat16 bits all live in int32_data
      copyTypedField<T>(tensor, proto.int32_data());
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
