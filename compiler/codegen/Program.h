// A lowered device program: the runtime-c kernel calls of one graph in execution order, with the
// constant arrays they read. The same Program is executed in-process by the int8/float reference
// (Executor, calling the very runtime-c kernels) and printed as C by the emitter, so the two can
// only differ in where activations live (own buffers vs. the planned arena).
#pragma once

#include "codegen/CInit.h"
#include "ir/Graph.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/SmallVector.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace edgesplit {

enum class Precision { Int8, Float32 };
std::string_view precisionName(Precision precision);

// How the int8 kernels rescale (docs/int8.md "Fixed-point rescaling"): TFLite's double rounding
// for models that carry their own parameters, one rounding of the exact product, as onnxruntime
// requantises, for the layers whose parameters the compiler chose. One rule per build.
enum class S8Rounding { Double, Single };

// The instruction set the target's runtime-c kernels are built for, from its features: the
// runtime picks each kernel's body by it anyway (docs/performance.md); the compiler consults it
// only where one kernel suits an instruction set better than another.
enum class KernelIsa {
  Plain, // portable C (Cortex-M3, RISC-V, the host)
  Dsp,   // ARMv7E-M DSP extension: SMLAD & co. (Cortex-M4, M7, M33)
  Mve,   // Armv8.1-M MVE, Helium (Cortex-M55)
};
// "mve-int" wins over "dsp"; neither is Plain.
KernelIsa kernelIsaOf(llvm::ArrayRef<std::string> targetFeatures);
// Bytes of one activation element in the arena.
int64_t elementBytes(Precision precision);

// A const array in flash (weights.c).
struct ConstantArray {
  std::string symbol;
  std::string elementType; // C type of one element
  size_t count = 0;
  size_t bytes = 0;
  std::shared_ptr<const void> storage; // the elements, as the kernels read them
  std::function<std::string(size_t)> printElement;
};

// One argument of a kernel call, after the optional parameter struct.
struct KernelArg {
  enum class Kind {
    Params,         // pointer to the call's parameter struct
    Constant,       // a ConstantArray (by index)
    Input,          // an activation read by the call
    Output,         // an activation written by the call
    InputList,      // array of activation (or constant array) pointers (Concat)
    Null,           // an omitted optional pointer
    Integer,        // a plain int32 argument
    Scratch,        // the call's node's scratch area in the arena (`integer` bytes)
  };
  Kind kind = Kind::Null;
  size_t constant = 0;
  const Value *value = nullptr;
  llvm::SmallVector<const Value *, 4> values;
  // InputList: where values[k] is null, entry k is ConstantArray listConstants[k] (int8 Concat
  // with a constant input, quantised at compile time).
  llvm::SmallVector<size_t, 4> listConstants;
  int64_t integer = 0;
};

// The resolved arguments a call's invoke function receives, in KernelArg order.
class KernelArgs {
public:
  explicit KernelArgs(llvm::ArrayRef<void *> pointers) : pointers_(pointers) {}
  template <typename T> const T *in(size_t index) const {
    return static_cast<const T *>(pointers_[index]);
  }
  template <typename T> T *out(size_t index) const { return static_cast<T *>(pointers_[index]); }
  template <typename T> const T *const *list(size_t index) const {
    return static_cast<const T *const *>(pointers_[index]);
  }

private:
  llvm::ArrayRef<void *> pointers_;
};

struct KernelParams {
  std::string type; // C struct type
  CInit init;
  std::shared_ptr<const void> storage; // the struct itself, for in-process calls
};

struct KernelCall {
  const Node *node = nullptr;
  const Value *result = nullptr; // the value the call writes (the report's row)
  // A view (Reshape & co.) moves no data when the planner aliased its buffers; otherwise, and in
  // the executor's separate buffers, it is a byte copy from args[0] to args[1].
  bool isCopy = false;
  std::string function;
  std::optional<KernelParams> params;
  std::vector<KernelArg> args;
  std::function<void(const KernelArgs &)> invoke;
  int64_t macs = 0;
  std::string kernelClass; // cost-table key of the target (e.g. "conv", "fully_connected")
  // The share of exact zeros in each activation the call reads (its Input args, in order), from
  // the reference interpreter over the compile's samples (zeroShares, --calibration); empty
  // without samples. Software floating point takes a short path for a zero operand, so the cost
  // of a float call on a core without an FPU follows them (CostFeatures.cpp).
  llvm::SmallVector<double, 2> inputZeroShares;
};

// How the program's inputs and outputs are quantised (Int8) — float programs ignore it.
struct ProgramPort {
  std::string name; // ONNX name
  const Value *value = nullptr;
  Shape shape;
  float scale = 1.0f;
  int32_t zeroPoint = 0;
};

class Program {
public:
  Precision precision = Precision::Int8;
  KernelIsa isa = KernelIsa::Plain;
  S8Rounding rounding = S8Rounding::Double;
  std::vector<ProgramPort> inputs;
  std::vector<ProgramPort> outputs;
  std::vector<ConstantArray> constants;
  std::vector<KernelCall> calls;

  // Adds a const array named after `base` (made a unique C identifier); returns its index.
  template <typename T>
  size_t addConstant(const std::string &base, std::vector<T> values, std::string elementType,
                     std::function<std::string(const T &)> print);
  const ConstantArray &constant(size_t index) const { return constants[index]; }
  int64_t constantBytes() const;
  // The scratch bytes each node's calls need (calls of one node run one after another and share
  // one area); nodes without scratch are absent.
  llvm::DenseMap<const Node *, int64_t> scratchBytesByNode() const;
  // A C identifier derived from `base`, unique among the program's symbols.
  std::string uniqueSymbol(const std::string &base);

private:
  std::vector<std::string> symbols_;
};

template <typename T>
size_t Program::addConstant(const std::string &base, std::vector<T> values,
                            std::string elementType,
                            std::function<std::string(const T &)> print) {
  auto storage = std::make_shared<std::vector<T>>(std::move(values));
  ConstantArray array;
  array.symbol = uniqueSymbol(base);
  array.elementType = std::move(elementType);
  array.count = storage->size();
  array.bytes = storage->size() * sizeof(T);
  array.printElement = [storage, print](size_t index) { return print((*storage)[index]); };
  array.storage = std::shared_ptr<const void>(storage, storage->data());
  constants.push_back(std::move(array));
  return constants.size() - 1;
}

} // namespace edgesplit
