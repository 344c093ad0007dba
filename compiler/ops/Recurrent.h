// Shared machinery of the recurrent ops (LSTM, GRU): the attributes and operands they have in common
// (direction, layout, hidden_size, activations with their alpha/beta, clip, W/R/B, sequence_lens,
// initial states) and the loop over directions, batch entries and time steps around each op's cell.
#pragma once

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

  // Whether direction `index` (0 or 1) walks the sequence backwards.
  bool isReversed(int64_t index) const;
  // clip applies to every gate's pre-activation.
  double clipped(double x) const;
};

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

// Multiply-accumulates of the gate matrix products; elementwise work is negligible beside them.
int64_t recurrentMacs(const Node &node);

} // namespace edgesplit::ops
