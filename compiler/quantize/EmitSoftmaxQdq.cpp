#include "quantize/EmitQdq.h"

#include "ops/Softmax.h"
#include "quantize/IntegerBuilder.h"

namespace edgesplit {

namespace {

// The QuantizeLinear insertQdq put after `value`, if it has one.
const Node *quantizerOf(const Graph &graph, const Value *value) {
  for (const Node *user : graph.users(value))
    if (user->opType == "QuantizeLinear") return user;
  return nullptr;
}

float scalarOf(const Value *value) {
  return value->constant->castTo(DType::Float32).data<float>()[0];
}

// DQ(qx) -> Softmax -> y -> Q becomes the integer steps of docs/int8.md on qx, ending in a
// DequantizeLinear that writes y in the parameters of the Q after it.
void spellOut(Graph &graph, Node &softmax) {
  const Node *dequantize = softmax.input(0)->producer;
  Value *y = softmax.outputs.front();
  const Node *quantize = quantizerOf(graph, y);
  if (!dequantize || dequantize->opType != "DequantizeLinear" || !quantize ||
      !softmax.input(0)->shape)
    return;
  const int64_t rank = static_cast<int64_t>(softmax.input(0)->shape->size());
  int64_t axis = softmax.attributes.getInt("axis").value_or(-1);
  if (axis < 0) axis += rank;

  std::vector<int64_t> exp;
  for (uint32_t entry : ops::softmaxExpTable(scalarOf(dequantize->input(1)))) exp.push_back(entry);
  // The kernel's quotient lies in [0, 256].
  const double outputScale = scalarOf(quantize->input(1));
  const int32_t outputZeroPoint =
      quantize->input(2)->constant->castTo(DType::Int32).data<int32_t>()[0];
  std::vector<int8_t> codes;
  for (int64_t quotient = 0; quotient <= 256; ++quotient)
    codes.push_back(ops::softmaxOutputCode(quotient, outputScale, outputZeroPoint));

  IntegerBuilder b(graph, softmax);
  AttributeMap perLine;
  perLine.set("keepdims", int64_t{1});
  AttributeMap maxPerLine = perLine;
  maxPerLine.set("axes", std::vector<int64_t>{axis});
  AttributeMap firstAxis;
  firstAxis.set("axis", int64_t{0});
  // int64 throughout: the sum of a line's entries (up to 2^16 each) outgrows int32.
  Value *x = b.cast(dequantize->input(0), DType::Int64, "codes");
  Value *lineMax = b.emit("ReduceMax", {x}, "line_max", maxPerLine);
  Value *index = b.add(b.sub(x, lineMax, "distance"), b.scalar(255), "exp_index");
  Value *entries = b.emit("Gather", {b.ints("exp", exp), index}, "exp", firstAxis);
  Value *sum = b.emit("ReduceSum", {entries, b.ints("axes", {axis})}, "sum", perLine);
  Value *rounded = b.add(b.mul(entries, b.scalar(256), "scaled"),
                         b.div(sum, b.scalar(2), "half_sum"), "rounded");
  Value *quotient = b.div(rounded, sum, "quotient");
  Value *outputCodes =
      b.emit("Gather",
             {b.constant("output_codes",
                         Tensor::fromVector<int8_t>({static_cast<int64_t>(codes.size())}, codes)),
              quotient},
             "output_codes", firstAxis, DType::Int8);
  b.emitInto("DequantizeLinear", {outputCodes, quantize->input(1), quantize->input(2)}, y);
  graph.eraseNode(&softmax);
}

} // namespace

void spellOutInt8Softmax(Graph &graph) {
  llvm::SmallVector<Node *, 4> softmaxes;
  for (const auto &node : graph.nodes())
    if (node->opType == "Softmax" && node->domain.empty()) softmaxes.push_back(node.get());
  for (Node *softmax : softmaxes) spellOut(graph, *softmax);
}

} // namespace edgesplit
