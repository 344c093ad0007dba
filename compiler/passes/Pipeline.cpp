#include "passes/Passes.h"

namespace edgesplit {

void normalizeGraph(Graph &graph, const NormalizeOptions &options) {
  struct Step {
    std::string_view name;
    void (*run)(Graph &);
  };
  static constexpr Step kSteps[] = {
      {"constants-to-initializers", constantsToInitializers},
      {"remove-identities", removeIdentities},
      {"infer-shapes", inferShapes},
      {"sum-mean-to-adds", sumMeanToAdds},
      {"fold-constants", foldConstants},
      {"min-max-to-clip", minMaxToClip},
      {"sink-transposes", sinkTransposes},
      {"fold-batchnorm", foldBatchNorm},
      {"fold-channel-affine", foldChannelAffine},
      {"expand-depth-to-space", expandDepthToSpace},
      {"fold-layer-normalization", foldLayerNormalization},
      {"split-wide-transposes", splitWideTransposes},
      {"remove-cast-round-trips", removeCastRoundTrips},
      {"tiles-to-concats", tilesToConcats},
      {"remove-dead-nodes", removeDeadNodes},
  };
  for (const Step &step : kSteps) {
    step.run(graph);
    verifyGraph(graph, options.verify, step.name);
  }
}

} // namespace edgesplit
