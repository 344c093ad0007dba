// fuzz_npy: the same bytes as an .npy (parseNpy, what readNpy and every --input use) and as an .npz
// archive (readNpz, what --calibration uses). An array that reads must survive writing it back.
#include "FuzzSupport.h"

#include "support/Npy.h"

namespace {

void expectRoundTrip(const edgesplit::Tensor &tensor) {
  const edgesplit::Tensor again = edgesplit::parseNpy(edgesplit::serializeNpy(tensor), "round trip");
  if (!(again == tensor)) {
    std::fprintf(stderr, "fuzz: an array read from .npy changed when written back and re-read\n");
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace edgesplit;
  try {
    expectRoundTrip(parseNpy(std::string(reinterpret_cast<const char *>(data), size), "fuzz.npy"));
  } catch (const Error &error) {
    fuzz::expectOneLine(error);
  }
  static fuzz::ScratchFile archive("fuzz.npz");
  archive.write(data, size);
  try {
    for (const auto &[name, tensor] : readNpz(archive.path())) expectRoundTrip(tensor);
  } catch (const Error &error) {
    fuzz::expectOneLine(error);
  }
  return 0;
}
