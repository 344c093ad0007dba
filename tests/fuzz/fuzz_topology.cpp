// fuzz_topology: topology JSON through parseTopology and checkTopologyAgainstModel against the HAR
// example's inputs and outputs. The topology "lives" in targets/, so a relative target path in an
// input ("cortex-m4.json") reaches a real target file.
#include "FuzzSupport.h"

#include "frontend/OnnxImporter.h"
#include "partition/Topology.h"

#include <string>
#include <vector>

namespace {

std::vector<std::string> modelInputs, modelOutputs;

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  const auto graph = edgesplit::importOnnxModel(EDGESPLIT_SOURCE_DIR "/examples/har/model.onnx");
  for (const edgesplit::Value *input : graph->inputs) modelInputs.push_back(input->name);
  for (const edgesplit::GraphOutput &output : graph->outputs) modelOutputs.push_back(output.name);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace edgesplit;
  try {
    const Topology topology =
        parseTopology(std::string_view(reinterpret_cast<const char *>(data), size),
                      EDGESPLIT_SOURCE_DIR "/targets/topology.json");
    checkTopologyAgainstModel(topology, modelInputs, modelOutputs);
  } catch (const Error &error) {
    fuzz::expectOneLine(error);
  }
  return 0;
}
