// The specialised int8 kernels (plain C bodies on the host) against the reference kernels, bit
// for bit, over the randomised cases that tests/qemu/test_kernels.py also runs on Cortex-M boards.
#include <catch.hpp>

extern "C" {
#include "fast_kernel_cases.c"
}

TEST_CASE("specialised int8 kernels equal the reference kernels", "[s8][fast]") {
  for (uint32_t seed : {1u, 20240607u, 0xdeadbeefu}) {
    INFO("seed " << seed);
    CHECK(fk_run_cases(seed, 700) == 0);
  }
}
