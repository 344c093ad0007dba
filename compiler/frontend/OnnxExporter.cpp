#include "frontend/OnnxExporter.h"

#include "support/Error.h"

#include <onnx/onnx_pb.h>

#include <llvm/ADT/DenseMap.h>

#include <fstream>
#include <map>

namespace edgesplit {

namespace {

void fillTensorProto(const std::string &name, const Tensor &tensor, onnx::TensorProto &proto) {
  proto.set_name(name);
  proto.set_data_type(static_cast<int32_t>(tensor.dtype()));
  for (int64_t dim : tensor.shape()) proto.add_dims(dim);
  proto.set_raw_data(tensor.rawData(), tensor.byteSize());
}

void fillValueInfo(const std::string &name, const Value &value, onnx::ValueInfoProto &info) {
  info.set_name(name);
  auto *type = info.mutable_type()->mutable_tensor_type();
  type->set_elem_type(static_cast<int32_t>(value.dtype));
  if (!value.shape) return;
  auto *shape = type->mutable_shape();
  for (int64_t dim : *value.shape) shape->add_dim()->set_dim_value(dim);
}

void fillAttribute(const std::string &name, const AttributeValue &value,
                   onnx::AttributeProto &attr) {
  attr.set_name(name);
  std::visit(
      [&](const auto &v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          attr.set_type(onnx::AttributeProto::INT);
          attr.set_i(v);
        } else if constexpr (std::is_same_v<T, float>) {
          attr.set_type(onnx::AttributeProto::FLOAT);
          attr.set_f(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          attr.set_type(onnx::AttributeProto::STRING);
          attr.set_s(v);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          attr.set_type(onnx::AttributeProto::INTS);
          for (int64_t i : v) attr.add_ints(i);
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          attr.set_type(onnx::AttributeProto::FLOATS);
          for (float f : v) attr.add_floats(f);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          attr.set_type(onnx::AttributeProto::STRINGS);
          for (const std::string &s : v) attr.add_strings(s);
        } else {
          attr.set_type(onnx::AttributeProto::TENSOR);
          fillTensorProto("", v, *attr.mutable_t());
        }
      },
      value);
}

} // namespace

onnx::ModelProto exportOnnxModel(const Graph &graph) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("edgesplit");
  // Every domain the nodes use, at the version they were imported with (sorted: deterministic).
  std::map<std::string, int> opsets{{"", graph.opset}};
  for (const auto &node : graph.nodes())
    if (!node->domain.empty()) opsets[node->domain] = node->opset;
  for (const auto &[domain, version] : opsets) {
    auto *import = model.add_opset_import();
    import->set_domain(domain);
    import->set_version(version);
  }

  onnx::GraphProto &proto = *model.mutable_graph();
  proto.set_name(graph.name.empty() ? "edgesplit" : graph.name);
  // A value that passes moved off a graph output may still carry the output's name (e.g. the
  // float result ahead of the output's inserted QuantizeLinear/DequantizeLinear): it is written
  // under a fresh name, as ONNX defines each name once.
  llvm::DenseMap<const Value *, std::string> renamed;
  for (const GraphOutput &output : graph.outputs) {
    const Value *holder = graph.findValue(output.name);
    if (holder && holder != output.value && !renamed.count(holder))
      renamed[holder] = graph.uniqueName(output.name + "_inner");
  }
  auto nameOf = [&](const Value *value) -> const std::string & {
    auto it = renamed.find(value);
    return it == renamed.end() ? value->name : it->second;
  };
  for (const Value *input : graph.inputs) fillValueInfo(nameOf(input), *input, *proto.add_input());
  for (const auto &value : graph.values())
    if (value->isConstant()) fillTensorProto(nameOf(value.get()), *value->constant, *proto.add_initializer());
  for (const auto &node : graph.nodes()) {
    onnx::NodeProto &nodeProto = *proto.add_node();
    nodeProto.set_name(node->name);
    nodeProto.set_op_type(node->opType);
    nodeProto.set_domain(node->domain);
    for (const Value *input : node->inputs) nodeProto.add_input(input ? nameOf(input) : "");
    for (const Value *output : node->outputs) nodeProto.add_output(output ? nameOf(output) : "");
    for (const auto &[name, value] : node->attributes) fillAttribute(name, value, *nodeProto.add_attribute());
    for (const Value *output : node->outputs)
      if (output && output->shape && !graph.isGraphOutput(output))
        fillValueInfo(nameOf(output), *output, *proto.add_value_info());
  }
  // A graph output whose value passes had to rename (or that is another output or an input)
  // gets an Identity under its original name.
  for (const GraphOutput &output : graph.outputs) {
    if (nameOf(output.value) != output.name) {
      onnx::NodeProto &identity = *proto.add_node();
      identity.set_name(output.name + "_identity");
      identity.set_op_type("Identity");
      identity.add_input(nameOf(output.value));
      identity.add_output(output.name);
    }
    fillValueInfo(output.name, *output.value, *proto.add_output());
  }
  return model;
}

std::string onnxModelBytes(const Graph &graph) {
  return exportOnnxModel(graph).SerializeAsString();
}

void saveOnnxModel(const Graph &graph, const std::filesystem::path &path) {
  std::ofstream stream(path, std::ios::binary);
  stream << onnxModelBytes(graph);
  if (!stream)
    fail("{}: cannot write; check the folder's permissions and free space", path.string());
}

} // namespace edgesplit
