#include "quantize/EmitRecurrentQdq.h"

#include "codegen/LowerContext.h"
#include "ops/Recurrent.h"
#include "quantize/IntegerBuilder.h"
#include "support/Error.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

namespace edgesplit {

// One layer as its lowering sees it, kept from before insertQdq consumes the parameters.
struct LoweredRecurrentLayer {
  Node *node = nullptr;
  bool isLstm = false;
  ops::RecurrentS8Layer layer;
  // Constant initial states as the kernel reads them (int8, the state's own layout).
  std::vector<int8_t> constantHidden, constantCell;
};

namespace {

constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt16Min = std::numeric_limits<int16_t>::min();
constexpr int64_t kInt16Max = std::numeric_limits<int16_t>::max();
// The gate tables are stored one after the other: sigmoid, then tanh (recurrentGateTables).
constexpr int64_t kSigmoidTable = 0;
constexpr int64_t kTanhTable = ES_RECURRENT_TABLE_SIZE;

int64_t pow2(int64_t n) { return int64_t{1} << n; }

// docs/int8.md's primitives on int64 codes, in the build's rounding rule.
class FixedPointOps {
public:
  FixedPointOps(IntegerBuilder &b, S8Rounding rounding, llvm::ArrayRef<int32_t> tables)
      : b_(b), rounding_(rounding) {
    // The gate tables and, for the interpolation, each entry's step to the next (0 after the
    // last entry, which the lookup never interpolates from).
    std::vector<int64_t> entries(tables.begin(), tables.end()), steps(tables.size(), 0);
    for (size_t i = 0; i < tables.size(); ++i)
      if ((i + 1) % ES_RECURRENT_TABLE_SIZE != 0) steps[i] = int64_t{tables[i + 1]} - tables[i];
    tables_ = b_.ints("gate_tables", entries);
    steps_ = b_.ints("gate_table_steps", steps);
  }

  IntegerBuilder &builder() { return b_; }

  // rounding_divide_by_pot: x / 2^n to nearest, halves away from zero (n per element of the last
  // axis, or one for all).
  Value *roundingDivideByPot(Value *x, llvm::ArrayRef<int64_t> exponents, std::string_view name) {
    if (llvm::all_of(exponents, [](int64_t n) { return n == 0; })) return x;
    std::vector<int64_t> halves, negativeHalves, divisors;
    for (int64_t n : exponents) {
      halves.push_back(n > 0 ? pow2(n - 1) : 0);
      negativeHalves.push_back(-halves.back());
      divisors.push_back(pow2(n));
    }
    const std::string base(name);
    // Away from zero: add the half with x's sign, then divide truncating toward zero.
    Value *half = b_.bySign(x, b_.perRow(base + "_negative_half", negativeHalves),
                            b_.perRow(base + "_half", halves), base + "_half");
    return b_.div(b_.add(x, half, base + "_nudged"), b_.perRow(base + "_divisor", divisors), name);
  }

  // requantize(x, factor) of an int32 x, saturated to int32, per element of the last axis (or
  // one factor for all).
  Value *requantize(Value *x, llvm::ArrayRef<es_requant_t> factors, std::string_view name) {
    return rounding_ == S8Rounding::Single ? requantizeOnce(x, factors, name)
                                           : requantizeTwice(x, factors, name);
  }

  // lookup(f, z) of a Q3.12 z: the table entry below z plus the interpolated step, rounded.
  // `tables` selects sigmoid or tanh per element of the last axis (or one for all).
  Value *lookup(Value *z, llvm::ArrayRef<int64_t> tables, std::string_view name) {
    const std::string base(name);
    Value *position = b_.add(z, b_.scalar(32768), base + "_position");
    Value *index = b_.div(position, b_.scalar(256), base + "_index");
    Value *fraction = b_.mod(position, b_.scalar(256), base + "_fraction");
    if (!llvm::all_of(tables, [](int64_t t) { return t == kSigmoidTable; }))
      index = b_.add(index, b_.perRow(base + "_table", tables), base + "_entry");
    Value *entry = b_.emit("Gather", {tables_, index}, base + "_base");
    Value *step = b_.emit("Gather", {steps_, index}, base + "_step");
    Value *interpolated = roundingDivideByPot(b_.mul(step, fraction, base + "_scaled_step"), {8},
                                              base + "_interpolated");
    return b_.add(entry, interpolated, name);
  }

  // An int8 output: clamp(requantize(x, factor) + zero point), cast to int8.
  Value *quantizeOutput(Value *x, es_requant_t factor, int32_t zeroPoint, std::string_view name) {
    const std::string base(name);
    Value *rescaled = requantize(x, {factor}, base + "_rescaled");
    Value *shifted = b_.add(rescaled, b_.scalar(zeroPoint), base + "_shifted");
    return b_.cast(b_.clip(shifted, -128, 127, base + "_clamped"), DType::Int8, name);
  }

private:
  // Single rounding: floor((x * multiplier + 2^(right-1)) / 2^right), right = 31 - shift; the
  // floor division is an exact one after taking off the floor modulo.
  Value *requantizeOnce(Value *x, llvm::ArrayRef<es_requant_t> factors, std::string_view name) {
    std::vector<int64_t> multipliers, halves, divisors;
    for (const es_requant_t &factor : factors) {
      const int64_t right = 31 - factor.shift;
      // A factor of 2^30 or more: no layer's rescale comes near it.
      if (right < 1)
        fail("internal error: --emit-qdq: recurrent rescale factor {} * 2^{} is out of range",
             factor.multiplier, factor.shift - 31);
      multipliers.push_back(factor.multiplier);
      halves.push_back(pow2(right - 1));
      divisors.push_back(pow2(right));
    }
    const std::string base(name);
    Value *product = b_.mul(x, b_.perRow(base + "_multiplier", multipliers), base + "_product");
    Value *nudged = b_.add(product, b_.perRow(base + "_half", halves), base + "_nudged");
    Value *divisor = b_.perRow(base + "_divisor", divisors);
    Value *whole = b_.sub(nudged, b_.mod(nudged, divisor, base + "_remainder"), base + "_whole");
    return b_.clip(b_.div(whole, divisor, base + "_quotient"), kInt32Min, kInt32Max, name);
  }

  // Double rounding: rounding_doubling_high_mul of x * 2^left (saturated to int32) and the
  // multiplier, then rounding_divide_by_pot by right.
  Value *requantizeTwice(Value *x, llvm::ArrayRef<es_requant_t> factors, std::string_view name) {
    std::vector<int64_t> multipliers, leftFactors, rights;
    for (const es_requant_t &factor : factors) {
      multipliers.push_back(factor.multiplier);
      // Past 31 every non-zero x saturates anyway (as the runtime caps it).
      leftFactors.push_back(pow2(std::min<int64_t>(std::max(factor.shift, 0), 31)));
      rights.push_back(std::max(-factor.shift, 0));
    }
    const std::string base(name);
    Value *scaled = b_.clip(b_.mul(x, b_.perRow(base + "_left", leftFactors), base + "_left"),
                            kInt32Min, kInt32Max, base + "_saturated");
    Value *product =
        b_.mul(scaled, b_.perRow(base + "_multiplier", multipliers), base + "_product");
    Value *nudge =
        b_.bySign(product, b_.scalar(1 - pow2(30)), b_.scalar(pow2(30)), base + "_nudge");
    Value *high =
        b_.div(b_.add(product, nudge, base + "_nudged"), b_.scalar(pow2(31)), base + "_high");
    return roundingDivideByPot(high, rights, name);
  }

  IntegerBuilder &b_;
  S8Rounding rounding_;
  Value *tables_ = nullptr;
  Value *steps_ = nullptr;
};

// Rows [begin, end) of one direction's int8 matrix ([rows, columns], row-major) transposed to
// an int64 [columns, end - begin] constant, for x @ matrix^T.
Value *transposedRows(IntegerBuilder &b, std::string_view name, llvm::ArrayRef<int8_t> matrix,
                      int64_t columns, int64_t begin, int64_t end) {
  std::vector<int64_t> values(static_cast<size_t>(columns * (end - begin)));
  for (int64_t row = begin; row < end; ++row)
    for (int64_t column = 0; column < columns; ++column)
      values[column * (end - begin) + (row - begin)] = matrix[row * columns + column];
  return b.constant(name, Tensor::fromVector<int64_t>({columns, end - begin}, values));
}

std::vector<int64_t> widened(llvm::ArrayRef<int32_t> values) {
  return std::vector<int64_t>(values.begin(), values.end());
}

// The int8 value a DequantizeLinear that insertQdq put in front of `value` reads.
Value *quantizedSource(const Value *value, const Node &layer) {
  if (!value->producer || value->producer->opType != "DequantizeLinear")
    fail("internal error: --emit-qdq: input '{}' of {} is not dequantised", value->name,
         layer.describe());
  return value->producer->inputs[0];
}

// Expands one layer in front of its node.
class LayerExpansion {
public:
  LayerExpansion(Graph &graph, const LoweredRecurrentLayer &lowered, S8Rounding rounding)
      : graph_(graph), lowered_(lowered), node_(*lowered.node), b_(graph, node_),
        fixed_(b_, rounding, lowered.layer.operands.tables), operands_(lowered.layer.operands),
        p_(operands_.params), gates_(lowered.isLstm ? 4 : 3) {}

  void run() {
    Value *x = sequence();
    llvm::SmallVector<Value *, 2> hiddenStates =
        initialStates(ops::kInitialHidden, lowered_.layer.initialHidden, lowered_.constantHidden,
                      p_.initial_h_zp, p_.initial_h_requant, -128, 127, "initial_h");
    llvm::SmallVector<Value *, 2> cellStates;
    if (lowered_.isLstm)
      cellStates =
          initialStates(ops::kInitialCell, lowered_.layer.initialCell, lowered_.constantCell,
                        p_.initial_c_zp, p_.initial_c_requant, kInt16Min, kInt16Max, "initial_c");
    llvm::SmallVector<Value *, 2> ys, lastHidden, lastCell;
    for (int64_t d = 0; d < p_.directions; ++d) {
      Direction direction =
          runDirection(x, d, hiddenStates[d], lowered_.isLstm ? cellStates[d] : nullptr);
      ys.push_back(direction.y);
      lastHidden.push_back(direction.hidden);
      lastCell.push_back(direction.cell);
    }
    // [T, directions, batch, hidden] and [directions, batch, hidden], then the model's layout.
    const std::vector<int64_t> sequencePerm = {2, 0, 1, 3}, statePerm = {1, 0, 2};
    if (wants(0))
      replaceOutput(
          0, finalOutput(b_.concat(ys, 1, "y"), p_.y_requant, p_.y_zp, sequencePerm, "y_int8"));
    if (wants(1))
      replaceOutput(1, finalOutput(b_.squeeze(b_.concat(lastHidden, 1, "y_h_steps"), 0, "y_h"),
                                   p_.y_h_requant, p_.y_h_zp, statePerm, "y_h_int8"));
    if (lowered_.isLstm && wants(2))
      replaceOutput(2, finalOutput(b_.squeeze(b_.concat(lastCell, 1, "y_c_steps"), 0, "y_c"),
                                   p_.y_c_requant, p_.y_c_zp, statePerm, "y_c_int8"));
    for (Value *input : consumedInputs_) dropUnusedDequantize(input);
    graph_.eraseNode(lowered_.node);
  }

private:
  struct Direction {
    Value *y = nullptr;      // [T, 1, batch, hidden], time order
    Value *hidden = nullptr; // [1, 1, batch, hidden] after the last step
    Value *cell = nullptr;
  };

  bool wants(size_t index) const {
    return index < node_.outputs.size() && node_.outputs[index] != nullptr;
  }

  // The int8 input as int64 codes less the zero point, [T, 1, batch, input].
  Value *sequence() {
    Value *dequantized = node_.inputs[ops::kSequence];
    consumedInputs_.push_back(dequantized);
    Value *x = b_.cast(quantizedSource(dequantized, node_), DType::Int64, "x");
    x = b_.sub(x, b_.scalar(p_.input_zp), "x_centred");
    if (p_.batch_major) x = b_.transpose(x, {1, 0, 2}, "x_time_major", DType::Int64);
    return b_.unsqueeze(x, 1, "x_steps");
  }

  // One [1, 1, batch, hidden] state per direction: clamp(requantize(q - Z, factor)), or zeros.
  llvm::SmallVector<Value *, 2> initialStates(size_t index, const ops::QuantizedState &state,
                                              llvm::ArrayRef<int8_t> constant, int32_t zeroPoint,
                                              es_requant_t factor, int64_t lo, int64_t hi,
                                              std::string_view name) {
    const std::string base(name);
    const int64_t directions = p_.directions;
    const Shape stateShape = p_.batch_major ? Shape{p_.batch, directions, p_.hidden_size}
                                            : Shape{directions, p_.batch, p_.hidden_size};
    llvm::SmallVector<Value *, 2> states;
    if (state.arg.kind == KernelArg::Kind::Null) {
      Value *zeros =
          b_.constant(base + "_zeros", Tensor(DType::Int64, {1, 1, p_.batch, p_.hidden_size}));
      states.assign(static_cast<size_t>(directions), zeros);
      return states;
    }
    Value *quantized;
    if (state.arg.kind == KernelArg::Kind::Constant) {
      quantized =
          b_.constant(base + "_quantized", Tensor::fromVector<int8_t>(stateShape, constant));
    } else {
      Value *dequantized = node_.inputs[index];
      consumedInputs_.push_back(dequantized);
      quantized = quantizedSource(dequantized, node_);
    }
    Value *codes = b_.sub(b_.cast(quantized, DType::Int64, base + "_codes"), b_.scalar(zeroPoint),
                          base + "_centred");
    Value *value =
        b_.clip(fixed_.requantize(codes, {factor}, base + "_rescaled"), lo, hi, base + "_value");
    if (p_.batch_major)
      value = b_.transpose(value, {1, 0, 2}, base + "_direction_major", DType::Int64);
    Value *perDirection = b_.unsqueeze(value, 0, base + "_steps");
    for (Value *part : b_.split(perDirection, 1, static_cast<size_t>(directions), base))
      states.push_back(part);
    return states;
  }

  Direction runDirection(Value *x, int64_t d, Value *hidden, Value *cell) {
    const int64_t rows = gates_ * p_.hidden_size, first = d * rows;
    const std::string dir = fmt::format("d{}_", d);
    // The input side of every step at once: requantize(sat32(b + sum (x - Zx) * W), Mx).
    Value *weights = transposedRows(b_, dir + "w", operands_.w, p_.input_size, first, first + rows);
    // Both ops keep 4 * hidden biases per direction (GRU: 3 * hidden, then the hidden rows' Rb).
    const llvm::ArrayRef<int32_t> bias =
        llvm::ArrayRef<int32_t>(operands_.bias).slice(d * 4 * p_.hidden_size, 4 * p_.hidden_size);
    Value *accumulator =
        b_.clip(b_.add(b_.matmul(x, weights, dir + "x_product"),
                       b_.ints(dir + "bias", widened(bias.take_front(rows))), dir + "x_biased"),
                kInt32Min, kInt32Max, dir + "x_accumulator");
    Value *inputPart = fixed_.requantize(accumulator, inputFactors(first, rows), dir + "x_part");
    llvm::SmallVector<Value *, 4> steps =
        b_.split(inputPart, 0, static_cast<size_t>(p_.seq_length), dir + "x_step");

    std::vector<Value *> outputs(static_cast<size_t>(p_.seq_length));
    for (int64_t step = 0; step < p_.seq_length; ++step) {
      const int64_t t = p_.reverse || d == 1 ? p_.seq_length - 1 - step : step;
      const std::string name = fmt::format("{}t{}_", dir, t);
      if (lowered_.isLstm)
        std::tie(hidden, cell) = lstmStep(steps[t], hidden, cell, d, name);
      else
        hidden = gruStep(steps[t], hidden, d, bias.slice(rows, p_.hidden_size), name);
      outputs[t] = hidden;
    }
    Direction result{.hidden = hidden, .cell = cell};
    if (wants(0)) result.y = b_.concat(outputs, 0, dir + "y");
    return result;
  }

  llvm::ArrayRef<es_requant_t> inputFactors(int64_t first, int64_t count) const {
    return llvm::ArrayRef<es_requant_t>(operands_.inputRequant).slice(first, count);
  }
  llvm::ArrayRef<es_requant_t> recurrentFactors(int64_t first, int64_t count) const {
    return llvm::ArrayRef<es_requant_t>(operands_.recurrentRequant).slice(first, count);
  }

  // requantize(sat32(bias + h @ R[rows]^T), Mh[rows]) for gate rows [begin, end) of direction d.
  Value *recurrentPart(Value *state, int64_t d, int64_t begin, int64_t end, Value *bias,
                       const std::string &name) {
    const int64_t first = d * gates_ * p_.hidden_size;
    Value *product = b_.matmul(state, recurrentWeights(d, begin, end), name + "h_product");
    if (bias) product = b_.add(product, bias, name + "h_biased");
    Value *accumulator = b_.clip(product, kInt32Min, kInt32Max, name + "h_accumulator");
    return fixed_.requantize(accumulator, recurrentFactors(first + begin, end - begin),
                             name + "h_part");
  }

  // R's rows [begin, end) of direction d, transposed, one constant per layer.
  Value *recurrentWeights(int64_t d, int64_t begin, int64_t end) {
    auto [it, added] = recurrentWeights_.try_emplace({d, begin}, nullptr);
    if (added) {
      const int64_t first = d * gates_ * p_.hidden_size;
      it->second = transposedRows(b_, fmt::format("d{}_r{}", d, begin), operands_.r, p_.hidden_size,
                                  first + begin, first + end);
    }
    return it->second;
  }

  Value *clipGate(Value *z, const std::string &name) {
    // sat16 then the gate clip, which lies within int16.
    return b_.clip(z, -p_.gate_clip, p_.gate_clip, name);
  }

  std::pair<Value *, Value *> lstmStep(Value *inputPart, Value *hidden, Value *cell, int64_t d,
                                       const std::string &name) {
    const int64_t h = p_.hidden_size;
    Value *pre = clipGate(
        b_.add(inputPart, recurrentPart(hidden, d, 0, 4 * h, nullptr, name), name + "pre_sum"),
        name + "pre");
    // Rows i, o, f (sigmoid) and c (tanh).
    std::vector<int64_t> tables(static_cast<size_t>(4 * h), kSigmoidTable);
    std::fill(tables.begin() + 3 * h, tables.end(), kTanhTable);
    llvm::SmallVector<Value *, 4> gates =
        b_.split(fixed_.lookup(pre, tables, name + "gates"), 3, 4, name + "gate");
    Value *inputGate = gates[0], *outputGate = gates[1], *forgetGate = gates[2],
          *candidate = gates[3];
    const int64_t cs = p_.cell_shift;
    Value *kept = fixed_.roundingDivideByPot(b_.mul(forgetGate, cell, name + "forget_product"),
                                             {15}, name + "kept");
    Value *added = fixed_.roundingDivideByPot(b_.mul(inputGate, candidate, name + "input_product"),
                                              {30 - cs}, name + "added");
    Value *nextCell =
        b_.clip(b_.add(kept, added, name + "cell_sum"), kInt16Min, kInt16Max, name + "cell");
    Value *tanhInput =
        cs >= 12 ? fixed_.roundingDivideByPot(nextCell, {cs - 12}, name + "cell_q12")
                 : b_.clip(b_.mul(nextCell, b_.scalar(pow2(12 - cs)), name + "cell_scaled"),
                           kInt16Min, kInt16Max, name + "cell_q12");
    Value *squashed = fixed_.lookup(tanhInput, {kTanhTable}, name + "cell_tanh");
    Value *nextHidden =
        b_.clip(fixed_.roundingDivideByPot(b_.mul(outputGate, squashed, name + "output_product"),
                                           {23}, name + "hidden_rounded"),
                -128, 127, name + "hidden");
    return {nextHidden, nextCell};
  }

  Value *gruStep(Value *inputPart, Value *hidden, int64_t d, llvm::ArrayRef<int32_t> hiddenBias,
                 const std::string &name) {
    const int64_t h = p_.hidden_size;
    llvm::SmallVector<Value *, 4> inputs = b_.split(inputPart, 3, 2, name + "x_gates", {2 * h, h});
    Value *pre =
        clipGate(b_.add(inputs[0], recurrentPart(hidden, d, 0, 2 * h, nullptr, name + "zr_"),
                        name + "zr_sum"),
                 name + "zr_pre");
    llvm::SmallVector<Value *, 4> gates =
        b_.split(fixed_.lookup(pre, {kSigmoidTable}, name + "zr"), 3, 2, name + "gate");
    Value *update = gates[0], *reset = gates[1];
    Value *bias = biasConstant(d, hiddenBias);
    Value *recurrent;
    if (p_.linear_before_reset) {
      Value *product = b_.clip(recurrentPart(hidden, d, 2 * h, 3 * h, bias, name + "n_"), -65536,
                               65536, name + "n_product");
      recurrent = fixed_.roundingDivideByPot(b_.mul(reset, product, name + "n_reset_product"), {15},
                                             name + "n_recurrent");
    } else {
      Value *resetHidden = fixed_.roundingDivideByPot(b_.mul(reset, hidden, name + "reset_product"),
                                                      {15}, name + "reset_hidden");
      recurrent = recurrentPart(resetHidden, d, 2 * h, 3 * h, bias, name + "n_");
    }
    Value *candidate =
        fixed_.lookup(clipGate(b_.add(inputs[1], recurrent, name + "n_sum"), name + "n_pre"),
                      {kTanhTable}, name + "n");
    Value *keep = b_.sub(b_.scalar(32768), update, name + "update_complement");
    Value *blend = b_.add(
        b_.mul(keep, candidate, name + "new_part"),
        b_.mul(b_.mul(update, hidden, name + "old_product"), b_.scalar(256), name + "old_part"),
        name + "blend");
    return b_.clip(fixed_.roundingDivideByPot(blend, {23}, name + "hidden_rounded"), -128, 127,
                   name + "hidden");
  }

  // GRU's second bias (the hidden rows' Rb at 2^-7 * Sr), one constant per direction.
  Value *biasConstant(int64_t d, llvm::ArrayRef<int32_t> values) {
    auto [it, added] = hiddenBiases_.try_emplace(d, nullptr);
    if (added) it->second = b_.ints(fmt::format("d{}_recurrent_bias", d), widened(values));
    return it->second;
  }

  // [T or 1, directions, batch, hidden] (state outputs squeezed to 3-D) in the output's
  // parameters and the model's layout.
  Value *finalOutput(Value *codes, es_requant_t factor, int32_t zeroPoint,
                     std::vector<int64_t> batchMajorPerm, std::string_view name) {
    if (!p_.batch_major) return fixed_.quantizeOutput(codes, factor, zeroPoint, name);
    Value *quantized =
        fixed_.quantizeOutput(codes, factor, zeroPoint, std::string(name) + "_time_major");
    return b_.transpose(quantized, std::move(batchMajorPerm), name, DType::Int8);
  }

  // The layer's output `index` was quantised by the QuantizeLinear insertQdq put after it: its
  // DequantizeLinear now reads `codes` instead.
  void replaceOutput(size_t index, Value *codes) {
    Value *output = node_.outputs[index];
    llvm::SmallVector<Node *, 4> users = graph_.users(output);
    auto quantizer =
        llvm::find_if(users, [](const Node *n) { return n->opType == "QuantizeLinear"; });
    if (users.size() != 1 || quantizer == users.end())
      fail("internal error: --emit-qdq: output '{}' of {} is not quantised", output->name,
           node_.describe());
    graph_.replaceAllUsesWith((*quantizer)->outputs[0], codes);
    graph_.eraseNode(*quantizer);
  }

  // A DequantizeLinear that only the layer read goes with it.
  void dropUnusedDequantize(Value *dequantized) {
    Node *dequantize = dequantized->producer;
    if (!dequantize || graph_.isGraphOutput(dequantized)) return;
    const llvm::SmallVector<Node *, 4> users = graph_.users(dequantized);
    if (llvm::all_of(users, [&](const Node *user) { return user == &node_; }))
      graph_.eraseNode(dequantize);
  }

  Graph &graph_;
  const LoweredRecurrentLayer &lowered_;
  const Node &node_;
  IntegerBuilder b_;
  FixedPointOps fixed_;
  const ops::RecurrentS8Operands &operands_;
  const es_recurrent_s8_params_t &p_;
  int64_t gates_;
  llvm::SmallVector<Value *, 3> consumedInputs_;
  std::map<std::pair<int64_t, int64_t>, Value *> recurrentWeights_;
  std::map<int64_t, Value *> hiddenBiases_;
};

} // namespace

RecurrentQdqExpansion::RecurrentQdqExpansion(Graph &graph) : graph_(graph) {
  for (const auto &node : graph.nodes()) {
    const bool isLstm = node->opType == "LSTM", isGru = node->opType == "GRU";
    if (!node->domain.empty() || (!isLstm && !isGru)) continue;
    Program program;
    program.precision = Precision::Int8;
    LowerContext ctx(*node, program, std::nullopt);
    LoweredRecurrentLayer lowered;
    lowered.node = node.get();
    lowered.isLstm = isLstm;
    lowered.layer = isLstm ? ops::lstmS8Layer(ctx) : ops::gruS8Layer(ctx);
    auto constantState = [&](const ops::QuantizedState &state) {
      if (state.arg.kind != KernelArg::Kind::Constant) return std::vector<int8_t>();
      const auto *values = static_cast<const int8_t *>(ctx.constantData(state.arg));
      return std::vector<int8_t>(values, values + program.constant(state.arg.constant).count);
    };
    lowered.constantHidden = constantState(lowered.layer.initialHidden);
    lowered.constantCell = constantState(lowered.layer.initialCell);
    layers_.push_back(std::move(lowered));
  }
}

RecurrentQdqExpansion::~RecurrentQdqExpansion() = default;

void RecurrentQdqExpansion::expand(S8Rounding rounding) {
  for (const LoweredRecurrentLayer &layer : layers_) LayerExpansion(graph_, layer, rounding).run();
  layers_.clear();
}

} // namespace edgesplit
