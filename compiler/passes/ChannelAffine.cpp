#include "passes/ChannelAffine.h"

#include "ops/OpDef.h"

#include <cmath>

namespace edgesplit {

namespace {

bool isFloatConstant(const Value *value) {
  return value && value->isConstant() && value->dtype == DType::Float32;
}

int64_t attributeInt(const Node &node, const char *name, int64_t fallback) {
  return node.attributes.getInt(name).value_or(fallback);
}

// The new bias: scale * old + shift, where `old` is a vector of `channels` values, one value
// broadcast, or absent.
Tensor foldedBias(const Value *oldBias, double oldFactor, const ChannelAffine &affine) {
  const auto channels = static_cast<int64_t>(affine.scale.size());
  Tensor bias(DType::Float32, {channels});
  for (int64_t c = 0; c < channels; ++c) {
    double old = 0.0;
    if (oldBias) {
      const Tensor &values = *oldBias->constant;
      old = oldFactor * values.data<float>()[values.numElements() == 1 ? 0 : c];
    }
    bias.data<float>()[c] = static_cast<float>(old * affine.scale[c] + affine.shift[c]);
  }
  return bias;
}

void setInput(Graph &graph, Node &layer, size_t index, const std::string &name, Tensor tensor) {
  if (layer.inputs.size() <= index) layer.inputs.resize(index + 1, nullptr);
  layer.inputs[index] = graph.createConstant(graph.uniqueName(name), std::move(tensor));
}

} // namespace

std::optional<std::vector<double>> perChannelValues(const Tensor &tensor, size_t rank,
                                                    size_t channelAxis, int64_t channels) {
  if (tensor.rank() > rank || tensor.numElements() == 0) return std::nullopt;
  for (size_t i = 0; i < tensor.rank(); ++i) {
    const size_t axis = rank - tensor.rank() + i;
    if (tensor.dim(i) != 1 && (axis != channelAxis || tensor.dim(i) != channels))
      return std::nullopt;
  }
  std::vector<double> values = tensor.toDoubleVector();
  if (values.size() == 1) values.assign(static_cast<size_t>(channels), values[0]);
  return values;
}

std::optional<OutputChannels> foldableOutputChannels(const Node &layer) {
  if (!layer.domain.empty() || layer.outputs.size() != 1 || !layer.outputs[0] ||
      layer.outputs[0]->dtype != DType::Float32 || !layer.outputs[0]->shape)
    return std::nullopt;
  const Value *weights = layer.input(1);
  if (!isFloatConstant(weights)) return std::nullopt;
  const Tensor &w = *weights->constant;
  const Value *bias = layer.input(2);
  if (bias && !isFloatConstant(bias)) return std::nullopt;
  const Shape &out = *layer.outputs[0]->shape;
  if (layer.opType == "Conv" || layer.opType == "ConvTranspose") {
    if (out.size() < 3 || w.rank() < 3) return std::nullopt;
    return OutputChannels{1, out[1]};
  }
  if (layer.opType == "Gemm") {
    if (w.rank() != 2 || out.size() != 2) return std::nullopt;
    const int64_t n = out[1];
    if (bias && bias->constant->numElements() != 1 &&
        (bias->constant->numElements() != n ||
         (bias->constant->rank() == 2 && bias->constant->dim(0) != 1)))
      return std::nullopt;
    return OutputChannels{1, n};
  }
  if (layer.opType == "MatMul") {
    const Value *a = layer.input(0);
    // Gemm's C broadcasts from opset 7 on.
    if (w.rank() != 2 || !a || !a->shape || a->shape->size() != 2 || layer.opset < 7)
      return std::nullopt;
    return OutputChannels{1, w.dim(1)};
  }
  return std::nullopt;
}

bool hasWholeInt8Weights(const Node &layer) {
  const Value *weights = layer.input(1);
  if (!weights || !weights->isConstant()) return false;
  const std::vector<double> values = weights->constant->toDoubleVector();
  return llvm::all_of(values, [](double w) { return std::floor(w) == w && std::abs(w) <= 127.0; });
}

void foldChannelAffine(Graph &graph, Node &layer, const ChannelAffine &affine) {
  const Value *weights = layer.input(1);
  const Value *bias = layer.input(2);
  Tensor w = *weights->constant;
  float *data = w.data<float>();
  double biasFactor = 1.0;
  if (layer.opType == "Conv") {
    // W[m, c/g, k...]
    const int64_t perChannel = w.numElements() / w.dim(0);
    for (int64_t i = 0; i < w.numElements(); ++i)
      data[i] = static_cast<float>(data[i] * affine.scale[i / perChannel]);
  } else if (layer.opType == "ConvTranspose") {
    // W[c, m/g, k...]; output channel (group of c) * m/g + j.
    const int64_t groups = attributeInt(layer, "group", 1);
    const int64_t inPerGroup = w.dim(0) / groups, outPerGroup = w.dim(1);
    const int64_t kernel = w.numElements() / (w.dim(0) * outPerGroup);
    for (int64_t i = 0; i < w.numElements(); ++i) {
      const int64_t j = (i / kernel) % outPerGroup, c = i / (kernel * outPerGroup);
      data[i] = static_cast<float>(data[i] * affine.scale[(c / inPerGroup) * outPerGroup + j]);
    }
  } else {
    // Gemm B[k, n] (B[n, k] with transB) and MatMul B[k, n]: scale the output columns.
    const bool transB = layer.opType == "Gemm" && attributeInt(layer, "transB", 0) != 0;
    const int64_t n = static_cast<int64_t>(affine.scale.size());
    for (int64_t i = 0; i < w.numElements(); ++i)
      data[i] = static_cast<float>(data[i] * affine.scale[transB ? i / w.dim(1) : i % n]);
    if (layer.opType == "Gemm") {
      biasFactor = layer.attributes.getFloat("beta").value_or(1.0f);
      layer.attributes.set("beta", 1.0f);
    } else {
      layer.opType = "Gemm";
      layer.op = findOp("", "Gemm");
    }
  }
  setInput(graph, layer, 1, weights->name + "_folded", std::move(w));
  setInput(graph, layer, 2, layer.name + "_bias_folded", foldedBias(bias, biasFactor, affine));
}

} // namespace edgesplit
