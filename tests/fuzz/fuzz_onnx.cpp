// fuzz_onnx: protobuf bytes through the model loading every command uses (cli::loadModel: parse,
// ONNX checker and shape inference, import, our shape inference and normalisation), strictly as
// compile/run/reference do and, when that refuses the model, leniently as inspect does.
#include "FuzzSupport.h"

#include "cli/Common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace edgesplit;
  static fuzz::ScratchFile model("model.onnx");
  model.write(data, size);
  for (const bool allowUnsupported : {false, true}) {
    try {
      cli::loadModel(model.path(), {}, allowUnsupported);
      return 0;
    } catch (const Error &error) {
      fuzz::expectOneLine(error);
    }
  }
  return 0;
}
