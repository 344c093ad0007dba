#include "frontend/OnnxImporter.h"

#include "frontend/OnnxSandbox.h"
#include "frontend/TensorProto.h"
#include "ir/Limits.h"
#include "ops/OpDef.h"
#include "support/Error.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/Support/ConvertUTF.h>

#include <fmt/ranges.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace edgesplit {

namespace {

// ONNX node tests stamp a model with the newest version of its op, so ops unchanged since opset 1
// (GlobalAveragePool, ...) come as opset-1 models; each op handles the versions it has.
constexpr int kMinOpset = 1;
constexpr int kMaxOpset = 17;

std::string firstLine(const std::string &text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

// Protobuf refuses messages of 2 GiB and more; larger weights belong in external data.
constexpr int64_t kMaxModelFileBytes = (int64_t(1) << 31) - 1;

onnx::ModelProto readModel(const std::filesystem::path &path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status))
    fail("{}: cannot open the model: no such file; check the path", path.string());
  // A folder, FIFO or device would read as garbage or never end.
  if (!fs::is_regular_file(status))
    fail("{}: is not a regular file; give the path of an .onnx file", path.string());
  const auto size = static_cast<int64_t>(fs::file_size(path, error));
  if (size == 0) fail("{}: the file is empty; re-export the model", path.string());
  if (size > kMaxModelFileBytes)
    fail("{}: is {} bytes, more than the 2 GiB a protobuf file can hold; save the weights as "
         "external data",
         path.string(), size);
  std::ifstream stream(path, std::ios::binary);
  if (!stream)
    fail("{}: cannot open the model: permission denied; make the file readable", path.string());
  std::stringstream buffer;
  buffer << stream.rdbuf();
  onnx::ModelProto model;
  if (!model.ParseFromString(buffer.str()) || !model.has_graph())
    fail("{}: not a valid ONNX model (protobuf parse failed); re-export the model or check the "
         "file is not truncated",
         path.string());
  return model;
}

// A node's name as the IR will call it: unnamed nodes are "<op>_<index>".
std::string nodeDisplayName(const onnx::NodeProto &node, int index) {
  return node.name().empty() ? fmt::format("{}_{}", node.op_type(), index) : node.name();
}

std::string describeNode(const onnx::NodeProto &node, int index) {
  return fmt::format("node '{}' ({})", nodeDisplayName(node, index), node.op_type());
}

constexpr std::string_view kReexportFix =
    "check the node against the ONNX operator's definition and re-export the model";

// Runs one of ONNX's passes in a child process (frontend/OnnxSandbox.h): a crash there is an error
// that names the node it crashed on; `fix` says what to do. The pass's own exceptions go on.
void runOnnxPass(onnx::ModelProto &model, std::string_view passName, std::string_view fix,
                 const std::string &modelName, llvm::function_ref<void(onnx::ModelProto &)> pass) {
  const IsolatedPassOutcome outcome = runIsolated(model, pass);
  if (!outcome.crashed) return;
  const std::string how =
      outcome.signal != 0 ? fmt::format(" ({})", ::strsignal(outcome.signal)) : std::string();
  if (outcome.crashingNode < 0)
    fail("{}: {} crashed on the model{}; {}", modelName, passName, how, fix);
  fail("{}: {}: {} crashed on this node{}: its attributes or inputs lie outside the operator's "
       "definition; {}",
       modelName, describeNode(model.graph().node(outcome.crashingNode), outcome.crashingNode),
       passName, how, fix);
}

// Bytes outside printable UTF-8 shown as \xNN, so the message naming them stays one clean line.
std::string escapeName(std::string_view name) {
  std::string escaped;
  for (unsigned char c : name) {
    if (c >= 0x20 && c < 0x7f && c != '\\') escaped += static_cast<char>(c);
    else escaped += fmt::format("\\x{:02x}", c);
  }
  return escaped;
}

bool isPrintableUtf8(std::string_view text) {
  const auto *begin = reinterpret_cast<const llvm::UTF8 *>(text.data());
  if (!llvm::isLegalUTF8String(&begin, begin + text.size())) return false;
  return llvm::none_of(text, [](char c) { return (c >= 0 && c < 0x20) || c == 0x7f; });
}

// Names reach error messages, JSON reports and comments in the generated C: each must be UTF-8
// text without control characters (a newline would split a one-line error in two).
void checkNames(const onnx::ModelProto &model, const std::string &modelName) {
  auto check = [&](std::string_view what, const std::string &name) {
    if (!isPrintableUtf8(name))
      fail("{}: {} '{}' is not printable UTF-8 text (invalid bytes or control characters); "
           "rename it in the model",
           modelName, what, escapeName(name));
  };
  check("producer name", model.producer_name());
  check("producer version", model.producer_version());
  for (const auto &import : model.opset_import()) check("opset domain", import.domain());
  const onnx::GraphProto &graph = model.graph();
  check("graph name", graph.name());
  for (const auto &initializer : graph.initializer()) check("initializer name", initializer.name());
  for (const auto *infos : {&graph.input(), &graph.output(), &graph.value_info()})
    for (const auto &info : *infos) check("tensor name", info.name());
  for (const auto &node : graph.node()) {
    check("node name", node.name());
    check("operator name", node.op_type());
    check("operator domain", node.domain());
    for (const auto &name : node.input()) check("tensor name", name);
    for (const auto &name : node.output()) check("tensor name", name);
    for (const auto &attr : node.attribute()) check("attribute name", attr.name());
  }
}

// Upsample and Resize-10 map coordinates asymmetrically and pick the nearest input by
// truncation (rounding up when downscaling). The ONNX 1.12 adapters write a Resize-11 without
// coordinate_transformation_mode or nearest_mode, whose defaults (half_pixel,
// round_prefer_floor) resample differently: spell out the old behaviour on each such Resize.
// (A Resize-10 that downscales one axis and upscales another has no single nearest_mode: ceil.)
// The Upsample adapter also gives its Resize's output a new name: it gets the old one back, which
// --emit-qdq finds the compiled graph's quantisation parameters under.
void keepLegacyResampling(const onnx::ModelProto &original, onnx::ModelProto &converted) {
  // A constant scales input (an initialiser or a Constant node's value) with a value below 1.
  auto downscales = [&](const std::string &name) {
    const onnx::TensorProto *proto = nullptr;
    for (const auto &initializer : original.graph().initializer())
      if (initializer.name() == name) proto = &initializer;
    for (const auto &node : original.graph().node())
      if (node.op_type() == "Constant" && node.output_size() == 1 && node.output(0) == name)
        for (const auto &attribute : node.attribute())
          if (attribute.name() == "value") proto = &attribute.t();
    if (!proto || !proto->external_data().empty()) return false;
    const Tensor scales = tensorFromProto(*proto, {}, name).castTo(DType::Float64);
    return llvm::any_of(scales.values<double>(), [](double scale) { return scale < 1.0; });
  };
  // Whether each resampling node, in order, downscales some axis. The converter renames values
  // and nodes but keeps their order.
  std::vector<bool> legacy;
  std::vector<std::string> outputNames;
  for (const auto &node : original.graph().node())
    if (node.domain().empty() && (node.op_type() == "Upsample" || node.op_type() == "Resize")) {
      legacy.push_back(node.op_type() == "Resize" && node.input_size() > 1 &&
                       downscales(node.input(1)));
      outputNames.push_back(node.output(0));
    }
  llvm::StringSet<> written; // a name the converter gave another value stays that value's
  for (const auto &node : converted.graph().node())
    for (const auto &name : node.output()) written.insert(name);
  llvm::StringMap<std::string> renamed; // converter's name -> the model's
  size_t next = 0;
  for (auto &node : *converted.mutable_graph()->mutable_node()) {
    if (node.op_type() != "Resize" || !node.domain().empty() || next == legacy.size()) continue;
    if (!written.contains(outputNames[next])) renamed[node.output(0)] = outputNames[next];
    const bool down = legacy[next++];
    auto setString = [&](const char *name, const char *value) {
      for (auto &attribute : *node.mutable_attribute())
        if (attribute.name() == name) {
          attribute.set_s(value);
          return;
        }
      auto *attribute = node.add_attribute();
      attribute->set_name(name);
      attribute->set_type(onnx::AttributeProto::STRING);
      attribute->set_s(value);
    };
    setString("coordinate_transformation_mode", "asymmetric");
    setString("nearest_mode", down ? "ceil" : "floor");
  }
  auto restore = [&](std::string &name) {
    if (auto found = renamed.find(name); found != renamed.end()) name = found->second;
  };
  onnx::GraphProto &graph = *converted.mutable_graph();
  for (auto &node : *graph.mutable_node()) {
    for (auto &name : *node.mutable_input()) restore(name);
    for (auto &name : *node.mutable_output()) restore(name);
  }
  for (auto *infos : {graph.mutable_output(), graph.mutable_value_info()})
    for (auto &info : *infos) restore(*info.mutable_name());
}

// Softmax, LogSoftmax and Hardmax before opset 13 work on the input flattened to 2-D at `axis`;
// the version converter's adapter needs the input's rank to say so at 13 and stops when shape
// inference cannot know it (tf2onnx's Flatten: a Reshape to a shape computed at run time). Such a
// node becomes what it means, Shape -> Flatten(axis) -> the op on axis 1 -> Reshape back, which
// the adapter converts knowing the Flatten's rank (2, declared).
void flattenSoftmaxesOfUnknownRank(onnx::ModelProto &model) {
  onnx::GraphProto &graph = *model.mutable_graph();
  llvm::StringSet<> ranked;
  for (const auto *infos : {&graph.input(), &graph.value_info(), &graph.output()})
    for (const auto &info : *infos)
      if (info.type().tensor_type().has_shape()) ranked.insert(info.name());
  for (const auto &initializer : graph.initializer()) ranked.insert(initializer.name());
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (const onnx::NodeProto &node : graph.node()) {
    const bool softmax = node.op_type() == "Softmax" || node.op_type() == "LogSoftmax" ||
                         node.op_type() == "Hardmax";
    if (!softmax || !node.domain().empty() || node.input_size() != 1 ||
        ranked.contains(node.input(0))) {
      *nodes.Add() = node;
      continue;
    }
    int64_t axis = 1;
    for (const auto &attr : node.attribute())
      if (attr.name() == "axis") axis = attr.i();
    const std::string stem = node.output(0) + "_as_2d";
    auto add = [&](const std::string &op, std::vector<std::string> inputs, std::string output) {
      onnx::NodeProto *added = nodes.Add();
      added->set_op_type(op);
      added->set_name(node.name() + "_" + op);
      for (auto &input : inputs) added->add_input(input);
      added->add_output(std::move(output));
      return added;
    };
    add("Shape", {node.input(0)}, stem + "_shape");
    onnx::AttributeProto *flattenAxis = add("Flatten", {node.input(0)}, stem)->add_attribute();
    flattenAxis->set_name("axis");
    flattenAxis->set_type(onnx::AttributeProto::INT);
    flattenAxis->set_i(axis);
    onnx::NodeProto *op = nodes.Add();
    *op = node;
    op->set_name(node.name() + "_2d");
    op->set_input(0, stem);
    op->set_output(0, stem + "_" + node.op_type());
    op->clear_attribute();
    onnx::AttributeProto *opAxis = op->add_attribute();
    opAxis->set_name("axis");
    opAxis->set_type(onnx::AttributeProto::INT);
    opAxis->set_i(1);
    add("Reshape", {op->output(0), stem + "_shape"}, node.output(0))->set_name(node.name());
    // Inference cannot flatten a shape of unknown rank, but the result has two dimensions.
    for (const std::string &name : {stem, op->output(0)}) {
      onnx::ValueInfoProto *info = graph.add_value_info();
      info->set_name(name);
      auto *tensor = info->mutable_type()->mutable_tensor_type();
      tensor->set_elem_type(onnx::TensorProto::FLOAT);
      tensor->mutable_shape()->add_dim();
      tensor->mutable_shape()->add_dim();
    }
  }
  graph.mutable_node()->Swap(&nodes);
}

// ONNX's version converter: the adapters rewrite what changed between opsets (attributes that
// became inputs, Upsample into Resize, Softmax's axis...). Checked again after.
onnx::ModelProto upgradeOpset(onnx::ModelProto model, int target, int opset,
                              const std::string &modelName) {
  // Some adapters need what they change spelt out: Softmax's (12 -> 13) the input's shape, Pad's
  // (10 -> 11) the padding value of a constant Pad, which the ONNX 1.12 adapter reads without its
  // default. It leaves the value of a reflect or edge Pad an attribute, which Pad-11 does not
  // have: such a Pad, which never reads it, loses it.
  for (auto &node : *model.mutable_graph()->mutable_node()) {
    if (node.op_type() != "Pad" || !node.domain().empty() || opset >= 11) continue;
    auto &attributes = *node.mutable_attribute();
    const auto value =
        llvm::find_if(attributes, [](const auto &a) { return a.name() == "value"; });
    const bool constant = llvm::none_of(attributes, [](const auto &a) {
      return a.name() == "mode" && a.s() != "constant";
    });
    if (!constant && value != attributes.end()) {
      attributes.erase(value);
    } else if (constant && value == attributes.end()) {
      auto *added = node.add_attribute();
      added->set_name("value");
      added->set_type(onnx::AttributeProto::FLOAT);
      added->set_f(0.0f);
    }
  }
  const std::string fix = fmt::format(
      "export the model at opset {} or newer, or compile it without --emit-qdq", target);
  onnx::ModelProto converted;
  try {
    runOnnxPass(model, "ONNX shape inference", kReexportFix, modelName,
                [&](onnx::ModelProto &inferred) {
      onnx::shape_inference::InferShapes(inferred);
      if (opset < 13 && target >= 13) {
        flattenSoftmaxesOfUnknownRank(inferred);
        onnx::shape_inference::InferShapes(inferred);
      }
    });
    converted = model;
    runOnnxPass(converted, "ONNX's version converter", fix, modelName,
                [&](onnx::ModelProto &upgraded) {
                  upgraded = onnx::version_conversion::ConvertVersion(upgraded, target);
                  onnx::checker::check_model(upgraded);
                });
  } catch (const Error &) {
    throw;
  } catch (const std::exception &error) {
    fail("{}: ONNX's version converter cannot bring the model from opset {} to {}: {}; {}",
         modelName, opset, target, firstLine(error.what()), fix);
  }
  if (opset < 11) keepLegacyResampling(model, converted);
  return converted;
}

// "ai.onnx" is another name of the default domain (onnxruntime accepts either spelling), but the
// checker and the schema registry know only "": rename it everywhere before they look.
void spellDefaultDomainEmpty(onnx::ModelProto &model) {
  for (auto &import : *model.mutable_opset_import())
    if (import.domain() == "ai.onnx") import.clear_domain();
  for (auto &node : *model.mutable_graph()->mutable_node())
    if (node.domain() == "ai.onnx") node.clear_domain();
}

// The checker only says that some input is not produced by an earlier node; a cycle is worth
// naming node by node. Iterative, so a long chain of nodes cannot overflow the stack.
void checkAcyclic(const onnx::GraphProto &graph, const std::string &modelName) {
  const int count = graph.node_size();
  llvm::StringMap<int> producer;
  for (int n = 0; n < count; ++n)
    for (const auto &output : graph.node(n).output())
      if (!output.empty()) producer.try_emplace(output, n);
  enum class Mark { New, Open, Done };
  std::vector<Mark> marks(count, Mark::New);
  // Each frame: a node and how many of its inputs were followed to their producers.
  std::vector<std::pair<int, int>> stack;
  for (int root = 0; root < count; ++root) {
    if (marks[root] != Mark::New) continue;
    stack.push_back({root, 0});
    marks[root] = Mark::Open;
    while (!stack.empty()) {
      auto &[node, next] = stack.back();
      if (next == graph.node(node).input_size()) {
        marks[node] = Mark::Done;
        stack.pop_back();
        continue;
      }
      auto found = producer.find(graph.node(node).input(next++));
      if (found == producer.end()) continue;
      const int from = found->second;
      if (marks[from] == Mark::New) {
        marks[from] = Mark::Open;
        stack.push_back({from, 0});
      } else if (marks[from] == Mark::Open) {
        // The open frames from `from` to the top form the cycle, each reading the next one's
        // output; print it in the direction data flows.
        std::vector<std::string> cycle;
        for (auto frame = stack.rbegin(); frame != stack.rend(); ++frame) {
          cycle.push_back(describeNode(graph.node(frame->first), frame->first));
          if (frame->first == from) break;
        }
        cycle.push_back(cycle.front());
        fail("{}: the graph has a cycle: {}; an ONNX graph must be acyclic, re-export the model",
             modelName, fmt::join(cycle, " -> "));
      }
    }
  }
}

// ONNX's checker and shape inference multiply dimensions without overflow checks, so every
// initializer and tensor attribute is held to the limits before they run.
void checkTensorProtoLimits(const onnx::GraphProto &graph, const std::string &modelName) {
  auto check = [&](const onnx::TensorProto &tensor, const std::string &context) {
    const auto dtype = dtypeFromOnnx(tensor.data_type());
    if (!dtype) return; // tensorFromProto names the unsupported type
    checkTensorLimits(*dtype, Shape(tensor.dims().begin(), tensor.dims().end()), context);
  };
  for (const auto &initializer : graph.initializer())
    check(initializer, fmt::format("{}: initializer '{}'", modelName, initializer.name()));
  int index = 0;
  for (const auto &node : graph.node()) {
    for (const auto &attr : node.attribute())
      if (attr.type() == onnx::AttributeProto::TENSOR)
        check(attr.t(), fmt::format("{}: {}: attribute '{}'", modelName, describeNode(node, index),
                                    attr.name()));
    ++index;
  }
}

// Replaces external data references by inline bytes so the checker and our IR see one file.
void inlineExternalData(onnx::ModelProto &model, const std::filesystem::path &baseDir,
                        const std::string &modelName) {
  for (onnx::TensorProto &initializer : *model.mutable_graph()->mutable_initializer()) {
    if (initializer.data_location() != onnx::TensorProto::EXTERNAL) continue;
    Tensor tensor = tensorFromProto(initializer, baseDir,
                                    fmt::format("{}: initializer '{}'", modelName,
                                                initializer.name()));
    initializer.clear_external_data();
    initializer.set_data_location(onnx::TensorProto::DEFAULT);
    initializer.set_raw_data(tensor.rawData(), tensor.byteSize());
  }
}

void fixInputShapes(onnx::ModelProto &model, const ImportOptions &options,
                    const std::string &modelName) {
  llvm::StringSet<> initializerNames;
  for (const auto &initializer : model.graph().initializer())
    initializerNames.insert(initializer.name());
  llvm::StringSet<> seen;
  for (onnx::ValueInfoProto &input : *model.mutable_graph()->mutable_input()) {
    if (initializerNames.count(input.name())) continue;
    seen.insert(input.name());
    if (!input.type().has_tensor_type()) continue;
    auto *shape = input.mutable_type()->mutable_tensor_type()->mutable_shape();
    auto override = options.inputShapes.find(input.name());
    if (override != options.inputShapes.end()) {
      shape->clear_dim();
      for (int64_t dim : override->second) shape->add_dim()->set_dim_value(dim);
      continue;
    }
    if (shape->dim_size() > 0 && !shape->dim(0).has_dim_value())
      shape->mutable_dim(0)->set_dim_value(1); // symbolic batch dimension
  }
  for (const auto &entry : options.inputShapes)
    if (!seen.count(entry.getKey()))
      fail("{}: --input-shape names '{}', which is not a model input; `edgesplit inspect` "
           "lists the inputs",
           modelName, entry.getKey().str());
}

AttributeValue convertAttribute(const onnx::AttributeProto &attr, const std::string &context,
                                const std::filesystem::path &baseDir) {
  switch (attr.type()) {
  case onnx::AttributeProto::INT: return attr.i();
  case onnx::AttributeProto::FLOAT: return attr.f();
  case onnx::AttributeProto::STRING: return attr.s();
  case onnx::AttributeProto::INTS: return std::vector<int64_t>(attr.ints().begin(), attr.ints().end());
  case onnx::AttributeProto::FLOATS:
    return std::vector<float>(attr.floats().begin(), attr.floats().end());
  case onnx::AttributeProto::STRINGS:
    return std::vector<std::string>(attr.strings().begin(), attr.strings().end());
  case onnx::AttributeProto::TENSOR:
    return tensorFromProto(attr.t(), baseDir, fmt::format("{}: attribute '{}'", context, attr.name()));
  default:
    fail("{}: attribute '{}' has a kind edgesplit does not support (graphs, sparse tensors and "
         "type protos are not accepted); "
         "re-export the model without it",
         context, attr.name());
  }
}

// Records what ONNX shape inference (or the model) declares for a value: used where our own
// inference cannot yet tell, e.g. outputs of unsupported ops.
void applyDeclaredType(Value &value, const onnx::TypeProto &type) {
  if (!type.has_tensor_type()) return;
  const auto &tensorType = type.tensor_type();
  if (auto dtype = dtypeFromOnnx(tensorType.elem_type()); dtype && value.dtype == DType::Undefined)
    value.dtype = *dtype;
  if (!tensorType.has_shape() || value.shape) return;
  Shape shape;
  for (const auto &dim : tensorType.shape().dim()) {
    if (!dim.has_dim_value()) return;
    shape.push_back(dim.dim_value());
  }
  value.shape = std::move(shape);
}

// ONNX shape inference reads the declared type of a value as a dense tensor without checking it:
// a graph input declared as a sparse tensor (or a sequence, map, optional) feeding a
// ConvTranspose crashes libonnx. edgesplit takes dense tensors only, so the other kinds are
// refused before it runs.
void checkDenseTypes(const onnx::GraphProto &graph, const std::string &modelName) {
  for (const auto *infos : {&graph.input(), &graph.value_info(), &graph.output()})
    for (const auto &info : *infos)
      if (info.has_type() && !info.type().has_tensor_type())
        fail("{}: '{}' is declared as a sparse tensor, sequence, map or optional; edgesplit takes "
             "dense tensors only; re-export the model with tensors there",
             modelName, info.name());
}

// Declared shapes, checked before ONNX shape inference computes with them. Unknown (symbolic)
// dimensions count as 1, which gives a lower bound on the size. Types edgesplit does not know
// are left to the errors about them.
void checkDeclaredShape(const onnx::TypeProto &type, const std::string &context) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape()) return;
  const auto dtype = dtypeFromOnnx(type.tensor_type().elem_type());
  if (!dtype) return;
  Shape shape;
  for (const auto &dim : type.tensor_type().shape().dim())
    shape.push_back(dim.has_dim_value() ? dim.dim_value() : 1);
  checkTensorLimits(*dtype, shape, context);
}

void checkDeclaredShapes(const onnx::GraphProto &graph, const std::string &modelName) {
  llvm::StringMap<std::string> producers;
  int index = 0;
  for (const auto &node : graph.node()) {
    for (const auto &output : node.output())
      producers.try_emplace(output, describeNode(node, index));
    ++index;
  }
  auto context = [&](const std::string &name) {
    auto producer = producers.find(name);
    return producer == producers.end()
               ? fmt::format("{}: input '{}'", modelName, name)
               : fmt::format("{}: {}: output '{}'", modelName, producer->second, name);
  };
  for (const auto *infos : {&graph.input(), &graph.value_info(), &graph.output()})
    for (const auto &info : *infos) checkDeclaredShape(info.type(), context(info.name()));
}

// Pooling and convolution geometry. ONNX's shape inference divides by strides and dilations
// without checking them (a zero crashes the process) and multiplies without overflow checks, so
// the entries are bounded before it runs. No model for a microcontroller comes near the bound.
constexpr int64_t kMaxWindowAttribute = int64_t(1) << 16;

void checkWindowAttributes(const onnx::GraphProto &graph, const std::string &modelName) {
  int index = 0;
  for (const auto &node : graph.node()) {
    for (const auto &attr : node.attribute()) {
      // DepthToSpace divides by blocksize squared: 2^32 wraps to a division by zero.
      const bool positive = attr.name() == "strides" || attr.name() == "dilations" ||
                            attr.name() == "kernel_shape" || attr.name() == "blocksize";
      const bool offset = attr.name() == "pads" || attr.name() == "output_padding";
      if (!positive && !offset && attr.name() != "output_shape") continue;
      const std::vector<int64_t> values =
          attr.type() == onnx::AttributeProto::INT
              ? std::vector<int64_t>{attr.i()}
              : std::vector<int64_t>(attr.ints().begin(), attr.ints().end());
      for (int64_t value : values) {
        auto bad = [&](std::string_view rule) {
          fail("{}: {}: attribute '{}' holds {}; {}", modelName, describeNode(node, index),
               attr.name(), value, rule);
        };
        if (positive && value <= 0) bad("every entry must be at least 1");
        if (positive && value > kMaxWindowAttribute)
          bad(fmt::format("every entry must be at most {}", kMaxWindowAttribute));
        if (offset && (value < -kMaxWindowAttribute || value > kMaxWindowAttribute))
          bad(fmt::format("every entry must lie in [{}, {}]", -kMaxWindowAttribute,
                          kMaxWindowAttribute));
        if (attr.name() == "output_shape" && (value < 0 || value > maxTensorBytes()))
          bad(fmt::format("every entry must lie in [0, {}] (the tensor size limit)",
                          maxTensorBytes()));
      }
    }
    ++index;
  }
}

// ONNX 1.12's LayerNormalization inference indexes dimensions by its axis narrowed to 32 bits
// unchecked (2^31 crashes it); every axis is held to what a tensor of edgesplit's largest rank
// allows (Flatten's and Unsqueeze's reach one past the input's last axis) before it runs.
void checkAxisAttributes(const onnx::GraphProto &graph, const std::string &modelName) {
  constexpr auto kBound = static_cast<int64_t>(kMaxRank);
  int index = 0;
  for (const auto &node : graph.node()) {
    for (const auto &attr : node.attribute()) {
      if (attr.name() != "axis" && attr.name() != "axes" && attr.name() != "batch_axis" &&
          attr.name() != "time_axis")
        continue;
      const std::vector<int64_t> values =
          attr.type() == onnx::AttributeProto::INT
              ? std::vector<int64_t>{attr.i()}
              : std::vector<int64_t>(attr.ints().begin(), attr.ints().end());
      for (int64_t value : values)
        if (value < -kBound || value > kBound)
          fail("{}: {}: attribute '{}' holds {}; an axis lies in [-{}, {}] (edgesplit's tensors "
               "have rank {} at most), check the model",
               modelName, describeNode(node, index), attr.name(), value, kBound, kBound, kBound);
    }
    ++index;
  }
}

// ONNX 1.12's shape inference of a convolution indexes the weight's dimensions by the input's
// rank unchecked: a weight of another rank crashes it. Checked here where the ranks are known
// before inference (graph inputs and initializers), with a clearer message than inference's;
// makeKernelShapesExplicit makes inference itself safe where the data's rank is not known yet.
void checkConvolutionRanks(const onnx::GraphProto &graph, const std::string &modelName) {
  llvm::StringMap<int> ranks;
  for (const auto &initializer : graph.initializer())
    ranks[initializer.name()] = initializer.dims_size();
  for (const auto &input : graph.input())
    if (input.type().tensor_type().has_shape())
      ranks.try_emplace(input.name(), input.type().tensor_type().shape().dim_size());
  int index = 0;
  for (const auto &node : graph.node()) {
    const std::string where = fmt::format("{}: {}", modelName, describeNode(node, index++));
    const int weightIndex = node.op_type() == "QLinearConv" ? 3 : 1;
    if ((node.op_type() != "Conv" && node.op_type() != "ConvTranspose" &&
         node.op_type() != "ConvInteger" && node.op_type() != "QLinearConv") ||
        node.input_size() <= weightIndex)
      continue;
    auto weight = ranks.find(node.input(weightIndex));
    if (weight == ranks.end()) continue;
    if (weight->second < 3)
      fail("{}: weight '{}' has rank {}; a convolution's weight is [M, C/group, kernel...], of "
           "rank 3 or more",
           where, weight->first(), weight->second);
    auto data = ranks.find(node.input(0));
    if (data != ranks.end() && data->second != weight->second)
      fail("{}: input '{}' has rank {} but weight '{}' has rank {}; they must match", where,
           data->first(), data->second, weight->first(), weight->second);
  }
}

// ONNX's Conv inference takes a missing kernel_shape from the weight's dimensions and then reads
// that many spatial dimensions of the data unchecked: a weight of higher rank than data whose
// rank is only known after inference (the output of another node) crashes libonnx. Spelling
// kernel_shape out, as the operator's definition implies, makes inference check it instead.
void makeKernelShapesExplicit(onnx::GraphProto &graph) {
  llvm::StringMap<std::vector<int64_t>> constantShapes;
  for (const auto &initializer : graph.initializer())
    constantShapes[initializer.name()].assign(initializer.dims().begin(), initializer.dims().end());
  for (auto &node : *graph.mutable_node()) {
    const std::string &op = node.op_type();
    if (op == "Constant" && node.output_size() == 1 && node.attribute_size() == 1 &&
        node.attribute(0).has_t())
      constantShapes[node.output(0)].assign(node.attribute(0).t().dims().begin(),
                                            node.attribute(0).t().dims().end());
    // QDQ weights reach the convolution through these.
    const bool keepsShape = op == "DequantizeLinear" || op == "QuantizeLinear" ||
                            op == "Identity" || op == "Cast";
    if (keepsShape && node.input_size() > 0 && node.output_size() > 0) {
      auto shape = constantShapes.find(node.input(0));
      if (shape != constantShapes.end()) {
        std::vector<int64_t> dims = shape->second;
        constantShapes[node.output(0)] = std::move(dims);
      }
    }
    const int weightIndex = op == "QLinearConv" ? 3 : 1;
    if ((op != "Conv" && op != "ConvTranspose" && op != "ConvInteger" && op != "QLinearConv") ||
        node.input_size() <= weightIndex)
      continue;
    auto weight = constantShapes.find(node.input(weightIndex));
    if (weight == constantShapes.end() || weight->second.size() < 3 ||
        llvm::any_of(node.attribute(), [](const auto &attr) { return attr.name() == "kernel_shape"; }))
      continue;
    onnx::AttributeProto *kernelShape = node.add_attribute();
    kernelShape->set_name("kernel_shape");
    kernelShape->set_type(onnx::AttributeProto::INTS);
    for (size_t axis = 2; axis < weight->second.size(); ++axis)
      kernelShape->add_ints(weight->second[axis]);
  }
}

// Subgraphs (If, Loop, Scan bodies) are beyond edgesplit, and ONNX's inference of Scan trusts
// its axis attributes unchecked: refused before it runs.
void checkNoSubgraphs(const onnx::GraphProto &graph, const std::string &modelName) {
  int index = 0;
  for (const auto &node : graph.node()) {
    for (const auto &attr : node.attribute())
      if (attr.type() == onnx::AttributeProto::GRAPH || attr.type() == onnx::AttributeProto::GRAPHS)
        fail("{}: {}: attribute '{}' holds a subgraph; edgesplit does not support control flow "
             "(If, Loop, Scan), re-export the model without it",
             modelName, describeNode(node, index), attr.name());
    ++index;
  }
}

// Constant inputs that ONNX shape inference turns into output dimensions (multiplying them
// unchecked): a Reshape or Expand target, ConstantOfShape's shape, Tile's repeats, Resize's
// sizes, Pad's pads.
struct ShapeInput {
  std::string_view op;
  int index;
};
constexpr ShapeInput kShapeInputs[] = {{"Reshape", 1}, {"Expand", 1}, {"ConstantOfShape", 0},
                                       {"Tile", 1},    {"Resize", 3}, {"Pad", 1}};

void checkShapeInputs(const onnx::GraphProto &graph, const std::filesystem::path &baseDir,
                      const std::string &modelName) {
  llvm::StringMap<const onnx::TensorProto *> constants;
  for (const auto &initializer : graph.initializer()) constants[initializer.name()] = &initializer;
  for (const auto &node : graph.node())
    if (node.op_type() == "Constant" && node.output_size() == 1)
      for (const auto &attr : node.attribute())
        if (attr.name() == "value" && attr.type() == onnx::AttributeProto::TENSOR)
          constants[node.output(0)] = &attr.t();
  int index = 0;
  for (const auto &node : graph.node()) {
    const std::string where = fmt::format("{}: {}", modelName, describeNode(node, index++));
    for (const ShapeInput &entry : kShapeInputs) {
      if (node.op_type() != entry.op || node.input_size() <= entry.index) continue;
      auto constant = constants.find(node.input(entry.index));
      if (constant == constants.end() || constant->second->data_type() != onnx::TensorProto::INT64)
        continue;
      const std::vector<int64_t> values =
          tensorFromProto(*constant->second, baseDir, where).toInt64Vector();
      // The sizes multiply into an element count (Pad's each widen one dimension); 0 and -1 are
      // Reshape's "copy" and "infer", and a negative pad removes what a positive one adds.
      bool inRange = true;
      int64_t elements = 1;
      for (int64_t value : values) {
        if (value < -maxTensorBytes() || value > maxTensorBytes()) inRange = false;
        else if (inRange && entry.op != "Pad") {
          const std::optional<int64_t> product =
              checkedMul(elements, std::max<int64_t>(std::abs(value), 1));
          if (product) elements = *product;
          else inRange = false;
        }
      }
      if (!inRange || elements > maxTensorBytes())
        fail("{}: input '{}' holds {}, which asks for more than the limit of {} elements "
             "(--max-tensor-bytes); check the model",
             where, node.input(entry.index), formatShape(values), maxTensorBytes());
    }
  }
}

} // namespace

Shape parseShapeText(llvm::StringRef text) {
  Shape shape;
  llvm::SmallVector<llvm::StringRef, 6> parts;
  text.split(parts, 'x');
  for (llvm::StringRef part : parts) {
    int64_t dim = 0;
    if (part.trim().getAsInteger(10, dim) || dim <= 0)
      failUsage("shape '{}' is not of the form 1x3x32x32 (positive sizes joined by 'x')",
                text.str());
    shape.push_back(dim);
  }
  return shape;
}

std::unique_ptr<Graph> importOnnxModel(const std::filesystem::path &path,
                                       const ImportOptions &options) {
  const std::string modelName = path.string();
  onnx::ModelProto model = readModel(path);
  checkNames(model, modelName);
  inlineExternalData(model, path.parent_path(), modelName);

  spellDefaultDomainEmpty(model);
  int opset = 0;
  for (const auto &import : model.opset_import())
    if (import.domain().empty()) opset = import.version();
  if (opset == 0)
    fail("{}: the model imports no version of the default ONNX opset; re-export it with an "
         "opset_import for the default domain",
         modelName);
  if (opset < kMinOpset || opset > kMaxOpset)
    fail("{}: opset {} is outside the supported range {}..{}; convert the model with "
         "onnx.version_converter",
         modelName, opset, kMinOpset, kMaxOpset);

  checkAcyclic(model.graph(), modelName);
  checkNoSubgraphs(model.graph(), modelName);
  checkTensorProtoLimits(model.graph(), modelName);
  checkAxisAttributes(model.graph(), modelName);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &error) {
    fail("{}: the ONNX checker rejected the model: {}", modelName, firstLine(error.what()));
  }
  if (options.upgradeToOpset > opset) {
    model = upgradeOpset(model, options.upgradeToOpset, opset, modelName);
    opset = options.upgradeToOpset;
  }
  fixInputShapes(model, options, modelName);
  checkDenseTypes(model.graph(), modelName);
  checkDeclaredShapes(model.graph(), modelName);
  checkWindowAttributes(model.graph(), modelName);
  checkConvolutionRanks(model.graph(), modelName);
  checkShapeInputs(model.graph(), path.parent_path(), modelName);
  makeKernelShapesExplicit(*model.mutable_graph());
  try {
    runOnnxPass(model, "ONNX shape inference", kReexportFix, modelName,
                [](onnx::ModelProto &inferred) {
                  onnx::shape_inference::InferShapes(inferred);
                });
  } catch (const Error &) {
    throw;
  } catch (const std::exception &error) {
    fail("{}: ONNX shape inference failed: {}", modelName, firstLine(error.what()));
  }
  // What inference derived (an Expand to 2^40 elements, an Unsqueeze to rank 20) before any of
  // it becomes a Tensor.
  checkDeclaredShapes(model.graph(), modelName);

  auto graph = std::make_unique<Graph>();
  const onnx::GraphProto &proto = model.graph();
  graph->name = proto.name();
  graph->sourcePath = modelName;
  graph->opset = opset;
  graph->producer = model.producer_version().empty()
                        ? model.producer_name()
                        : model.producer_name() + " " + model.producer_version();

  for (const auto &initializer : proto.initializer())
    graph->createConstant(initializer.name(),
                          tensorFromProto(initializer, path.parent_path(),
                                          fmt::format("{}: initializer '{}'", modelName,
                                                      initializer.name())));
  for (const auto &input : proto.input()) {
    if (graph->findValue(input.name())) continue; // an initializer listed as input (old IR)
    Value *value = graph->createValue(input.name());
    applyDeclaredType(*value, input.type());
    if (value->dtype == DType::Undefined)
      fail("{}: input '{}' is not a tensor of a supported element type; give it float, double, "
           "float16 or an integer type",
           modelName, input.name());
    graph->inputs.push_back(value);
  }

  auto valueFor = [&](const std::string &name) -> Value * {
    if (name.empty()) return nullptr;
    if (Value *value = graph->findValue(name)) return value;
    return graph->createValue(name);
  };
  int nodeIndex = 0;
  for (const auto &nodeProto : proto.node()) {
    auto node = std::make_unique<Node>();
    node->opType = nodeProto.op_type();
    node->domain = nodeProto.domain();
    node->name = nodeProto.name().empty() ? fmt::format("{}_{}", node->opType, nodeIndex)
                                          : nodeProto.name();
    ++nodeIndex;
    node->opset = node->domain.empty() ? opset : 0;
    for (const auto &import : model.opset_import())
      if (import.domain() == nodeProto.domain()) node->opset = static_cast<int>(import.version());
    const std::string context = fmt::format("{}: {}", modelName, node->describe());
    for (const auto &attr : nodeProto.attribute())
      node->attributes.set(attr.name(), convertAttribute(attr, context, path.parent_path()));
    for (const auto &input : nodeProto.input()) {
      Value *value = valueFor(input);
      node->inputs.push_back(value);
    }
    for (const auto &output : nodeProto.output()) {
      Value *value = valueFor(output);
      if (value && value->producer)
        fail("{}: output '{}' is already produced by another node; re-export the model", context,
             output);
      node->outputs.push_back(value);
    }
    node->op = findOp(node->domain, node->opType);
    graph->appendNode(std::move(node));
  }

  for (const auto &info : proto.value_info())
    if (Value *value = graph->findValue(info.name())) applyDeclaredType(*value, info.type());
  for (const auto &output : proto.output()) {
    Value *value = graph->findValue(output.name());
    if (!value)
      fail("{}: graph output '{}' is produced by no node; re-export the model", modelName,
           output.name());
    applyDeclaredType(*value, output.type());
    graph->outputs.push_back({output.name(), value});
  }
  return graph;
}

} // namespace edgesplit
