#include "frontend/OnnxImporter.h"

#include "frontend/TensorProto.h"
#include "ops/OpDef.h"
#include "support/Error.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <llvm/ADT/StringSet.h>

#include <fstream>
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

onnx::ModelProto readModel(const std::filesystem::path &path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream)
    fail("{}: cannot open the model: {}; check the path", path.string(),
         std::filesystem::exists(path) ? "permission denied" : "no such file");
  std::stringstream buffer;
  buffer << stream.rdbuf();
  onnx::ModelProto model;
  if (!model.ParseFromString(buffer.str()) || !model.has_graph())
    fail("{}: not a valid ONNX model (protobuf parse failed); re-export the model or check the "
         "file is not truncated",
         path.string());
  return model;
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
      fail("{}: --input-shape names '{}', which is not a model input", modelName,
           entry.getKey().str());
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
         "type protos are not accepted)",
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

// ONNX's own shape inference divides by strides and dilations without checking them (a zero
// crashes the process), so window attributes are validated before it runs.
void checkWindowAttributes(const onnx::GraphProto &graph, const std::string &modelName) {
  int index = 0;
  for (const auto &node : graph.node()) {
    for (const auto &attr : node.attribute()) {
      if (attr.name() != "strides" && attr.name() != "dilations" && attr.name() != "kernel_shape")
        continue;
      for (int64_t value : attr.ints())
        if (value <= 0)
          fail("{}: node '{}' ({}): attribute '{}' holds {}; every entry must be at least 1",
               modelName, node.name().empty() ? fmt::format("{}_{}", node.op_type(), index)
                                              : node.name(),
               node.op_type(), attr.name(), value);
    }
    ++index;
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
  inlineExternalData(model, path.parent_path(), modelName);

  int opset = 0;
  for (const auto &import : model.opset_import())
    if (import.domain().empty() || import.domain() == "ai.onnx") opset = import.version();
  if (opset == 0) fail("{}: the model imports no version of the default ONNX opset", modelName);
  if (opset < kMinOpset || opset > kMaxOpset)
    fail("{}: opset {} is outside the supported range {}..{}; convert the model with "
         "onnx.version_converter",
         modelName, opset, kMinOpset, kMaxOpset);

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &error) {
    fail("{}: the ONNX checker rejected the model: {}", modelName, firstLine(error.what()));
  }
  fixInputShapes(model, options, modelName);
  checkWindowAttributes(model.graph(), modelName);
  try {
    onnx::shape_inference::InferShapes(model);
  } catch (const std::exception &error) {
    fail("{}: ONNX shape inference failed: {}", modelName, firstLine(error.what()));
  }

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
      fail("{}: input '{}' is not a tensor of a supported element type", modelName, input.name());
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
    node->domain = nodeProto.domain() == "ai.onnx" ? "" : nodeProto.domain();
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
        fail("{}: output '{}' is already produced by another node", context, output);
      node->outputs.push_back(value);
    }
    node->op = findOp(node->domain, node->opType);
    graph->appendNode(std::move(node));
  }

  for (const auto &info : proto.value_info())
    if (Value *value = graph->findValue(info.name())) applyDeclaredType(*value, info.type());
  for (const auto &output : proto.output()) {
    Value *value = graph->findValue(output.name());
    if (!value) fail("{}: graph output '{}' is produced by no node", modelName, output.name());
    applyDeclaredType(*value, output.type());
    graph->outputs.push_back({output.name(), value});
  }
  return graph;
}

} // namespace edgesplit
