// A dense tensor with value semantics: element type, static shape, C-order bytes.
#pragma once

#include "ir/DType.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/SmallVector.h>

#include <cassert>
#include <cstdint>
#include <string>
#include <vector>

namespace edgesplit {

using Shape = llvm::SmallVector<int64_t, 6>;

// Throws Error on a negative dimension or a count beyond int64 (see ir/Limits.h).
int64_t numElements(llvm::ArrayRef<int64_t> shape);
std::string formatShape(llvm::ArrayRef<int64_t> shape); // "[1, 3, 32, 32]"
// Row-major strides in elements.
Shape stridesOf(llvm::ArrayRef<int64_t> shape);

class Tensor {
public:
  Tensor() = default;
  // Zero-filled tensor.
  Tensor(DType dtype, llvm::ArrayRef<int64_t> shape);

  template <typename T> static Tensor fromVector(llvm::ArrayRef<int64_t> shape,
                                                 llvm::ArrayRef<T> values) {
    Tensor tensor(dtypeOf<T>(), shape);
    assert(static_cast<int64_t>(values.size()) == tensor.numElements());
    if (!values.empty()) std::memcpy(tensor.rawData(), values.data(), values.size() * sizeof(T));
    return tensor;
  }
  template <typename T> static Tensor scalar(T value) {
    return fromVector<T>({}, llvm::ArrayRef<T>(value));
  }

  DType dtype() const { return dtype_; }
  llvm::ArrayRef<int64_t> shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  int64_t dim(size_t axis) const { return shape_[axis]; }
  int64_t numElements() const { return elementCount_; }
  size_t byteSize() const { return bytes_.size(); }
  bool empty() const { return dtype_ == DType::Undefined; }

  template <typename T> T *data() {
    assert(dtypeOf<T>() == dtype_ && "tensor element type mismatch");
    return reinterpret_cast<T *>(bytes_.data());
  }
  template <typename T> const T *data() const {
    assert(dtypeOf<T>() == dtype_ && "tensor element type mismatch");
    return reinterpret_cast<const T *>(bytes_.data());
  }
  template <typename T> llvm::ArrayRef<T> values() const {
    return llvm::ArrayRef<T>(data<T>(), static_cast<size_t>(elementCount_));
  }
  template <typename T> llvm::MutableArrayRef<T> mutableValues() {
    return llvm::MutableArrayRef<T>(data<T>(), static_cast<size_t>(elementCount_));
  }
  uint8_t *rawData() { return bytes_.data(); }
  const uint8_t *rawData() const { return bytes_.data(); }

  // Element conversion following ONNX Cast: float->int truncates toward zero (saturating instead of
  // undefined behaviour when out of range), anything->bool is "!= 0", float->half rounds to even.
  Tensor castTo(DType target) const;
  // Integer-typed tensors (shape inputs, axes, indices) read as int64; float ones are truncated.
  std::vector<int64_t> toInt64Vector() const;
  std::vector<double> toDoubleVector() const;
  double elementAsDouble(int64_t index) const;

  // Same bytes, new shape (element counts must match).
  Tensor reshaped(llvm::ArrayRef<int64_t> shape) const;

  bool operator==(const Tensor &other) const {
    return dtype_ == other.dtype_ && shape_ == other.shape_ && bytes_ == other.bytes_;
  }

private:
  DType dtype_ = DType::Undefined;
  Shape shape_;
  int64_t elementCount_ = 0;
  std::vector<uint8_t> bytes_;
};

} // namespace edgesplit
