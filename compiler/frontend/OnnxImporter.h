// ONNX model file -> Graph. Runs the official checker and ONNX shape inference, fixes symbolic
// dimensions of the inputs, and resolves every node against the op registry (unsupported ops are
// kept, with op == nullptr, so `inspect` can list them; later stages reject them).
#pragma once

#include "ir/Graph.h"

#include <llvm/ADT/StringMap.h>

#include <filesystem>
#include <memory>

namespace edgesplit {

struct ImportOptions {
  // --input-shape NAME=1x3x32x32: replaces the declared shape of a model input.
  llvm::StringMap<Shape> inputShapes;
  // When above the model's opset: the model is converted to it first (compile --emit-qdq writes
  // opset 13, the first with per-axis QuantizeLinear/DequantizeLinear).
  int upgradeToOpset = 0;
};

std::unique_ptr<Graph> importOnnxModel(const std::filesystem::path &path,
                                       const ImportOptions &options = {});

// Parses "1x3x32x32" (used by --input-shape); throws UsageError on malformed text.
Shape parseShapeText(llvm::StringRef text);

} // namespace edgesplit
