// The fast float32 kernels against the reference kernels, bit for bit, over the randomised cases
// that tests/qemu/test_kernels.py also runs on Cortex-M boards.
#include <catch.hpp>

extern "C" {
#include "f32_fast_kernel_cases.c"
}

TEST_CASE("fast float32 kernels equal the reference kernels bit for bit", "[f32][fast]") {
  for (uint32_t seed : {1u, 20240607u, 0xdeadbeefu}) {
    INFO("seed " << seed);
    CHECK(ff_run_cases(seed, 700) == 0);
  }
}
