#include "quantize/AbsorbQOperator.h"

#include "quantize/FoldDynamicQuantization.h"

#include "interp/Interpreter.h"
#include "ops/OpDef.h"
#include "passes/Passes.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/SmallPtrSet.h>

#include <string_view>

namespace edgesplit {
namespace {

// The nodes made here may carry per-axis parameters, which DequantizeLinear accepts from opset 13;
// they mean what opset 13 says whatever the model imports.
constexpr int kQdqOpset = 13;

// Ops whose output has their input's int8 parameters (docs/int8.md): they move or compare values,
// so running them on the dequantised tensor and quantising the result again changes nothing.
constexpr std::string_view kValueMovingOps[] = {"MaxPool", "GlobalMaxPool", "Reshape",   "Flatten",
                                                "Squeeze", "Unsqueeze",     "Transpose", "Slice",
                                                "Split",   "Gather"};

constexpr std::string_view kQOperatorOps[] = {"QLinearConv", "QLinearMatMul", "ConvInteger",
                                              "MatMulInteger"};

// A quantised activation's parameters: single-element constants; the zero point may be omitted
// (uint8 0), as QuantizeLinear allows.
struct TensorParams {
  Value *scale = nullptr;
  Value *zeroPoint = nullptr;
};

// Constant weight parameters, one entry for the whole tensor or one per output channel.
struct ChannelParams {
  llvm::SmallVector<float, 8> scales;
  llvm::SmallVector<int64_t, 8> zeroPoints; // as stored in the model (uint8 not yet shifted)
};

const Tensor &requireConstant(const Node &node, size_t index, std::string_view what) {
  const Value *value = node.input(index);
  if (!value || !value->isConstant())
    fail("{}: computed at run time, not a constant: {}; edgesplit needs the scales, zero points "
         "and weights of a quantised op as constants (initialisers)",
         node.describe(), what);
  return *value->constant;
}

TensorParams activationParams(const Node &node, size_t scale, size_t zeroPoint,
                              std::string_view what) {
  if (requireConstant(node, scale, what).numElements() != 1)
    fail("{}: {} has {} elements, but edgesplit quantises activations per tensor; quantise the "
         "model again with per-tensor activations",
         node.describe(), what, node.input(scale)->constant->numElements());
  if (node.input(zeroPoint)) requireConstant(node, zeroPoint, "its zero point");
  return {node.input(scale), node.input(zeroPoint)};
}

int64_t zeroPointOf(const TensorParams &params) {
  return params.zeroPoint ? params.zeroPoint->constant->toInt64Vector()[0] : 0;
}

// Broadcasts per-tensor entries to `channels` when the other list is per channel, so both have one
// entry or `channels` entries.
ChannelParams channelParams(const Node &node, llvm::ArrayRef<double> scales,
                            llvm::ArrayRef<int64_t> zeroPoints, int64_t channels,
                            std::string_view what) {
  for (size_t count : {scales.size(), zeroPoints.size()})
    if (count != 1 && static_cast<int64_t>(count) != channels)
      fail("{}: {} has {} entries for {} output channels; edgesplit needs one per tensor or one "
           "per output channel",
           node.describe(), what, count, channels);
  ChannelParams params;
  const size_t count = std::max(scales.size(), zeroPoints.size());
  for (size_t c = 0; c < count; ++c) {
    params.scales.push_back(static_cast<float>(scales[scales.size() == 1 ? 0 : c]));
    params.zeroPoints.push_back(zeroPoints[zeroPoints.size() == 1 ? 0 : c]);
  }
  return params;
}

ChannelParams weightParams(const Node &node, size_t scale, size_t zeroPoint, int64_t channels,
                           std::string_view what) {
  const std::vector<double> scales = requireConstant(node, scale, what).toDoubleVector();
  const std::vector<int64_t> zeroPoints =
      node.input(zeroPoint)
          ? requireConstant(node, zeroPoint, "the weights' zero point").toInt64Vector()
          : std::vector<int64_t>{0};
  return channelParams(node, scales, zeroPoints, channels, what);
}

// int8 kernels take symmetric weights only (docs/int8.md); uint8 ones are shifted by 128 first.
bool isSymmetric(const Value &weights, const ChannelParams &params) {
  const int64_t shift = weights.dtype == DType::UInt8 ? 128 : 0;
  return llvm::all_of(params.zeroPoints, [&](int64_t zero) { return zero == shift; });
}

// The values of a constant that broadcasts against an output of rank `rank` along `channelAxis`
// only: one entry, or one per channel; nullopt when it varies along another axis.
std::optional<std::vector<double>> channelVector(const Tensor &tensor, size_t rank,
                                                 size_t channelAxis, int64_t channels) {
  if (tensor.rank() > rank) return std::nullopt;
  for (size_t i = 0; i < tensor.rank(); ++i) {
    const size_t axis = rank - tensor.rank() + i;
    if (tensor.dim(i) != 1 && (axis != channelAxis || tensor.dim(i) != channels))
      return std::nullopt;
  }
  return tensor.toDoubleVector();
}

Node *soleUser(const Graph &graph, const Value *value) {
  if (graph.isGraphOutput(value)) return nullptr;
  auto users = graph.users(value);
  return users.size() == 1 ? users[0] : nullptr;
}

// `node`'s operand other than `value` when `node` is a binary `opType` and that operand is
// constant.
Value *constantOperand(const Node *node, std::string_view opType, const Value *value) {
  if (!node || node->opType != opType || !node->domain.empty() || node->inputs.size() != 2)
    return nullptr;
  Value *other = node->inputs[0] == value ? node->inputs[1] : node->inputs[0];
  return other && other != value && other->isConstant() ? other : nullptr;
}

Shape paramShape(size_t count) { return count == 1 ? Shape{} : Shape{static_cast<int64_t>(count)}; }

Tensor scaleTensor(llvm::ArrayRef<float> scales) {
  return Tensor::fromVector<float>(paramShape(scales.size()), scales);
}

Tensor zeroPointTensor(DType dtype, llvm::ArrayRef<int64_t> zeroPoints) {
  return Tensor::fromVector<int64_t>(paramShape(zeroPoints.size()), zeroPoints).castTo(dtype);
}

std::unique_ptr<Node> makeNode(const Node &position, std::string opType, std::string name,
                               llvm::ArrayRef<Value *> inputs, llvm::ArrayRef<Value *> outputs,
                               AttributeMap attributes = {}, int opset = 0) {
  auto node = std::make_unique<Node>();
  node->opType = std::move(opType);
  node->name = std::move(name);
  node->opset = std::max(opset, position.opset);
  node->inputs.assign(inputs.begin(), inputs.end());
  node->outputs.assign(outputs.begin(), outputs.end());
  node->attributes = std::move(attributes);
  node->op = findOp("", node->opType);
  return node;
}

// onnxruntime's QOperator ops of domain com.microsoft (its ContribOperators.md, version 1): each
// computes DequantizeLinear -> `floatOp` -> QuantizeLinear, and onnxruntime's kernels differ from
// that only in rounding (the element-wise ones run a 256-entry table built exactly so).
enum class ContribLayout {
  Unary,  // X, X_scale, X_zero_point?, Y_scale, Y_zero_point?
  Binary, // A, A_scale, A_zero_point?, B, B_scale, B_zero_point?, C_scale, C_zero_point?
  Concat, // Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) for each input
};

struct ContribQOperator {
  std::string_view name;
  std::string_view floatOp;
  ContribLayout layout;
};

constexpr std::string_view kMicrosoftDomain = "com.microsoft";

constexpr ContribQOperator kContribQOperators[] = {
    {"QLinearAdd", "Add", ContribLayout::Binary},
    {"QLinearMul", "Mul", ContribLayout::Binary},
    {"QLinearAveragePool", "AveragePool", ContribLayout::Unary},
    {"QLinearGlobalAveragePool", "GlobalAveragePool", ContribLayout::Unary},
    {"QLinearSoftmax", "Softmax", ContribLayout::Unary},
    {"QLinearSigmoid", "Sigmoid", ContribLayout::Unary},
    {"QLinearLeakyRelu", "LeakyRelu", ContribLayout::Unary},
    {"QLinearConcat", "Concat", ContribLayout::Concat},
};

const ContribQOperator *findContribQOperator(const Node &node) {
  if (node.domain != kMicrosoftDomain) return nullptr;
  for (const ContribQOperator &op : kContribQOperators)
    if (op.name == node.opType) return &op;
  return nullptr;
}

class ContribQOperatorExpander {
public:
  ContribQOperatorExpander(Graph &graph, Node &node, const ContribQOperator &op)
      : graph_(graph), node_(node), op_(op) {}

  void run() {
    // Where the (tensor, scale, zero point) triples and the output's (scale, zero point) are.
    llvm::SmallVector<size_t, 4> triples;
    size_t outputParams = 0;
    const size_t count = node_.inputs.size();
    switch (op_.layout) {
    case ContribLayout::Unary: triples = {0}, outputParams = 3; break;
    case ContribLayout::Binary: triples = {0, 3}, outputParams = 6; break;
    case ContribLayout::Concat:
      if (count < 5 || (count - 2) % 3 != 0)
        fail("{}: has {} inputs; QLinearConcat takes Y_scale, Y_zero_point and then a (tensor, "
             "scale, zero point) triple per input",
             node_.describe(), count);
      for (size_t i = 2; i < count; i += 3) triples.push_back(i);
      break;
    }
    for (size_t triple : triples) requireInputs(triple, 2);
    requireInputs(outputParams, 1);
    if (node_.outputs.empty() || !node_.outputs[0])
      fail("{}: has no output; re-export the model", node_.describe());

    AttributeMap attributes = node_.attributes;
    int opset = graph_.opset;
    if (op_.floatOp == "Softmax") {
      // The Softmax semantics the node follows: before opset 13 it flattens to 2-D at `axis`.
      const std::optional<int64_t> softmaxOpset = attributes.getInt("opset");
      if (!softmaxOpset)
        fail("{}: has no 'opset' attribute, which QLinearSoftmax requires (the Softmax version "
             "it follows); quantise the model again",
             node_.describe());
      opset = static_cast<int>(*softmaxOpset);
      attributes.erase("opset");
    }
    const bool channelsLast = attributes.getInt("channels_last").value_or(0) != 0;
    attributes.erase("channels_last");

    llvm::SmallVector<Value *, 4> reals;
    for (size_t triple : triples) {
      Value *real = dequantize(node_.input(triple), node_.input(triple + 1),
                               node_.input(triple + 2));
      reals.push_back(channelsLast ? transpose(real, channelsFirst(real)) : real);
    }
    Value *output = node_.outputs[0];
    Value *real = newValue(output->name + "_real", DType::Float32);
    Value *result = channelsLast ? newValue(output->name + "_channels_first", DType::Float32) : real;
    insertNode(makeNode(node_, std::string(op_.floatOp), node_.name, reals, {result},
                        std::move(attributes), opset));
    if (channelsLast) {
      llvm::SmallVector<int64_t, 6> permutation = channelsFirst(node_.input(triples[0]));
      llvm::SmallVector<int64_t, 6> inverse(permutation.size());
      for (size_t i = 0; i < permutation.size(); ++i) inverse[permutation[i]] = i;
      insert("Transpose", node_.name + "_to_channels_last", {result}, {real},
             permutationAttribute(inverse));
    }
    // An omitted zero point is 0 of the op's type T, which QuantizeLinear would take as uint8.
    Value *zeroPoint = node_.input(outputParams + 1);
    if (!zeroPoint) {
      const DType type = node_.input(triples[0])->dtype;
      zeroPoint = graph_.createConstant(graph_.uniqueName(output->name + "_zero_point"),
                                        Tensor::fromVector<int64_t>({}, {0}).castTo(type));
    }
    insert("QuantizeLinear", node_.name + "_quantize", {real, node_.input(outputParams), zeroPoint},
           {output});
    graph_.eraseNode(&node_);
  }

private:
  void requireInputs(size_t first, size_t count) const {
    for (size_t i = first; i < first + count; ++i)
      if (!node_.input(i))
        fail("{}: input {} (a tensor or its scale) is missing; {} needs it", node_.describe(), i,
             node_.opType);
  }

  Value *newValue(const std::string &base, DType dtype) {
    return graph_.createValue(graph_.uniqueName(base), dtype);
  }

  // Later nodes' shapes follow from this one's, which the importer could not infer for the
  // com.microsoft node.
  void insertNode(std::unique_ptr<Node> node) {
    inferNodeShapes(*graph_.insertNodeBefore(&node_, std::move(node)));
  }

  void insert(std::string opType, std::string name, llvm::ArrayRef<Value *> inputs,
              llvm::ArrayRef<Value *> outputs, AttributeMap attributes = {}) {
    insertNode(makeNode(node_, std::move(opType), std::move(name), inputs, outputs,
                        std::move(attributes), graph_.opset));
  }

  Value *dequantize(Value *quantized, Value *scale, Value *zeroPoint) {
    Value *real = newValue(quantized->name + "_dequantized", DType::Float32);
    llvm::SmallVector<Value *, 3> inputs{quantized, scale};
    if (zeroPoint) inputs.push_back(zeroPoint);
    insert("DequantizeLinear", node_.name + "_dequantize_" + quantized->name, inputs, {real});
    return real;
  }

  // channels_last=1 puts channels on the last axis (N, H, W, C): the float op wants them second.
  llvm::SmallVector<int64_t, 6> channelsFirst(const Value *value) const {
    size_t rank = 0;
    if (value->shape) rank = value->shape->size();
    else if (auto kernel = node_.attributes.getInts("kernel_shape")) rank = kernel->size() + 2;
    if (rank < 3)
      fail("{}: channels_last=1 needs the rank of input '{}', which is unknown; pass "
           "--input-shape",
           node_.describe(), value->name);
    llvm::SmallVector<int64_t, 6> permutation{0, static_cast<int64_t>(rank) - 1};
    for (size_t axis = 1; axis + 1 < rank; ++axis) permutation.push_back(axis);
    return permutation;
  }

  static AttributeMap permutationAttribute(llvm::ArrayRef<int64_t> permutation) {
    AttributeMap attributes;
    attributes.set("perm", std::vector<int64_t>(permutation.begin(), permutation.end()));
    return attributes;
  }

  Value *transpose(Value *value, llvm::ArrayRef<int64_t> permutation) {
    Value *result = newValue(value->name + "_channels_first", DType::Float32);
    insert("Transpose", node_.name + "_to_channels_first_" + value->name, {value}, {result},
           permutationAttribute(permutation));
    return result;
  }

  Graph &graph_;
  Node &node_;
  const ContribQOperator &op_;
};

class QOperatorExpander {
public:
  explicit QOperatorExpander(Graph &graph) : graph_(graph) {}

  void run() {
    foldQuantizedWeights();
    llvm::SmallVector<Node *, 32> order;
    for (const auto &node : graph_.nodes()) order.push_back(node.get());
    for (Node *node : order) {
      if (replaced_.contains(node) || !node->domain.empty()) continue;
      const std::string &op = node->opType;
      if (op == "DynamicQuantizeLinear")
        fail("{}: {}", node->describe(), kDynamicQuantizationRefusal);
      if (op == "QuantizeLinear")
        recordQuantize(*node);
      else if (op == "QLinearConv")
        expandQLinearConv(*node);
      else if (op == "QLinearMatMul")
        expandQLinearMatMul(*node);
      else if (op == "ConvInteger" || op == "MatMulInteger")
        expandIntegerOp(*node);
      else if (llvm::is_contained(kValueMovingOps, op) && node->input(0) &&
               quantized_.count(node->input(0)))
        expandValueMovingOp(*node);
    }
    for (Node *node : replaced_) graph_.eraseNode(node);
  }

private:
  // Weights a quantiser left as QuantizeLinear(constant) (after constant folding, the Reshape or
  // Transpose of an initialiser) become the int8 constants the QOperator ops read.
  void foldQuantizedWeights() {
    llvm::SmallVector<Node *, 4> folded;
    for (const auto &nodePtr : graph_.nodes()) {
      Node &node = *nodePtr;
      Value *output = node.outputs.empty() ? nullptr : node.outputs[0];
      if (node.opType != "QuantizeLinear" || !node.domain.empty() || !output ||
          graph_.isGraphOutput(output))
        continue;
      const bool constantInputs =
          llvm::all_of(node.inputs, [](const Value *v) { return !v || v->isConstant(); });
      const auto users = graph_.users(output);
      const bool onlyQOperators =
          !users.empty() && llvm::all_of(users, [](const Node *user) { return isQOperator(*user); });
      if (!constantInputs || !onlyQOperators) continue;
      llvm::SmallVector<const Tensor *, 3> inputs;
      for (const Value *input : node.inputs) inputs.push_back(input ? input->constant.get() : nullptr);
      output->constant = std::make_shared<const Tensor>(evaluateNode(node, inputs)[0]);
      folded.push_back(&node);
    }
    for (Node *node : folded) graph_.eraseNode(node);
  }

  void recordQuantize(const Node &node) {
    const Value *scale = node.input(1);
    const Value *zeroPoint = node.input(2);
    if (node.outputs.empty() || !node.outputs[0] || !scale || !scale->isConstant() ||
        scale->constant->numElements() != 1 || (zeroPoint && !zeroPoint->isConstant()))
      return;
    quantized_[node.outputs[0]] = {node.input(1), node.input(2)};
  }

  // Before `position`, the node runs before everything `position` fed.
  void insert(const Node &position, std::string opType, std::string name,
              llvm::ArrayRef<Value *> inputs, llvm::ArrayRef<Value *> outputs,
              AttributeMap attributes = {}) {
    graph_.insertNodeBefore(&position, makeNode(position, std::move(opType), std::move(name),
                                                inputs, outputs, std::move(attributes)));
  }

  Value *newValue(const std::string &base, DType dtype, const std::optional<Shape> &shape) {
    Value *value = graph_.createValue(graph_.uniqueName(base), dtype);
    value->shape = shape;
    return value;
  }

  Value *newConstant(const std::string &base, Tensor tensor) {
    return graph_.createConstant(graph_.uniqueName(base), std::move(tensor));
  }

  Value *dequantize(const Node &position, Value *quantized, const TensorParams &params) {
    Value *real = newValue(quantized->name + "_dequantized", DType::Float32, quantized->shape);
    llvm::SmallVector<Value *, 3> inputs{quantized, params.scale};
    if (params.zeroPoint) inputs.push_back(params.zeroPoint);
    insert(position, "DequantizeLinear", position.name + "_dequantize_" + quantized->name, inputs,
           {real});
    return real;
  }

  void quantize(const Node &position, Value *real, Value *quantized, const TensorParams &params) {
    llvm::SmallVector<Value *, 3> inputs{real, params.scale};
    if (params.zeroPoint) inputs.push_back(params.zeroPoint);
    insert(position, "QuantizeLinear", position.name + "_quantize_" + quantized->name, inputs,
           {quantized});
    quantized_[quantized] = params;
  }

  // A DequantizeLinear of the constant for absorbQdq to fold into an annotated float constant when
  // `keepParams`, else the dequantised values alone, which annotation quantises afresh.
  Value *dequantizeConstant(const Node &position, Value *quantized, const ChannelParams &params,
                            int64_t axis, bool keepParams) {
    Value *scale = newConstant(quantized->name + "_scale", scaleTensor(params.scales));
    Value *zeroPoint = newConstant(quantized->name + "_zero_point",
                                   zeroPointTensor(quantized->dtype, params.zeroPoints));
    AttributeMap attributes;
    if (params.scales.size() > 1) attributes.set("axis", axis);
    Value *real = newValue(quantized->name + "_dequantized", DType::Float32, quantized->shape);
    std::unique_ptr<Node> node =
        makeNode(position, "DequantizeLinear", position.name + "_dequantize_" + quantized->name,
                 {quantized, scale, zeroPoint}, {real}, std::move(attributes), kQdqOpset);
    if (keepParams) {
      graph_.insertNodeBefore(&position, std::move(node));
      return real;
    }
    real->constant = std::make_shared<const Tensor>(evaluateNode(
        *node, {quantized->constant.get(), scale->constant.get(), zeroPoint->constant.get()})[0]);
    return real;
  }

  void expandQLinearConv(Node &node) {
    enum : size_t { kX, kXScale, kXZero, kW, kWScale, kWZero, kYScale, kYZero, kBias };
    Value *weights = node.input(kW);
    Value *output = node.outputs[0];
    const TensorParams inputParams = activationParams(node, kXScale, kXZero, "x_scale");
    const TensorParams outputParams = activationParams(node, kYScale, kYZero, "y_scale");
    requireConstant(node, kW, "w");
    const ChannelParams params =
        weightParams(node, kWScale, kWZero, weights->constant->dim(0), "w_scale");
    const bool symmetric = isSymmetric(*weights, params);

    llvm::SmallVector<Value *, 3> inputs{dequantize(node, node.input(kX), inputParams),
                                         dequantizeConstant(node, weights, params, 0, symmetric)};
    if (node.input(kBias)) {
      requireConstant(node, kBias, "B");
      // The bias is stored in units of x_scale * w_scale, the accumulator's.
      const auto inputScale = static_cast<float>(inputParams.scale->constant->toDoubleVector()[0]);
      ChannelParams biasParams;
      for (float scale : params.scales) {
        biasParams.scales.push_back(inputScale * scale);
        biasParams.zeroPoints.push_back(0);
      }
      inputs.push_back(dequantizeConstant(node, node.input(kBias), biasParams, 0, symmetric));
    }
    Value *real = newValue(output->name + "_real", DType::Float32, output->shape);
    insert(node, "Conv", node.name, inputs, {real}, node.attributes);
    quantize(node, real, output, outputParams);
    replaced_.insert(&node);
  }

  void expandQLinearMatMul(Node &node) {
    enum : size_t { kA, kAScale, kAZero, kB, kBScale, kBZero, kYScale, kYZero };
    Value *b = node.input(kB);
    Value *output = node.outputs[0];
    Value *realA =
        dequantize(node, node.input(kA), activationParams(node, kAScale, kAZero, "a_scale"));
    const TensorParams outputParams = activationParams(node, kYScale, kYZero, "y_scale");
    Value *realB = nullptr;
    if (b->isConstant() && b->constant->rank() >= 2) {
      // Weights [..., K, N]: b_scale gives one scale per column, an output channel.
      const int64_t axis = static_cast<int64_t>(b->constant->rank()) - 1;
      const ChannelParams params =
          weightParams(node, kBScale, kBZero, b->constant->dim(axis), "b_scale");
      realB = dequantizeConstant(node, b, params, axis, isSymmetric(*b, params));
    } else {
      realB = dequantize(node, b, activationParams(node, kBScale, kBZero, "b_scale"));
    }
    Value *real = newValue(output->name + "_real", DType::Float32, output->shape);
    insert(node, "MatMul", node.name, {realA, realB}, {real});
    quantize(node, real, output, outputParams);
    replaced_.insert(&node);
  }

  void expandIntegerOp(Node &node) {
    const bool isConv = node.opType == "ConvInteger";
    Value *input = node.input(0);
    Value *weights = node.input(1);
    Value *sums = node.outputs[0];
    auto source = quantized_.find(input);
    if (source == quantized_.end())
      fail("{}: input '{}' does not come from a QuantizeLinear with a constant scale, so its int8 "
           "parameters are unknown; quantise it statically, or pass a float model with "
           "--calibration",
           node.describe(), input->name);
    const TensorParams inputParams = source->second;
    const int64_t inputZero =
        node.input(2) ? requireConstant(node, 2, "the input's zero point").toInt64Vector()[0] : 0;
    if (inputZero != zeroPointOf(inputParams))
      fail("{}: its input zero point {} differs from the zero point {} of the QuantizeLinear "
           "producing '{}'; give both the same one",
           node.describe(), inputZero, zeroPointOf(inputParams), input->name);
    requireConstant(node, 1, "the weights");
    if (!sums->shape)
      fail("{}: output '{}' has no static shape; pass --input-shape", node.describe(), sums->name);

    // The float rescale a quantiser puts after the integer op.
    Node *cast = soleUser(graph_, sums);
    Value *castOutput = cast && cast->opType == "Cast" ? cast->outputs[0] : nullptr;
    Node *mul =
        castOutput && castOutput->dtype == DType::Float32 ? soleUser(graph_, castOutput) : nullptr;
    Value *scale = constantOperand(mul, "Mul", castOutput);
    if (!scale)
      fail("{}: edgesplit compiles {} only when Cast(to float) -> Mul(by a constant scale) follow "
           "it, as quantisers emit them; quantise the model as QDQ or QOperator (QLinear*) "
           "instead",
           node.describe(), node.opType);
    Value *scaled = mul->outputs[0];
    Node *add = soleUser(graph_, scaled);
    Value *bias = constantOperand(add, "Add", scaled);

    const size_t rank = sums->shape->size();
    const size_t channelAxis = isConv ? 1 : rank - 1;
    const int64_t channels = (*sums->shape)[channelAxis];
    const auto scales = channelVector(*scale->constant, rank, channelAxis, channels);
    if (!scales)
      fail("{}: the scale that node '{}' multiplies its result by varies along other axes than "
           "the output channels; edgesplit needs one scale per tensor or per output channel",
           node.describe(), mul->name);
    // a_scale * w_scale is what the model stores; a_scale is the QuantizeLinear's.
    const auto inputScale = static_cast<float>(inputParams.scale->constant->toDoubleVector()[0]);
    llvm::SmallVector<double, 8> weightScales;
    for (double product : *scales) weightScales.push_back(static_cast<float>(product) / inputScale);
    const std::vector<int64_t> weightZeros =
        node.input(3) ? requireConstant(node, 3, "the weights' zero point").toInt64Vector()
                      : std::vector<int64_t>{0};
    const int64_t weightAxis = isConv ? 0 : static_cast<int64_t>(weights->constant->rank()) - 1;
    const ChannelParams params =
        channelParams(node, weightScales, weightZeros, channels, "the weight scale");

    llvm::SmallVector<Value *, 3> inputs{
        dequantize(node, input, inputParams),
        dequantizeConstant(node, weights, params, weightAxis, isSymmetric(*weights, params))};
    // A per-channel bias joins the layer (Conv's bias, or Gemm's for a matrix product); any other
    // Add stays after it.
    std::string opType = isConv ? "Conv" : "MatMul";
    const auto biasValues =
        bias ? channelVector(*bias->constant, rank, channelAxis, channels) : std::nullopt;
    const bool foldsBias = biasValues && (isConv || (rank == 2 && weights->constant->rank() == 2));
    if (foldsBias) {
      std::vector<float> perChannel;
      for (int64_t c = 0; c < channels; ++c)
        perChannel.push_back(static_cast<float>((*biasValues)[biasValues->size() == 1 ? 0 : c]));
      inputs.push_back(
          newConstant(node.name + "_bias", Tensor::fromVector<float>({channels}, perChannel)));
      if (!isConv) opType = "Gemm";
    }
    Value *result = foldsBias ? add->outputs[0] : scaled;
    insert(node, opType, node.name, inputs, {result}, isConv ? node.attributes : AttributeMap{});
    for (Node *rescale : {&node, cast, mul}) replaced_.insert(rescale);
    if (foldsBias) replaced_.insert(add);
  }

  void expandValueMovingOp(Node &node) {
    Value *input = node.inputs[0];
    const TensorParams params = quantized_.lookup(input);
    llvm::SmallVector<Value *, 4> inputs(node.inputs.begin(), node.inputs.end());
    inputs[0] = dequantize(node, input, params);
    llvm::SmallVector<Value *, 2> outputs;
    llvm::SmallVector<std::pair<Value *, Value *>, 2> requantized; // (real, quantized)
    for (Value *output : node.outputs) {
      if (!output || output->dtype != input->dtype) {
        outputs.push_back(output);
        continue;
      }
      outputs.push_back(newValue(output->name + "_real", DType::Float32, output->shape));
      requantized.push_back({outputs.back(), output});
    }
    insert(node, node.opType, node.name, inputs, outputs, node.attributes);
    for (auto [real, quantized] : requantized) quantize(node, real, quantized, params);
    replaced_.insert(&node);
  }

  Graph &graph_;
  llvm::DenseMap<const Value *, TensorParams> quantized_;
  llvm::SmallPtrSet<Node *, 16> replaced_;
};

} // namespace

void expandQOperators(Graph &graph) { QOperatorExpander(graph).run(); }

void expandContribQOperators(Graph &graph) {
  llvm::SmallVector<std::pair<Node *, const ContribQOperator *>, 16> found;
  for (const auto &node : graph.nodes())
    if (const ContribQOperator *op = findContribQOperator(*node)) found.push_back({node.get(), op});
  for (auto [node, op] : found) ContribQOperatorExpander(graph, *node, *op).run();
  // What follows a com.microsoft node had no shapes from the importer's inference either; what
  // follows an op edgesplit lacks keeps none (the caller names that op).
  if (found.empty()) return;
  for (const auto &node : graph.nodes())
    if (llvm::all_of(node->inputs,
                     [](const Value *input) { return !input || input->dtype != DType::Undefined; }))
      inferNodeShapes(*node);
}

bool isContribQOperator(const Node &node) { return findContribQOperator(node) != nullptr; }

bool movesValuesOnly(const Node &node) {
  return node.domain.empty() && llvm::is_contained(kValueMovingOps, node.opType);
}

bool isQOperator(const Node &node) {
  return node.domain.empty() && llvm::is_contained(kQOperatorOps, node.opType);
}

} // namespace edgesplit
