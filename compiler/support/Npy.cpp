#include "support/Npy.h"

#include "ir/Limits.h"
#include "support/Error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <llvm/ADT/StringRef.h>
#include <zip.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace edgesplit {

namespace {

constexpr char kMagic[] = "\x93NUMPY";

std::optional<DType> dtypeFromDescr(std::string_view descr) {
  if (descr.size() < 2) return std::nullopt;
  const char order = descr[0];
  const std::string_view code = descr.substr(1);
  const bool singleByte = code == "i1" || code == "u1" || code == "b1";
  if (order == '>' || (order == '|' && !singleByte) || (order != '<' && order != '|' && order != '='))
    return std::nullopt; // big-endian or unknown
  if (code == "f4") return DType::Float32;
  if (code == "f8") return DType::Float64;
  if (code == "f2") return DType::Float16;
  if (code == "i1") return DType::Int8;
  if (code == "i2") return DType::Int16;
  if (code == "i4") return DType::Int32;
  if (code == "i8") return DType::Int64;
  if (code == "u1") return DType::UInt8;
  if (code == "u2") return DType::UInt16;
  if (code == "u4") return DType::UInt32;
  if (code == "u8") return DType::UInt64;
  if (code == "b1") return DType::Bool;
  return std::nullopt;
}

std::string descrOf(DType type) {
  switch (type) {
  case DType::Float32: return "<f4";
  case DType::Float64: return "<f8";
  case DType::Float16: return "<f2";
  case DType::Int8: return "|i1";
  case DType::Int16: return "<i2";
  case DType::Int32: return "<i4";
  case DType::Int64: return "<i8";
  case DType::UInt8: return "|u1";
  case DType::UInt16: return "<u2";
  case DType::UInt32: return "<u4";
  case DType::UInt64: return "<u8";
  case DType::Bool: return "|b1";
  default:
    fail("internal error: cannot write {} data to .npy", dtypeName(type));
  }
}

// numpy writes headers of a few hundred bytes and refuses to read ones above 10000 (its
// max_header_size); the regexes below need not scan more.
constexpr size_t kMaxHeaderBytes = 10000;

std::string readFile(const std::filesystem::path &path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error))
    fail("{}: cannot open the file; check the path", path.string());
  // A folder, FIFO or device would read as garbage or never end.
  if (!std::filesystem::is_regular_file(path, error))
    fail("{}: is not a regular file; give the path of a .npy file", path.string());
  if (std::filesystem::file_size(path, error) >
      static_cast<uintmax_t>(maxTensorBytes()) + kMaxHeaderBytes + 12)
    fail("{}: is larger than the limit of {} bytes per tensor; pass --max-tensor-bytes to raise "
         "it if the size is intended",
         path.string(), maxTensorBytes());
  std::ifstream stream(path, std::ios::binary);
  if (!stream) fail("{}: cannot open the file; check the path", path.string());
  std::stringstream buffer;
  buffer << stream.rdbuf();
  return buffer.str();
}

} // namespace

Tensor parseNpy(const std::string &bytes, const std::string &context) {
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0)
    fail("{}: not a .npy file (bad magic); save it with numpy.save", context);
  const int major = static_cast<uint8_t>(bytes[6]);
  size_t headerLength = 0, headerStart = 0;
  if (major == 1) {
    headerLength = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      fail("{}: truncated .npy header; save the array again with numpy.save", context);
    for (int i = 0; i < 4; ++i) headerLength |= size_t(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    headerStart = 12;
  } else {
    fail("{}: unsupported .npy format version {}; save the array with numpy.save", context, major);
  }
  if (headerLength > kMaxHeaderBytes)
    fail("{}: .npy header of {} bytes is longer than {}; save the array with numpy.save", context,
         headerLength, kMaxHeaderBytes);
  if (headerStart + headerLength > bytes.size())
    fail("{}: truncated .npy header; save the array again with numpy.save", context);
  const std::string header = bytes.substr(headerStart, headerLength);

  std::smatch match;
  static const std::regex descrRe(R"('descr'\s*:\s*'([^']*)')");
  static const std::regex orderRe(R"('fortran_order'\s*:\s*(True|False))");
  static const std::regex shapeRe(R"('shape'\s*:\s*\(([^)]*)\))");
  if (!std::regex_search(header, match, descrRe))
    fail("{}: .npy header has no descr; save the array with numpy.save", context);
  const std::string descr = match[1];
  const auto dtype = dtypeFromDescr(descr);
  if (!dtype)
    fail("{}: array type '{}' is not supported; use little-endian float32, float64, float16, bool "
         "or an integer type",
         context, descr);
  if (!std::regex_search(header, match, orderRe))
    fail("{}: .npy header has no fortran_order; save the array with numpy.save", context);
  if (match[1] == "True")
    fail("{}: array is in Fortran order; save numpy.ascontiguousarray(a) instead", context);
  if (!std::regex_search(header, match, shapeRe))
    fail("{}: .npy header has no shape; save the array with numpy.save", context);
  Shape shape;
  std::stringstream dims(match[1]);
  std::string dim;
  while (std::getline(dims, dim, ',')) {
    const auto first = dim.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    int64_t value = 0;
    if (llvm::StringRef(dim).trim().getAsInteger(10, value) || value < 0)
      fail("{}: bad dimension '{}' in .npy shape; save the array with numpy.save", context, dim);
    shape.push_back(value);
  }
  // The header may promise far more than the file holds: compare before allocating.
  checkTensorLimits(*dtype, shape, context);
  const size_t needed = static_cast<size_t>(numElements(shape)) * dtypeSize(*dtype);
  const size_t dataStart = headerStart + headerLength;
  if (bytes.size() - dataStart != needed)
    fail("{}: holds {} data bytes, shape {} of {} needs {}; the file is cut short, save the "
         "array again",
         context, bytes.size() - dataStart, formatShape(shape), dtypeName(*dtype), needed);
  Tensor tensor(*dtype, shape);
  if (needed > 0) std::memcpy(tensor.rawData(), bytes.data() + dataStart, needed);
  return tensor;
}

Tensor readNpy(const std::filesystem::path &path) { return parseNpy(readFile(path), path.string()); }

std::string serializeNpy(const Tensor &tensor) {
  // numpy's tuple syntax: "()", "(4,)", "(2, 3)".
  std::string shape = fmt::format("{}", fmt::join(tensor.shape().begin(), tensor.shape().end(), ", "));
  if (tensor.rank() == 1) shape += ",";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}",
                                   descrOf(tensor.dtype()), shape);
  // Pad so the data starts at a multiple of 64 bytes, header ends with '\n' (format 1.0).
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string bytes(kMagic, 6);
  bytes.push_back('\x01');
  bytes.push_back('\x00');
  bytes.push_back(static_cast<char>(header.size() & 0xff));
  bytes.push_back(static_cast<char>(header.size() >> 8));
  bytes += header;
  bytes.append(reinterpret_cast<const char *>(tensor.rawData()), tensor.byteSize());
  return bytes;
}

void writeNpy(const std::filesystem::path &path, const Tensor &tensor) {
  std::ofstream stream(path, std::ios::binary);
  const std::string bytes = serializeNpy(tensor);
  stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!stream)
    fail("{}: cannot write; check the folder's permissions and free space", path.string());
}

std::vector<std::pair<std::string, Tensor>> readNpz(const std::filesystem::path &path) {
  int errorCode = 0;
  zip_t *archive = zip_open(path.c_str(), ZIP_RDONLY, &errorCode);
  if (!archive) {
    if (!std::filesystem::exists(path)) fail("{}: cannot open the file; check the path", path.string());
    fail("{}: not a valid .npz (zip) archive; save it with numpy.savez", path.string());
  }
  std::vector<std::pair<std::string, Tensor>> arrays;
  try {
    const zip_int64_t count = zip_get_num_entries(archive, 0);
    for (zip_int64_t i = 0; i < count; ++i) {
      zip_stat_t stat;
      if (zip_stat_index(archive, i, 0, &stat) != 0 ||
          (stat.valid & (ZIP_STAT_NAME | ZIP_STAT_SIZE)) != (ZIP_STAT_NAME | ZIP_STAT_SIZE))
        fail("{}: unreadable entry {}; save the archive again with numpy.savez", path.string(), i);
      std::string name = stat.name;
      if (!llvm::StringRef(name).endswith(".npy")) continue;
      // The size comes from the archive's directory: a few bytes can claim gigabytes.
      if (stat.size > static_cast<zip_uint64_t>(maxTensorBytes()) + kMaxHeaderBytes + 12)
        fail("{}: entry '{}' is {} bytes, larger than the limit of {} bytes per tensor; pass "
             "--max-tensor-bytes to raise it if the size is intended",
             path.string(), name, stat.size, maxTensorBytes());
      zip_file_t *file = zip_fopen_index(archive, i, 0);
      if (!file)
        fail("{}: cannot read entry '{}'; save the archive again with numpy.savez", path.string(),
             name);
      std::string bytes(stat.size, '\0');
      const zip_int64_t read = zip_fread(file, bytes.data(), stat.size);
      zip_fclose(file);
      if (read != static_cast<zip_int64_t>(stat.size))
        fail("{}: entry '{}' is truncated; save the archive again with numpy.savez", path.string(),
             name);
      name.resize(name.size() - 4);
      arrays.emplace_back(name, parseNpy(bytes, fmt::format("{}:{}", path.string(), name)));
    }
  } catch (...) {
    zip_close(archive);
    throw;
  }
  zip_close(archive);
  return arrays;
}

std::string sanitizeFileName(std::string_view name) {
  std::string result(name);
  for (char &c : result) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    if (!keep) c = '_';
  }
  return result;
}

} // namespace edgesplit
