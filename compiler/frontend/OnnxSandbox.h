// Runs one of ONNX's own passes (shape inference, the version converter) over a model in a child
// process. They trust attribute values in places (ONNX 1.12's LayerNormalization inference indexes
// dimensions by an unchecked axis), so a malformed or hostile model can crash them; in a child the
// crash becomes an answer the importer turns into an error that names the node.
#pragma once

#include <onnx/onnx_pb.h>

#include <llvm/ADT/STLFunctionalExtras.h>

namespace edgesplit {

struct IsolatedPassOutcome {
  bool crashed = false;
  int signal = 0; // what ended the child, when a signal did
  // The first node whose presence makes the pass crash (the pass run over ever shorter prefixes
  // of the node list), or -1 when even the node-less graph crashes it.
  int crashingNode = -1;
};

// Applies `pass` to `model` in a child process and, unless it crashed, replaces `model` by what
// the pass left. An exception the pass throws is rethrown here as std::runtime_error with the same
// message. Where no child can be started the pass runs in this process.
IsolatedPassOutcome runIsolated(onnx::ModelProto &model,
                                llvm::function_ref<void(onnx::ModelProto &)> pass);

} // namespace edgesplit
