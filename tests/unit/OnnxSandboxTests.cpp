#include "frontend/OnnxSandbox.h"

#include <catch.hpp>
#include <onnx/onnx_pb.h>

#include <csignal>
#include <stdexcept>
#include <string>

using namespace edgesplit;

namespace {

// A chain of `count` Relu nodes named n0, n1, ...
onnx::ModelProto chainModel(int count) {
  onnx::ModelProto model;
  auto *graph = model.mutable_graph();
  graph->set_name("chain");
  for (int i = 0; i < count; ++i) {
    auto *node = graph->add_node();
    node->set_name("n" + std::to_string(i));
    node->set_op_type("Relu");
    node->add_input("v" + std::to_string(i));
    node->add_output("v" + std::to_string(i + 1));
  }
  return model;
}

// Stands for a pass that crashes on one kind of node: it dies with `signal` on reaching a node
// named `culprit`, and renames the graph when it survives.
void crashOn(onnx::ModelProto &model, const std::string &culprit, int signal) {
  for (const auto &node : model.graph().node())
    if (node.name() == culprit) std::raise(signal);
  model.mutable_graph()->set_name("visited");
}

} // namespace

TEST_CASE("runIsolated takes back the model the pass left", "[frontend][sandbox]") {
  onnx::ModelProto model = chainModel(3);
  const IsolatedPassOutcome outcome =
      runIsolated(model, [](onnx::ModelProto &m) { crashOn(m, "absent", SIGSEGV); });
  CHECK_FALSE(outcome.crashed);
  CHECK(model.graph().name() == "visited");
  CHECK(model.graph().node_size() == 3);
}

TEST_CASE("runIsolated rethrows the pass's exception with its message", "[frontend][sandbox]") {
  onnx::ModelProto model = chainModel(2);
  CHECK_THROWS_WITH(runIsolated(model,
                                [](onnx::ModelProto &m) {
                                  m.mutable_graph()->set_name("changed");
                                  throw std::invalid_argument("[ShapeInferenceError] bad dims");
                                }),
                    "[ShapeInferenceError] bad dims");
  CHECK(model.graph().name() == "chain");
}

TEST_CASE("runIsolated survives a crashing pass and finds the node", "[frontend][sandbox]") {
  for (const int culprit : {0, 1, 6, 9, 16}) {
    for (const int signal : {SIGSEGV, SIGFPE, SIGABRT}) {
      CAPTURE(culprit, signal);
      onnx::ModelProto model = chainModel(17);
      const IsolatedPassOutcome outcome = runIsolated(model, [&](onnx::ModelProto &m) {
        crashOn(m, "n" + std::to_string(culprit), signal);
      });
      CHECK(outcome.crashed);
      CHECK(outcome.signal == signal);
      CHECK(outcome.crashingNode == culprit);
      // The model is as it was: nothing of the crashed run comes back.
      CHECK(model.graph().name() == "chain");
      CHECK(model.graph().node_size() == 17);
    }
  }
}

TEST_CASE("runIsolated names no node when the graph alone crashes the pass",
          "[frontend][sandbox]") {
  onnx::ModelProto model = chainModel(4);
  const IsolatedPassOutcome outcome = runIsolated(model, [](onnx::ModelProto &m) {
    if (m.graph().name() == "chain") std::raise(SIGBUS);
  });
  CHECK(outcome.crashed);
  CHECK(outcome.signal == SIGBUS);
  CHECK(outcome.crashingNode == -1);
}
