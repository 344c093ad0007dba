#include "quantize/EmitQdq.h"

#include "ops/OpDef.h"
#include "passes/Passes.h"
#include "quantize/EmitRecurrentQdq.h"
#include "quantize/QuantMath.h"
#include "quantize/ResizeBlendQdq.h"
#include "support/Error.h"

namespace edgesplit {

namespace {

struct QdqOperands {
  Value *scale;
  Value *zeroPoint;
};

QdqOperands createOperands(Graph &graph, const std::string &base, const QuantParams &params) {
  const auto count = static_cast<int64_t>(params.scales.size());
  llvm::SmallVector<int64_t, 1> shape;
  if (count > 1) shape.push_back(count);
  Value *scale = graph.createConstant(graph.uniqueName(base + "_scale"),
                                      Tensor::fromVector<float>(shape, params.scales));
  Tensor zeros(params.storage, shape);
  for (int64_t i = 0; i < count; ++i) {
    if (params.storage == DType::Int32)
      zeros.data<int32_t>()[i] = params.zeroPoints[i];
    else
      zeros.data<int8_t>()[i] = static_cast<int8_t>(params.zeroPoints[i]);
  }
  Value *zeroPoint = graph.createConstant(graph.uniqueName(base + "_zero_point"), std::move(zeros));
  return {scale, zeroPoint};
}

std::unique_ptr<Node> makeNode(const Graph &graph, const std::string &opType,
                               const std::string &name, llvm::ArrayRef<Value *> inputs,
                               Value *output, const QuantParams &params) {
  auto node = std::make_unique<Node>();
  node->opType = opType;
  node->name = name;
  node->opset = graph.opset;
  node->inputs.assign(inputs.begin(), inputs.end());
  node->outputs.push_back(output);
  if (params.axis >= 0) node->attributes.set("axis", params.axis);
  node->op = findOp("", opType);
  return node;
}

// q = clamp(round_half_away(w / s) + z) per docs/int8.md, in the slice's own parameters.
Tensor quantizeConstant(const Tensor &real, const QuantParams &params) {
  Tensor wide = real.castTo(DType::Float64);
  Tensor quantized(params.storage, real.shape());
  const int64_t channels = static_cast<int64_t>(params.scales.size());
  const Shape strides = stridesOf(real.shape());
  const int64_t axisStride = params.axis >= 0 ? strides[params.axis] : 1;
  const int64_t lo = params.storage == DType::Int32 ? INT32_MIN : -128;
  const int64_t hi = params.storage == DType::Int32 ? INT32_MAX : 127;
  for (int64_t i = 0; i < real.numElements(); ++i) {
    const int64_t channel = channels > 1 ? (i / axisStride) % channels : 0;
    const int64_t q = roundHalfAway(
        wide.data<double>()[i] / params.scales[channel] + params.zeroPoints[channel], lo, hi);
    if (params.storage == DType::Int32)
      quantized.data<int32_t>()[i] = static_cast<int32_t>(q);
    else
      quantized.data<int8_t>()[i] = static_cast<int8_t>(q);
  }
  return quantized;
}

// The importer wraps a Softmax of unknown rank below opset 13 in Flatten -> Softmax -> Reshape
// for the version converter (frontend/OnnxImporter.cpp): the compiled graph, which has no such
// values, gives their parameters under no name. A reshape copies int8 codes, so a float value
// without parameters takes those of the value it reshapes or is reshaped into.
void adoptReshapedParameters(Graph &graph) {
  const auto reshapes = [](const Node &node) {
    return (node.opType == "Flatten" || node.opType == "Reshape") && node.domain.empty();
  };
  // Only values the nodes compute: a graph input's parameters are the compiled graph's own.
  const auto bare = [](const Value *value) {
    return value && value->producer && !value->quant && isFloatingPoint(value->dtype);
  };
  for (const auto &node : graph.nodes())
    if (reshapes(*node) && bare(node->outputs.front()) && node->input(0)->quant)
      node->outputs.front()->quant = node->input(0)->quant;
  for (auto it = graph.nodes().rbegin(); it != graph.nodes().rend(); ++it)
    if (reshapes(**it) && bare((*it)->input(0)) && (*it)->outputs.front()->quant)
      (*it)->input(0)->quant = (*it)->outputs.front()->quant;
}

} // namespace

void insertQdq(Graph &graph, S8Rounding rounding) {
  adoptReshapedParameters(graph);
  // LSTM and GRU are lowered while their values carry parameters, spelled out once quantised.
  RecurrentQdqExpansion recurrent(graph);
  llvm::SmallVector<Value *, 16> annotated;
  for (const auto &value : graph.values())
    if (value->quant && isFloatingPoint(value->dtype)) annotated.push_back(value.get());
  if (graph.opset < 13 &&
      llvm::any_of(annotated, [](const Value *v) { return v->quant->scales.size() > 1; }))
    fail("internal error: {}: per-channel QDQ parameters written at opset {} (13 is the first "
         "with them)",
         graph.sourcePath, graph.opset);

  for (Value *value : annotated) {
    const QuantParams params = *value->quant;
    const QdqOperands operands = createOperands(graph, value->name, params);
    Value *dequantized =
        graph.createValue(graph.uniqueName(value->name + "_dequantized"), value->dtype);
    dequantized->shape = value->shape;
    auto users = graph.users(value);
    if (value->isConstant()) {
      Value *stored = graph.createConstant(graph.uniqueName(value->name + "_quantized"),
                                           quantizeConstant(*value->constant, params));
      auto node = makeNode(graph, "DequantizeLinear", value->name + "_DequantizeLinear",
                           {stored, operands.scale, operands.zeroPoint}, dequantized, params);
      Node *firstUser = users.empty() ? nullptr : users.front();
      if (firstUser)
        graph.insertNodeBefore(firstUser, std::move(node));
      else
        graph.appendNode(std::move(node));
    } else {
      Value *quantized =
          graph.createValue(graph.uniqueName(value->name + "_quantized"), params.storage);
      quantized->shape = value->shape;
      auto quantize = makeNode(graph, "QuantizeLinear", value->name + "_QuantizeLinear",
                               {value, operands.scale, operands.zeroPoint}, quantized, params);
      auto dequantize =
          makeNode(graph, "DequantizeLinear", value->name + "_DequantizeLinear",
                   {quantized, operands.scale, operands.zeroPoint}, dequantized, params);
      // Right after the producer (or first, for a graph input) keeps the order topological.
      const Node *after = value->producer;
      auto &nodes = graph.mutableNodes();
      auto position = after ? std::find_if(nodes.begin(), nodes.end(),
                                           [&](const auto &n) { return n.get() == after; }) +
                                  1
                            : nodes.begin();
      const Node *next = position == nodes.end() ? nullptr : position->get();
      if (next) {
        graph.insertNodeBefore(next, std::move(quantize));
        graph.insertNodeBefore(next, std::move(dequantize));
      } else {
        graph.appendNode(std::move(quantize));
        graph.appendNode(std::move(dequantize));
      }
    }
    for (Node *user : users)
      for (Value *&input : user->inputs)
        if (input == value) input = dequantized;
    for (GraphOutput &output : graph.outputs)
      if (output.value == value) output.value = dequantized;
    value->quant.reset();
  }
  recurrent.expand(rounding);
  spellOutLinearResizes(graph);
  spellOutInt8Softmax(graph);
  graph.removeUnusedValues();
}

} // namespace edgesplit
