#include "ir/Tensor.h"
#include "support/Error.h"
#include "support/Npy.h"

#include <catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>

using namespace edgesplit;
using Catch::Matchers::Contains;

TEST_CASE("castTo truncates floats toward zero and saturates instead of overflowing", "[tensor]") {
  Tensor source = Tensor::fromVector<float>(
      {5}, {2.7f, -2.7f, 1000.0f, -1000.0f, std::numeric_limits<float>::quiet_NaN()});
  Tensor result = source.castTo(DType::Int8);
  CHECK(result.values<int8_t>() == llvm::ArrayRef<int8_t>({2, -2, 127, -128, 0}));
}

TEST_CASE("castTo to bool is != 0 and half conversion rounds to nearest even", "[tensor]") {
  Tensor source = Tensor::fromVector<float>({3}, {0.0f, -0.5f, 3.0f});
  CHECK(source.castTo(DType::Bool).values<bool>() == llvm::ArrayRef<bool>({false, true, true}));
  // 1 + 2^-11 is exactly between two halves; ties go to the even mantissa (1.0).
  CHECK(halfToFloat(floatToHalf(1.0f + std::ldexp(1.0f, -11))) == 1.0f);
  CHECK(halfToFloat(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11))) == 1.0f + std::ldexp(1.0f, -9));
  CHECK(std::isinf(halfToFloat(floatToHalf(70000.0f))));
  CHECK(halfToFloat(floatToHalf(std::ldexp(1.0f, -24))) == std::ldexp(1.0f, -24)); // subnormal
}

TEST_CASE(".npy round-trips every supported type and shape", "[npy]") {
  const Tensor tensors[] = {
      Tensor::fromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6}),
      Tensor::fromVector<int8_t>({4}, {-128, 0, 1, 127}),
      Tensor::fromVector<uint8_t>({1, 1, 2}, {0, 255}),
      Tensor::fromVector<int32_t>({2}, {-5, 1 << 30}),
      Tensor::fromVector<int64_t>({1}, {int64_t{1} << 40}),
      Tensor::scalar<float>(3.5f),
  };
  for (const Tensor &tensor : tensors) {
    Tensor back = parseNpy(serializeNpy(tensor), "memory");
    CHECK(back == tensor);
  }
}

TEST_CASE(".npy reader names the file and the problem", "[npy]") {
  CHECK_THROWS_WITH(parseNpy("garbage", "in.npy"), Contains("in.npy") && Contains("not a .npy file"));
  std::string bytes = serializeNpy(Tensor::fromVector<float>({2}, {1, 2}));
  CHECK_THROWS_WITH(parseNpy(bytes.substr(0, bytes.size() - 1), "short.npy"),
                    Contains("short.npy") && Contains("needs 8"));
  std::string bigEndian = bytes;
  bigEndian.replace(bigEndian.find("<f4"), 3, ">f4");
  CHECK_THROWS_WITH(parseNpy(bigEndian, "be.npy"), Contains("'>f4' is not supported"));
  std::string fortran = bytes;
  fortran.replace(fortran.find("False"), 5, "True ");
  CHECK_THROWS_WITH(parseNpy(fortran, "f.npy"), Contains("Fortran order"));
  CHECK_THROWS_WITH(readNpy("/nonexistent.npy"), Contains("/nonexistent.npy") && Contains("cannot open"));
}

TEST_CASE("output file names keep only [A-Za-z0-9._-]", "[npy]") {
  CHECK(sanitizeFileName("probs/softmax:0") == "probs_softmax_0");
  CHECK(sanitizeFileName("ok.name-1_2") == "ok.name-1_2");
  CHECK(sanitizeFileName("a b\xc3\xa9") == "a_b__");
}

TEST_CASE(".npz archives (stored and compressed) read in archive order", "[npy]") {
  // Fixtures written by numpy.savez / numpy.savez_compressed (x: 2x3 float32, labels: int64).
  for (const char *path : {"data/two_arrays.npz", "data/two_arrays_compressed.npz"}) {
    auto arrays = readNpz(path);
    REQUIRE(arrays.size() == 2);
    CHECK(arrays[0].first == "x");
    CHECK(arrays[0].second == Tensor::fromVector<float>({2, 3}, {0, 1, 2, 3, 4, 5}));
    CHECK(arrays[1].first == "labels");
    CHECK(arrays[1].second == Tensor::fromVector<int64_t>({2}, {1, -2}));
  }
  CHECK_THROWS_WITH(readNpz("data/missing.npz"), Contains("cannot open"));
  CHECK_THROWS_WITH(readNpz("unit/Main.cpp"), Contains("not a valid .npz"));
}
