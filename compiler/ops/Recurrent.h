// Shared machinery of the recurrent ops (LSTM, GRU): the attributes and operands they have in common
// (direction, layout, hidden_size, activations with their alpha/beta, clip, W/R/B, sequence_lens,
// initial states) and the loop over directions, batch entries and time steps around each op's cell.
#pragma once

#include "codegen/LowerContext.h"
#include "ops/OpKit.h"

#include <optional>

namespace edgesplit::ops {

// Operand positions common to LSTM and GRU (LSTM adds initial_c and P).
enum RecurrentInput : size_t {
  kSequence = 0,        // X
  kInputWeights = 1,    // W
  kRecurrentWeights = 2, // R
  kBias = 3,            // B
  kSequenceLengths = 4,
  kInitialHidden = 5,
  kInitialCell = 6,
};

// What distinguishes one recurrent op's operands.
struct RecurrentOpTraits {
  int64_t gateCount = 0; // gate blocks stacked in W, R and each half of B
  // The activations of one direction when the model does not list them (LSTM: f, g, h).
  llvm::ArrayRef<std::string_view> defaultActivations;
  bool hasCellState = false; // LSTM: initial_c input, Y_c output
};

// One entry of the activations attribute.
class Activation {
public:
  enum class Kind {
    Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu,
    Softsign, Softplus,
  };
  Activation(Kind kind, double alpha, double beta) : kind_(kind), alpha_(alpha), beta_(beta) {}
  double operator()(double x) const;

private:
  Kind kind_;
  double alpha_;
  double beta_;
};

struct RecurrentAttributes {
  enum class Direction { Forward, Reverse, Bidirectional };
  int64_t hiddenSize = 0;
  Direction direction = Direction::Forward;
  int64_t numDirections = 1;
  bool batchMajor = false; // layout 1: X, Y and the states put the batch dimension first
  std::optional<double> clip;
  // numDirections consecutive groups of defaultActivations.size() functions.
  std::vector<Activation> activations;
  // Every direction uses the op's default functions (code generation supports only those).
  bool defaultActivations = true;

  // Whether direction `index` (0 or 1) walks the sequence backwards.
  bool isReversed(int64_t index) const;
  // clip applies to every gate's pre-activation.
  double clipped(double x) const;
};

// An attribute that is 0 (the default) or 1, as a bool; fails naming it otherwise.
bool parseFlagAttribute(const NodeContext &ctx, std::string_view name);

RecurrentAttributes parseRecurrentAttributes(const NodeContext &ctx,
                                             const RecurrentOpTraits &traits);

// Checks X, W, R, B, sequence_lens and the initial states against each other and sets Y, Y_h and,
// with a cell state, Y_c.
void inferRecurrent(InferContext &ctx, const RecurrentOpTraits &traits);

// One direction's parameters as a cell sees them. Gate blocks are stacked in the op's order.
struct DirectionWeights {
  const double *inputWeights;     // W: [gates * hidden, input]
  const double *recurrentWeights; // R: [gates * hidden, hidden]
  const double *inputBias;        // Wb: [gates * hidden], zeros when B is omitted
  const double *recurrentBias;    // Rb: [gates * hidden]
  int64_t direction;
  llvm::ArrayRef<Activation> activations; // this direction's functions (f, g, ...)
};

struct RecurrentState {
  std::vector<double> hidden;
  std::vector<double> cell; // LSTM only
};

// Advances `state` by one time step with input `x` (input_size values).
using RecurrentCell = llvm::function_ref<void(const DirectionWeights &weights,
                                              llvm::ArrayRef<double> x, RecurrentState &state)>;

// Runs every direction over every batch entry's sequence (honouring sequence_lens) and writes Y,
// Y_h and Y_c. Steps beyond an entry's length leave zeros in Y.
void runRecurrent(KernelContext &ctx, const RecurrentOpTraits &traits,
                  const RecurrentAttributes &attributes, RecurrentCell cell);

// result[r] = bias[r] + sum over c of matrix[r, c] * vector[c], for result.size() rows of a
// row-major matrix with vector.size() columns.
void applyAffine(const double *matrix, const double *bias, llvm::ArrayRef<double> vector,
                 llvm::MutableArrayRef<double> result);

// --- Code generation ---

// The targets' cost class of the recurrent kernels: their work is the gate products, estimated
// like a fully connected layer's per multiply-accumulate (the elementwise cell work and the
// per-row rescaling come on top: the int8 LSTM of tests/data/rnn measures about 15 instructions
// per MAC on the Cortex-M4).
inline constexpr std::string_view kRecurrentKernelClass = "fully_connected";

// The parts of a recurrent node that code generation handles the same way for LSTM and GRU.
struct RecurrentLowering {
  RecurrentAttributes attributes;
  int64_t seqLength = 0, batchSize = 0, inputSize = 0;
};

// Checks what the runtime-c kernels support (default activations, no sequence_lens other than
// the full length) and reads the dimensions; fails naming the node. int8 also needs constant
// weights (quantizeRows fails naming the input otherwise).
RecurrentLowering checkRecurrentLowering(LowerContext &ctx, const RecurrentOpTraits &traits);

// The float32 kernels' parameters.
es_recurrent_f32_params_t recurrentF32Params(const RecurrentLowering &lowering);

// Input `index` as a float32 kernel argument: a constant array, the activation (float32 takes
// weights computed at run time too), or NULL when the node omits it.
KernelArg optionalFloatArgument(LowerContext &ctx, size_t index, const std::string &suffix);

// Output `index`, or NULL when the node does not produce it.
KernelArg optionalOutput(LowerContext &ctx, size_t index);

// --- int8 (docs/int8.md "LSTM and GRU") ---

// Everything es_lstm_s8 / es_gru_s8 read besides the activations.
struct RecurrentS8Operands {
  es_recurrent_s8_params_t params{};
  std::vector<int8_t> w, r; // ONNX's layout, one scale per gate row
  std::vector<int32_t> bias;
  std::vector<es_requant_t> inputRequant, recurrentRequant;
  std::vector<int32_t> tables; // sigmoid then tanh, ES_RECURRENT_TABLE_SIZE entries each
};

// What the layer writes; empty vectors for outputs that were not asked for.
struct RecurrentS8Outputs {
  std::vector<int8_t> y, hidden, cell;
};

// Per-row quantised weights and scales of constant input `index` ([directions, rows, columns]).
struct RowQuantizedWeights {
  std::vector<int8_t> values;
  std::vector<double> scales;
};
RowQuantizedWeights quantizeRows(const LowerContext &ctx, size_t index);

// The operands shared by both ops: dimensions, zero points, factors (Y's and Y_h's too), tables
// and the weights (moved in). The caller sets the bias, the states' fields and the cell shift.
RecurrentS8Operands recurrentS8Operands(LowerContext &ctx, const RecurrentLowering &lowering,
                                        RowQuantizedWeights &inputWeights,
                                        RowQuantizedWeights &recurrentWeights);

// An initial state as an int8 kernel argument with its zero point and scale (the activation's,
// or a symmetric per-tensor quantisation of a constant), or NULL when absent.
struct QuantizedState {
  KernelArg arg;
  int32_t zeroPoint = 0;
  double scale = 1.0;
  double maxMagnitude = 0.0; // the largest |value| the state can represent
};
QuantizedState quantizedState(LowerContext &ctx, size_t index, const std::string &suffix);

// The sigmoid and tanh tables of docs/int8.md (ES_RECURRENT_TABLE_SIZE entries each).
std::vector<int32_t> recurrentGateTables();

// Everything an int8 layer's kernel call reads besides its activations, as its lowering builds
// it; --emit-qdq spells the same integers out in ONNX (quantize/EmitRecurrentQdq.cpp).
struct RecurrentS8Layer {
  RecurrentS8Operands operands;
  QuantizedState initialHidden;
  QuantizedState initialCell; // LSTM only
};
// Reads the node through `ctx` (constant initial states become arrays of its program).
RecurrentS8Layer lstmS8Layer(LowerContext &ctx);
RecurrentS8Layer gruS8Layer(LowerContext &ctx);

// cs of docs/int8.md: the LSTM cell state's scale 2^-cs from the bound T + max|c0|.
int32_t cellShift(int64_t seqLength, double initialCellBound);

// int32 bias values b / scale, docs/int8.md's rounding and saturation.
int32_t quantizeBiasValue(double value, double scale);

// Outputs Y and Y_h take the int8 hidden state's parameters (scale 2^-7, zero point 0) unless the
// model gives them others; Y_c its calibrated range.
void quantizeRecurrent(QuantizeContext &ctx, const RecurrentOpTraits &traits);

// The steps both integer references share, in docs/int8.md's terms.
class S8ReferenceLayer {
public:
  S8ReferenceLayer(const RecurrentS8Operands &operands, llvm::ArrayRef<int8_t> x, int64_t gates);

  const es_recurrent_s8_params_t &params() const { return p_; }
  int64_t hidden() const { return p_.hidden_size; }
  // Offsets (in elements) of a batch entry's vectors in Y and the states, and the time index of
  // a direction's step.
  int64_t outputOffset(int64_t t, int64_t direction, int64_t b) const;
  int64_t stateOffset(int64_t direction, int64_t b) const;
  int64_t timeOf(int64_t direction, int64_t step) const;
  // acc_x + bias and acc_h + bias of gate row `row` (within the direction), saturated to int32.
  int32_t inputAccumulator(int64_t direction, int64_t row, int64_t t, int64_t b,
                           int32_t bias) const;
  int32_t recurrentAccumulator(int64_t direction, int64_t row, llvm::ArrayRef<int32_t> state,
                               int32_t bias) const;
  es_requant_t inputFactor(int64_t direction, int64_t row) const;
  es_requant_t recurrentFactor(int64_t direction, int64_t row) const;
  // pre of docs/int8.md: both parts rescaled, summed, saturated to int16 and clipped.
  int32_t preActivation(int64_t direction, int64_t row, int32_t inputAcc,
                        int32_t recurrentAcc) const;
  int32_t clipGate(int64_t z) const;
  // A hidden-state value (2^-7) in an output's parameters.
  static int8_t hiddenOutput(int32_t h, es_requant_t factor, int32_t zeroPoint);
  // Elements of one state output ([directions, batch, hidden]).
  int64_t stateElements() const;
  // Y and Y_h sized for what was asked, zero-filled (Y_c is the LSTM's own).
  RecurrentS8Outputs hiddenOutputs(bool wantY, bool wantHidden) const;
  // The hidden state after step t into Y, and after the last step into Y_h, each in its
  // output's parameters; outputs not asked for (empty) are skipped.
  void storeStep(RecurrentS8Outputs &out, llvm::ArrayRef<int32_t> h, int64_t t, int64_t direction,
                 int64_t b) const;
  void storeLast(RecurrentS8Outputs &out, llvm::ArrayRef<int32_t> h, int64_t direction,
                 int64_t b) const;
  int32_t sigmoid(int32_t z) const { return lookup(0, z); }
  int32_t tanh(int32_t z) const { return lookup(1, z); }
  // An initial state rescaled by `factor` after removing `zeroPoint`, or zeros.
  std::vector<int32_t> initialState(const int8_t *state, int64_t offset, int32_t zeroPoint,
                                    es_requant_t factor, int32_t lo, int32_t hi) const;

  // x / 2^n rounded to nearest, halves away from zero (rounding_divide_by_pot).
  static int64_t roundShift(int64_t x, int n);
  static int32_t saturate(int64_t x, int64_t lo, int64_t hi);

private:
  int32_t lookup(int table, int32_t z) const;
  const RecurrentS8Operands &operands_;
  const es_recurrent_s8_params_t &p_;
  llvm::ArrayRef<int8_t> x_;
  int64_t gates_;
};

// The integer references of docs/int8.md, written independently of runtime-c's kernels (they
// share only the fixed-point primitives); tests/unit/RecurrentTests.cpp compares the two.
RecurrentS8Outputs referenceLstmS8(const RecurrentS8Operands &operands, llvm::ArrayRef<int8_t> x,
                                   const int8_t *initialHidden, const int8_t *initialCell,
                                   bool wantY, bool wantHidden, bool wantCell);
RecurrentS8Outputs referenceGruS8(const RecurrentS8Operands &operands, llvm::ArrayRef<int8_t> x,
                                  const int8_t *initialHidden, bool wantY, bool wantHidden);

// Multiply-accumulates of the gate matrix products; elementwise work is negligible beside them.
int64_t recurrentMacs(const Node &node);

} // namespace edgesplit::ops
