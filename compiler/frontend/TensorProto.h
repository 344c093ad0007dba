// onnx.TensorProto <-> Tensor. Kept apart from the importer so tests and tools can read the
// ONNX test-data files (input_0.pb / output_0.pb) too.
#pragma once

#include "ir/Tensor.h"

#include <filesystem>
#include <string>

namespace onnx {
class TensorProto;
}

namespace edgesplit {

// `baseDir` resolves external data locations; `context` prefixes error messages.
Tensor tensorFromProto(const onnx::TensorProto &proto, const std::filesystem::path &baseDir,
                       const std::string &context);
// Reads a serialized TensorProto file.
Tensor loadTensorProtoFile(const std::filesystem::path &path);

} // namespace edgesplit
