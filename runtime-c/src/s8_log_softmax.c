/* LogSoftmax and ReduceLogSumExp (docs/int8.md "Softmax / LogSoftmax"): integer arithmetic over
 * the compiler's exponential and shift tables and a fixed table of base-2 logarithms. */
#include "s8_internal.h"

/* round_half_away(2^16 * log2(1 + i / 256)) for i in [0, 256]. */
static const uint32_t log2_table[257] = {
    0, 369, 736, 1102, 1466, 1829, 2190, 2551, 2909, 3267, 3623, 3978,
    4331, 4683, 5034, 5384, 5732, 6079, 6425, 6769, 7112, 7454, 7795, 8134,
    8473, 8810, 9146, 9480, 9814, 10146, 10477, 10807, 11136, 11464, 11791, 12116,
    12440, 12764, 13086, 13407, 13727, 14046, 14363, 14680, 14996, 15310, 15624, 15937,
    16248, 16559, 16868, 17177, 17484, 17791, 18096, 18401, 18704, 19007, 19308, 19609,
    19909, 20207, 20505, 20802, 21098, 21393, 21687, 21980, 22272, 22564, 22854, 23144,
    23433, 23720, 24007, 24293, 24579, 24863, 25146, 25429, 25711, 25992, 26272, 26551,
    26830, 27108, 27384, 27660, 27936, 28210, 28484, 28757, 29029, 29300, 29571, 29840,
    30109, 30378, 30645, 30912, 31178, 31443, 31707, 31971, 32234, 32496, 32758, 33019,
    33279, 33538, 33797, 34055, 34312, 34569, 34825, 35080, 35334, 35588, 35841, 36094,
    36346, 36597, 36847, 37097, 37346, 37595, 37842, 38090, 38336, 38582, 38827, 39072,
    39316, 39559, 39802, 40044, 40286, 40527, 40767, 41006, 41246, 41484, 41722, 41959,
    42196, 42432, 42667, 42902, 43137, 43370, 43603, 43836, 44068, 44300, 44530, 44761,
    44990, 45220, 45448, 45676, 45904, 46131, 46357, 46583, 46809, 47034, 47258, 47482,
    47705, 47928, 48150, 48372, 48593, 48813, 49034, 49253, 49472, 49691, 49909, 50127,
    50344, 50560, 50776, 50992, 51207, 51422, 51636, 51850, 52063, 52276, 52488, 52700,
    52911, 53122, 53332, 53542, 53751, 53960, 54169, 54377, 54584, 54791, 54998, 55204,
    55410, 55615, 55820, 56025, 56229, 56432, 56635, 56838, 57040, 57242, 57443, 57644,
    57845, 58045, 58245, 58444, 58643, 58841, 59039, 59237, 59434, 59631, 59827, 60023,
    60219, 60414, 60609, 60803, 60997, 61190, 61384, 61576, 61769, 61961, 62152, 62343,
    62534, 62725, 62915, 63104, 63294, 63483, 63671, 63859, 64047, 64234, 64421, 64608,
    64794, 64980, 65166, 65351, 65536,
};

/* log2(x) in Q16 for x >= 1: the position of the top bit and the next 16 bits' logarithm, from
 * the table's entry of the first 8 interpolated linearly by the other 8 (within 2^-17). */
static int32_t log2_q16(uint32_t x) {
  int32_t top = 31;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    --top;
  }
  const uint32_t index = (x >> 23) & 255u, fraction = (x >> 15) & 255u;
  const uint32_t low = log2_table[index], high = log2_table[index + 1];
  return top * 65536 + (int32_t)(low + (((high - low) * fraction + 128u) >> 8));
}

/* floor((v + 2^15) / 2^16) for |v| < 2^61, without shifting a negative number. */
static int64_t round_q16(int64_t v) {
  const int64_t offset = (int64_t)1 << 61;
  return ((v + 32768 + offset) >> 16) - (offset >> 16);
}

void es_log_softmax_s8(const es_log_softmax_s8_params_t *p, const uint32_t exp_table[256],
                       const int32_t shift_table[256], const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      const int32_t first = o * p->length * p->inner + i;
      int32_t largest;
      const uint32_t sum =
          es_s8_softmax_line_sum(exp_table, input + first, p->length, p->inner, &largest);
      /* ln(sum / 2^16) in Q16 units of Sy; log2(sum) - 16 is in [0, 16]. */
      const int64_t lse = round_q16((int64_t)(log2_q16(sum) - 16 * 65536) * p->log_factor);
      for (int32_t k = 0; k < p->length; ++k) {
        const int32_t d = input[first + k * p->inner] - largest + 255;
        const int64_t q = round_q16(shift_table[d] - lse) + p->output_zp;
        output[first + k * p->inner] = (int8_t)(q < INT8_MIN ? INT8_MIN : q > INT8_MAX ? INT8_MAX : q);
      }
    }
}

void es_reduce_log_sum_exp_s8(const es_log_softmax_s8_params_t *p, const uint32_t exp_table[256],
                              const int32_t value_table[256], const int8_t *input,
                              int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o)
    for (int32_t i = 0; i < p->inner; ++i) {
      int32_t largest;
      const uint32_t sum = es_s8_softmax_line_sum(exp_table, input + o * p->length * p->inner + i,
                                                  p->length, p->inner, &largest);
      /* m + ln(sum / 2^16) in Q16 units of Sy; log2(sum) - 16 is in [0, 16]. */
      const int64_t lse = round_q16((int64_t)(log2_q16(sum) - 16 * 65536) * p->log_factor);
      const int64_t q = round_q16((int64_t)value_table[largest + 128] + lse) + p->output_zp;
      *output++ = (int8_t)(q < INT8_MIN ? INT8_MIN : q > INT8_MAX ? INT8_MAX : q);
    }
}
