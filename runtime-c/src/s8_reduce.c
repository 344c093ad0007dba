/* int8 ReduceMax, ReduceMin and ArgMax (docs/int8.md): codes are compared, never rescaled; and
 * ReduceL2, ReduceSumSquare and ReduceL1, exact integer sums rescaled once. */
#include "s8_internal.h"

/* floor(sqrt(x)), bit by bit. */
static uint32_t isqrt_u64(uint64_t x) {
  uint64_t root = 0, bit = (uint64_t)1 << 62;
  while (bit > x) bit >>= 2;
  for (; bit != 0; bit >>= 2) {
    if (x >= root + bit) {
      x -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
  }
  return (uint32_t)root;
}

/* The sum of (q - Zx)^2 over the p->reduce codes of one line, p->inner apart: at most 16384
 * squares below 2^16, so below 2^30. */
static uint64_t line_sum_of_squares(const int8_t *first, const es_reduce_mean_s8_params_t *p) {
  uint64_t squares = 0;
  for (int32_t r = 0; r < p->reduce; ++r) {
    const int32_t d = first[r * p->inner] - p->input_zp;
    squares += (uint64_t)(d * d);
  }
  return squares;
}

void es_reduce_l2_s8(const es_reduce_mean_s8_params_t *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o) {
    const int8_t *block = input + o * p->reduce * p->inner;
    for (int32_t i = 0; i < p->inner; ++i) {
      /* The sum is below 2^30, its root times 2^16 below 2^31. */
      const int64_t root = isqrt_u64(line_sum_of_squares(block + i, p) << 32);
      *output++ = es_s8_rescale_once_output(root, p->requant, p->output_zp, p->act_min, p->act_max);
    }
  }
}

void es_reduce_sum_square_s8(const es_reduce_mean_s8_params_t *p, const int8_t *input,
                             int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o) {
    const int8_t *block = input + o * p->reduce * p->inner;
    for (int32_t i = 0; i < p->inner; ++i) {
      const int64_t squares = (int64_t)line_sum_of_squares(block + i, p);
      *output++ =
          es_s8_rescale_once_output(squares, p->requant, p->output_zp, p->act_min, p->act_max);
    }
  }
}

void es_reduce_l1_s8(const es_reduce_mean_s8_params_t *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o) {
    const int8_t *block = input + o * p->reduce * p->inner;
    for (int32_t i = 0; i < p->inner; ++i) {
      int64_t sum = 0;
      for (int32_t r = 0; r < p->reduce; ++r) {
        const int32_t d = block[r * p->inner + i] - p->input_zp;
        sum += d < 0 ? -d : d;
      }
      *output++ = es_s8_rescale_once_output(sum, p->requant, p->output_zp, p->act_min, p->act_max);
    }
  }
}

void es_reduce_min_s8(const es_reduce_max_s8_params_t *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o) {
    const int8_t *block = input + o * p->reduce * p->inner;
    for (int32_t i = 0; i < p->inner; ++i) {
      int32_t smallest = INT8_MAX;
      for (int32_t r = 0; r < p->reduce; ++r)
        if (block[r * p->inner + i] < smallest) smallest = block[r * p->inner + i];
      *output++ = (int8_t)es_clamp_i32(smallest, p->act_min, p->act_max);
    }
  }
}

void es_reduce_max_s8(const es_reduce_max_s8_params_t *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o) {
    const int8_t *block = input + o * p->reduce * p->inner;
    for (int32_t i = 0; i < p->inner; ++i) {
      int32_t largest = INT8_MIN;
      for (int32_t r = 0; r < p->reduce; ++r)
        if (block[r * p->inner + i] > largest) largest = block[r * p->inner + i];
      *output++ = (int8_t)es_clamp_i32(largest, p->act_min, p->act_max);
    }
  }
}

void es_argmax_s8(const es_argmax_s8_params_t *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const int8_t *line = input + o * p->length * p->inner + i;
      int32_t best = 0;
      for (int32_t k = 1; k < p->length; ++k) {
        const int8_t candidate = line[k * p->inner], current = line[best * p->inner];
        if (p->select_last_index ? candidate >= current : candidate > current) best = k;
      }
      *output++ = (int8_t)es_clamp_i32(best + p->output_zp, INT8_MIN, INT8_MAX);
    }
}
