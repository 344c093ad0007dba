#include "quantize/EmitQdq.h"

#include "ops/OpDef.h"
#include "ops/Softmax.h"

namespace edgesplit {

namespace {

// Appends the nodes of one spelled-out Softmax before `position`, with values named after it.
class IntegerSteps {
public:
  IntegerSteps(Graph &graph, const Node &position) : graph_(graph), position_(position) {}

  Value *constant(const std::string &suffix, Tensor tensor) {
    return graph_.createConstant(graph_.uniqueName(position_.name + "_" + suffix),
                                 std::move(tensor));
  }

  // One node writing a new value of `dtype` and `shape`.
  Value *step(const std::string &opType, llvm::ArrayRef<Value *> inputs, DType dtype,
              const Shape &shape, AttributeMap attributes = {}) {
    Value *output = graph_.createValue(graph_.uniqueName(position_.name + "_" + opType), dtype);
    output->shape = shape;
    write(opType, inputs, output, std::move(attributes));
    return output;
  }

  // One node writing an existing value (the spelled-out op's own output).
  void write(const std::string &opType, llvm::ArrayRef<Value *> inputs, Value *output,
             AttributeMap attributes = {}) {
    auto node = std::make_unique<Node>();
    node->opType = opType;
    node->name = position_.name + "/" + opType + "_" + std::to_string(written_++);
    node->opset = graph_.opset;
    node->inputs.assign(inputs.begin(), inputs.end());
    node->outputs.push_back(output);
    node->attributes = std::move(attributes);
    node->op = findOp("", opType);
    graph_.insertNodeBefore(&position_, std::move(node));
  }

private:
  Graph &graph_;
  const Node &position_;
  int written_ = 0; // node names are unique in ONNX
};

AttributeMap attributes(llvm::ArrayRef<std::pair<std::string, AttributeValue>> entries) {
  AttributeMap map;
  for (const auto &[name, value] : entries) map.set(name, value);
  return map;
}

// The producer of `value` when it is an op of `opType` (the QDQ pairs insertQdq wrote).
const Node *producedBy(const Value *value, llvm::StringRef opType) {
  return value && value->producer && value->producer->opType == opType ? value->producer : nullptr;
}

// The QuantizeLinear insertQdq put after `value`, if it has one.
const Node *quantizerOf(const Graph &graph, const Value *value) {
  for (const Node *user : graph.users(value))
    if (user->opType == "QuantizeLinear") return user;
  return nullptr;
}

float scalarOf(const Value *value) {
  return value->constant->castTo(DType::Float32).data<float>()[0];
}
int32_t zeroPointOf(const Value *value) {
  return value->constant->castTo(DType::Int32).data<int32_t>()[0];
}

// DQ(qx) -> Softmax -> y -> Q becomes the integer steps of docs/int8.md on qx, ending in a
// DequantizeLinear that writes y in the parameters of the Q after it.
bool spellOut(Graph &graph, Node &softmax) {
  const Node *dequantize = producedBy(softmax.input(0), "DequantizeLinear");
  Value *y = softmax.outputs.front();
  const Node *quantize = quantizerOf(graph, y);
  if (!dequantize || !quantize || !softmax.input(0)->shape || graph.opset < 13) return false;
  const Shape shape = *softmax.input(0)->shape;
  const int64_t rank = static_cast<int64_t>(shape.size());
  int64_t axis = softmax.attributes.getInt("axis").value_or(-1);
  if (axis < 0) axis += rank;
  Shape lineShape = shape;
  lineShape[static_cast<size_t>(axis)] = 1;

  const double outputScale = scalarOf(quantize->input(1));
  const int32_t outputZeroPoint = zeroPointOf(quantize->input(2));
  std::vector<int64_t> exp;
  for (uint32_t entry : ops::softmaxExpTable(scalarOf(dequantize->input(1)))) exp.push_back(entry);
  // The kernel's quotient lies in [0, 256].
  std::vector<int8_t> codes;
  for (int64_t quotient = 0; quotient <= 256; ++quotient)
    codes.push_back(ops::softmaxOutputCode(quotient, outputScale, outputZeroPoint));

  IntegerSteps steps(graph, softmax);
  const auto scalar = [&](const std::string &suffix, int64_t value) {
    return steps.constant(suffix, Tensor::scalar<int64_t>(value));
  };
  // int64 throughout: the sum of a line's entries (up to 2^16 each) outgrows int32.
  Value *x = steps.step("Cast", {dequantize->input(0)}, DType::Int64, shape,
                        attributes({{"to", static_cast<int64_t>(DType::Int64)}}));
  Value *lineMax = steps.step("ReduceMax", {x}, DType::Int64, lineShape,
                              attributes({{"axes", std::vector<int64_t>{axis}}, {"keepdims", 1}}));
  Value *distance = steps.step("Sub", {x, lineMax}, DType::Int64, shape);
  Value *index = steps.step("Add", {distance, scalar("last_entry", 255)}, DType::Int64, shape);
  Value *entries =
      steps.step("Gather", {steps.constant("exp", Tensor::fromVector<int64_t>({256}, exp)), index},
                 DType::Int64, shape, attributes({{"axis", 0}}));
  Value *sum = steps.step(
      "ReduceSum", {entries, steps.constant("axes", Tensor::fromVector<int64_t>({1}, {axis}))},
      DType::Int64, lineShape, attributes({{"keepdims", 1}}));
  Value *scaled =
      steps.step("Mul", {entries, scalar("probability_steps", 256)}, DType::Int64, shape);
  Value *half = steps.step("Div", {sum, scalar("two", 2)}, DType::Int64, lineShape);
  Value *rounded = steps.step("Add", {scaled, half}, DType::Int64, shape);
  Value *quotient = steps.step("Div", {rounded, sum}, DType::Int64, shape);
  Value *code = steps.step(
      "Gather",
      {steps.constant("output_codes",
                      Tensor::fromVector<int8_t>({static_cast<int64_t>(codes.size())}, codes)),
       quotient},
      DType::Int8, shape, attributes({{"axis", 0}}));
  steps.write("DequantizeLinear", {code, quantize->input(1), quantize->input(2)}, y);
  graph.eraseNode(&softmax);
  return true;
}

} // namespace

void spellOutInt8Softmax(Graph &graph) {
  llvm::SmallVector<Node *, 4> softmaxes;
  for (const auto &node : graph.nodes())
    if (node->opType == "Softmax" && node->domain.empty()) softmaxes.push_back(node.get());
  for (Node *softmax : softmaxes) spellOut(graph, *softmax);
  graph.removeUnusedValues();
}

} // namespace edgesplit
