// Graph -> ONNX model: writes the IR back as a standard model (constants as initialisers, static
// shapes as value infos), so other tools can run what edgesplit transformed — onnxruntime as an
// independent check, or a person with Netron.
#pragma once

#include "ir/Graph.h"

#include <filesystem>

namespace onnx {
class ModelProto;
}

namespace edgesplit {

onnx::ModelProto exportOnnxModel(const Graph &graph);
// exportOnnxModel(graph) serialised: the bytes of a .onnx file.
std::string onnxModelBytes(const Graph &graph);
// Serialises exportOnnxModel(graph); fails with a message naming `path` when it cannot write.
void saveOnnxModel(const Graph &graph, const std::filesystem::path &path);

} // namespace edgesplit
