#include "quantize/AbsorbQdq.h"

#include "codegen/FuseActivations.h"
#include "interp/Interpreter.h"
#include "passes/Passes.h"
#include "quantize/AbsorbQOperator.h"

namespace edgesplit {

namespace {

// Whether the node's quantised side is uint8: DequantizeLinear reads it, QuantizeLinear writes the
// zero point's type (uint8 when the zero point is omitted).
bool quantizedSideIsUnsigned(const Node &node) {
  if (node.opType == "DequantizeLinear") return node.input(0) && node.input(0)->dtype == DType::UInt8;
  return !node.input(2) || node.input(2)->dtype == DType::UInt8;
}

std::optional<QuantParams> constantQuantParams(const Node &node) {
  const Value *scale = node.input(1);
  const Value *zeroPoint = node.input(2);
  if (!scale || !scale->isConstant() || (zeroPoint && !zeroPoint->isConstant())) return std::nullopt;
  QuantParams params;
  for (double s : scale->constant->toDoubleVector()) params.scales.push_back(static_cast<float>(s));
  const bool isUnsigned = quantizedSideIsUnsigned(node);
  const std::vector<int64_t> zeros =
      zeroPoint ? zeroPoint->constant->toInt64Vector() : std::vector<int64_t>(1, 0);
  for (int64_t z : zeros) params.zeroPoints.push_back(static_cast<int32_t>(isUnsigned ? z - 128 : z));
  while (params.zeroPoints.size() < params.scales.size())
    params.zeroPoints.push_back(params.zeroPoints.front());
  if (params.scales.size() > 1) params.axis = node.attributes.getInt("axis").value_or(1);
  return params;
}

bool sameParams(const QuantParams &a, const QuantParams &b) {
  return a.scales == b.scales && a.zeroPoints == b.zeroPoints && a.axis == b.axis &&
         a.storage == b.storage;
}

// DequantizeLinear(constant) -> annotated float constant.
bool foldConstantDequantize(Node &node) {
  const Value *quantized = node.input(0);
  Value *output = node.outputs.empty() ? nullptr : node.outputs[0];
  if (!output || !quantized || !quantized->isConstant()) return false;
  auto params = constantQuantParams(node);
  if (!params) return false;
  llvm::SmallVector<const Tensor *, 3> inputs;
  for (const Value *input : node.inputs) inputs.push_back(input ? input->constant.get() : nullptr);
  Tensor dequantized = evaluateNode(node, inputs)[0];
  output->producer = nullptr;
  output->dtype = dequantized.dtype();
  output->shape = Shape(dequantized.shape().begin(), dequantized.shape().end());
  output->constant = std::make_shared<const Tensor>(std::move(dequantized));
  output->quant = std::move(*params);
  if (quantized->dtype == DType::Int32) output->quant->storage = DType::Int32;
  return true;
}

Value *viewAs(Graph &graph, Node &position, Value *value, Shape shape) {
  Value *target = graph.createConstant(
      graph.uniqueName(value->name + "_shape"),
      Tensor::fromVector<int64_t>({static_cast<int64_t>(shape.size())}, shape));
  Value *viewed = graph.createValue(graph.uniqueName(value->name + "_rows"), value->dtype);
  viewed->shape = std::move(shape);
  auto reshape = std::make_unique<Node>();
  reshape->opType = "Reshape";
  reshape->name = graph.uniqueName(position.name + "_rows_of_" + value->name);
  reshape->opset = position.opset;
  reshape->inputs = {value, target};
  reshape->outputs = {viewed};
  reshape->op = findOp("", "Reshape");
  graph.insertNodeBefore(&position, std::move(reshape));
  return viewed;
}

// DQ -> MatMul -> Add(constant bias) -> Q, as tf2onnx writes a TFLite fully connected layer and
// PyTorch a Linear, leaves the product between the two ops without parameters: the pair becomes
// one Gemm, whose int32 bias joins the accumulator as in a Gemm the model had. Data of rank 3 or
// more is viewed as rows [rows, K] for the Gemm and its result viewed back (Reshapes, which int8
// code generation copies).
void foldQuantisedDenseBias(Graph &graph) {
  llvm::SmallVector<Node *, 4> folded;
  llvm::SmallVector<Node *, 4> candidates;
  for (const auto &node : graph.nodes()) candidates.push_back(node.get());
  for (Node *matmulNode : candidates) {
    Node &matmul = *matmulNode;
    if (matmul.opType != "MatMul" || !matmul.domain.empty() || matmul.outputs.size() != 1) continue;
    Value *a = matmul.input(0), *b = matmul.input(1), *product = matmul.outputs[0];
    if (!a || !b || !product || product->quant || !a->shape || a->shape->size() < 2 ||
        !product->shape || !b->isConstant() || b->constant->rank() != 2)
      continue;
    Node *add = const_cast<Node *>(soleReader(graph, *product));
    if (!add || add->opType != "Add" || !add->domain.empty() || add->inputs.size() != 2) continue;
    Value *bias = add->input(0) == product ? add->input(1) : add->input(0);
    const int64_t columns = b->constant->dim(1);
    if (!bias || bias == product || !bias->isConstant() || bias->constant->numElements() != columns ||
        llvm::any_of(bias->constant->shape().drop_back(), [](int64_t dim) { return dim != 1; }) ||
        bias->constant->rank() > product->shape->size() ||
        !givenParamsDownstream(graph, *add->outputs[0]))
      continue;
    if (bias->constant->rank() != 1) {
      // Gemm's C of one value per column: the same values as a vector.
      Value *vector = graph.createConstant(graph.uniqueName(bias->name + "_vector"),
                                           bias->constant->reshaped({columns}));
      vector->quant = bias->quant;
      bias = vector;
    }
    Value *result = add->outputs[0];
    if (a->shape->size() == 2) {
      add->opType = "Gemm";
      add->op = findOp("", "Gemm");
      add->inputs = {a, b, bias};
      add->attributes = {};
    } else {
      auto gemm = std::make_unique<Node>();
      gemm->opType = "Gemm";
      gemm->name = add->name;
      gemm->opset = add->opset;
      gemm->op = findOp("", "Gemm");
      const int64_t inner = a->shape->back();
      Value *rows = viewAs(graph, matmul, a, {numElements(*a->shape) / inner, inner});
      Value *rowResult = graph.createValue(graph.uniqueName(result->name + "_rows"), result->dtype);
      rowResult->shape = Shape{(*rows->shape)[0], columns};
      gemm->inputs = {rows, b, bias};
      gemm->outputs = {rowResult};
      graph.insertNodeBefore(&matmul, std::move(gemm));
      // The Add becomes the view back.
      Value *target = graph.createConstant(
          graph.uniqueName(result->name + "_shape"),
          Tensor::fromVector<int64_t>({static_cast<int64_t>(result->shape->size())},
                                      *result->shape));
      add->opType = "Reshape";
      add->op = findOp("", "Reshape");
      add->name = graph.uniqueName(add->name + "_unflatten");
      add->inputs = {rowResult, target};
      add->attributes = {};
    }
    folded.push_back(&matmul);
  }
  for (Node *node : folded) graph.eraseNode(node);
}

} // namespace

void absorbQdq(Graph &graph) {
  expandQOperators(graph);
  llvm::SmallVector<Node *, 16> removed;
  for (const auto &node : graph.nodes())
    if (node->opType == "DequantizeLinear" && foldConstantDequantize(*node))
      removed.push_back(node.get());

  for (const auto &nodePtr : graph.nodes()) {
    Node &quantize = *nodePtr;
    if (quantize.opType != "QuantizeLinear" || quantize.outputs.empty()) continue;
    Value *real = quantize.input(0);
    Value *quantized = quantize.outputs[0];
    auto params = constantQuantParams(quantize);
    if (!real || !params || graph.isGraphOutput(quantized)) continue;
    auto users = graph.users(quantized);
    const bool allMatchingDequantize =
        !users.empty() && llvm::all_of(users, [&](const Node *user) {
          auto userParams = constantQuantParams(*user);
          return user->opType == "DequantizeLinear" && user->input(0) == quantized && userParams &&
                 sameParams(*userParams, *params) &&
                 user->outputs[0]->dtype == real->dtype;
        });
    if (!allMatchingDequantize) continue;
    // A value quantised twice with different parameters needs a real requantisation: keep it.
    if (real->quant && !sameParams(*real->quant, *params)) continue;
    real->quant = *params;
    for (Node *dequantize : users) {
      graph.replaceAllUsesWith(dequantize->outputs[0], real);
      removed.push_back(dequantize);
    }
    removed.push_back(&quantize);
  }
  for (Node *node : removed) graph.eraseNode(node);
  foldQuantisedDenseBias(graph);
  graph.removeUnusedValues();
}

void absorbQdqForInt8(Graph &graph) {
  absorbQdq(graph);
  foldLayerNormalization(graph);
  graph.removeUnusedValues();
}

const Node *soleReader(const Graph &graph, const Value &value) {
  const auto users = graph.users(&value);
  if (users.size() != 1 || graph.isGraphOutput(&value) || users[0]->input(0) != &value ||
      users[0]->outputs.size() != 1 || !users[0]->outputs[0])
    return nullptr;
  return users[0];
}

std::optional<QuantParams> givenParamsDownstream(const Graph &graph, const Value &value) {
  const Value *current = &value;
  while (!current->quant) {
    const Node *reader = soleReader(graph, *current);
    if (!reader || !(activationClampOf(*reader) || movesValuesOnly(*reader))) return std::nullopt;
    current = reader->outputs[0];
  }
  return current->quant;
}

bool quantizedForSingleRounding(const Graph &graph) {
  const llvm::StringRef producer = graph.producer;
  return producer.startswith("onnx.quantize") || producer.startswith("pytorch");
}

bool isPreQuantized(const Graph &graph) {
  for (const auto &node : graph.nodes())
    if ((node->domain.empty() &&
         (node->opType == "QuantizeLinear" || node->opType == "DequantizeLinear")) ||
        isQOperator(*node))
      return true;
  return false;
}

} // namespace edgesplit
