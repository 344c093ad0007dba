// The int8 LSTM and GRU kernels of runtime-c (es_lstm_s8, es_gru_s8) against the independent
// integer references of compiler/ops/LSTM.cpp and GRU.cpp (docs/int8.md "LSTM and GRU"), bit for
// bit on random layers: every direction, layout, clip, initial-state and output combination, and
// factors and zero points across their range so that the saturations are reached too.
#include "ops/Recurrent.h"
#include "quantize/QuantMath.h"

#include <catch2/catch.hpp>

#include <random>

namespace edgesplit::ops {
namespace {

struct RandomLayer {
  RecurrentS8Operands operands;
  std::vector<int8_t> x, initialHidden, initialCell;
};

RandomLayer randomLayer(std::mt19937 &rng, int64_t gates) {
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto factor = [&](double lo, double hi) {
    const double value =
        std::exp(std::uniform_real_distribution<double>(std::log(lo), std::log(hi))(rng));
    const FixedPointFactor fixed = quantizeMultiplier(value);
    return es_requant_t{fixed.multiplier, fixed.shift};
  };
  RandomLayer layer;
  es_recurrent_s8_params_t &p = layer.operands.params;
  p.seq_length = uniform(1, 7);
  p.batch = uniform(1, 3);
  p.input_size = uniform(1, 9);
  p.hidden_size = uniform(1, 8);
  p.directions = uniform(1, 2);
  p.reverse = p.directions == 1 && uniform(0, 1);
  p.batch_major = uniform(0, 1);
  p.linear_before_reset = uniform(0, 1);
  p.input_zp = uniform(-128, 127);
  p.gate_clip = uniform(0, 1) ? 32767 : uniform(1, 32767);
  p.cell_shift = uniform(11, 15);
  p.initial_h_zp = uniform(-20, 20);
  p.initial_h_requant = factor(0.1, 4.0);
  p.initial_c_zp = uniform(-20, 20);
  p.initial_c_requant = factor(1.0, 5000.0);
  // Y and Y_h: the identity (the hidden state's own parameters) or another scale.
  p.y_zp = uniform(0, 1) ? 0 : uniform(-20, 20);
  p.y_requant = p.y_zp == 0 ? es_requant_t{1 << 30, 1} : factor(0.2, 3.0);
  p.y_h_zp = uniform(-20, 20);
  p.y_h_requant = factor(0.2, 3.0);
  p.y_c_zp = uniform(-20, 20);
  p.y_c_requant = factor(1e-4, 0.1);
  const int64_t rows = p.directions * gates * p.hidden_size;
  auto int8s = [&](int64_t count, int lo) {
    std::vector<int8_t> values(static_cast<size_t>(count));
    for (int8_t &v : values) v = static_cast<int8_t>(uniform(lo, 127));
    return values;
  };
  layer.operands.w = int8s(rows * p.input_size, -127);
  layer.operands.r = int8s(rows * p.hidden_size, -127);
  // GRU: 3 * hidden input-side rows then hidden recurrent rows per direction; LSTM: 4 * hidden.
  for (int64_t i = 0; i < p.directions * 4 * p.hidden_size; ++i)
    layer.operands.bias.push_back(uniform(-200000, 200000));
  for (int64_t row = 0; row < rows; ++row) {
    layer.operands.inputRequant.push_back(factor(0.01, 3.0));
    layer.operands.recurrentRequant.push_back(factor(0.01, 3.0));
  }
  layer.operands.tables = recurrentGateTables();
  layer.x = int8s(int64_t{p.seq_length} * p.batch * p.input_size, -128);
  layer.initialHidden = int8s(int64_t{p.directions} * p.batch * p.hidden_size, -128);
  layer.initialCell = int8s(int64_t{p.directions} * p.batch * p.hidden_size, -128);
  return layer;
}

// The kernel's outputs for the same requests, NULL where an output is not wanted.
struct KernelOutputs {
  std::vector<int8_t> y, hidden, cell;
  std::vector<int8_t> scratch;
  KernelOutputs(const es_recurrent_s8_params_t &p, bool wantY, bool wantHidden, bool wantCell) {
    const size_t states = static_cast<size_t>(p.directions * p.batch * p.hidden_size);
    if (wantY) y.assign(states * p.seq_length, 55);
    if (wantHidden) hidden.assign(states, 55);
    if (wantCell) cell.assign(states, 55);
    scratch.assign(static_cast<size_t>(ES_RECURRENT_S8_SCRATCH_BYTES(&p)), 0x55);
  }
  static int8_t *data(std::vector<int8_t> &v) { return v.empty() ? nullptr : v.data(); }
};

TEST_CASE("es_lstm_s8 matches the integer reference bit for bit", "[recurrent][s8]") {
  std::mt19937 rng(15);
  for (int trial = 0; trial < 300; ++trial) {
    RandomLayer layer = randomLayer(rng, 4);
    const RecurrentS8Operands &o = layer.operands;
    const bool wantY = trial % 2 == 0, wantHidden = trial % 3 != 0, wantCell = trial % 5 != 1;
    const int8_t *h0 = trial % 4 == 0 ? nullptr : layer.initialHidden.data();
    const int8_t *c0 = trial % 7 == 0 ? nullptr : layer.initialCell.data();
    const RecurrentS8Outputs expected =
        referenceLstmS8(o, layer.x, h0, c0, wantY, wantHidden, wantCell);
    KernelOutputs actual(o.params, wantY, wantHidden, wantCell);
    es_lstm_s8(&o.params, layer.x.data(), o.w.data(), o.r.data(), o.bias.data(),
               o.inputRequant.data(), o.recurrentRequant.data(), o.tables.data(), h0, c0,
               actual.scratch.data(), KernelOutputs::data(actual.y),
               KernelOutputs::data(actual.hidden), KernelOutputs::data(actual.cell));
    INFO("trial " << trial);
    REQUIRE(actual.y == expected.y);
    REQUIRE(actual.hidden == expected.hidden);
    REQUIRE(actual.cell == expected.cell);
  }
}

TEST_CASE("es_gru_s8 matches the integer reference bit for bit", "[recurrent][s8]") {
  std::mt19937 rng(16);
  for (int trial = 0; trial < 300; ++trial) {
    RandomLayer layer = randomLayer(rng, 3);
    const RecurrentS8Operands &o = layer.operands;
    const bool wantY = trial % 2 == 0, wantHidden = trial % 3 != 0;
    const int8_t *h0 = trial % 4 == 0 ? nullptr : layer.initialHidden.data();
    const RecurrentS8Outputs expected = referenceGruS8(o, layer.x, h0, wantY, wantHidden);
    KernelOutputs actual(o.params, wantY, wantHidden, false);
    es_gru_s8(&o.params, layer.x.data(), o.w.data(), o.r.data(), o.bias.data(),
              o.inputRequant.data(), o.recurrentRequant.data(), o.tables.data(), h0,
              actual.scratch.data(), KernelOutputs::data(actual.y),
              KernelOutputs::data(actual.hidden));
    INFO("trial " << trial);
    REQUIRE(actual.y == expected.y);
    REQUIRE(actual.hidden == expected.hidden);
  }
}

TEST_CASE("the gate tables sample sigmoid and tanh in Q0.15", "[recurrent][s8]") {
  const std::vector<int32_t> tables = recurrentGateTables();
  REQUIRE(tables.size() == 2 * ES_RECURRENT_TABLE_SIZE);
  CHECK(tables[128] == 16384);                                     // sigmoid(0) = 1/2
  CHECK(tables[ES_RECURRENT_TABLE_SIZE + 128] == 0);               // tanh(0)
  CHECK(tables[ES_RECURRENT_TABLE_SIZE] == -32768);                // tanh(-8) rounds to -1
  CHECK(tables[ES_RECURRENT_TABLE_SIZE - 1] == 32757);             // sigmoid(8)
  CHECK(tables[144] == std::lround(32768 / (1 + std::exp(-1.0)))); // sigmoid(1)
}

TEST_CASE("the cell state's scale covers T + max|c0| up to 16", "[recurrent][s8]") {
  CHECK(cellShift(1, 0.0) == 15);
  CHECK(cellShift(2, 0.0) == 14);
  CHECK(cellShift(3, 0.5) == 13);
  CHECK(cellShift(20, 0.0) == 11);
  CHECK(cellShift(1000, 3.0) == 11);
}

} // namespace
} // namespace edgesplit::ops
