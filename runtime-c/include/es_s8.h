/* edgesplit runtime: int8 kernels.
 * C99, no allocation, no floating point: the arithmetic is docs/int8.md, bit for bit. Tensors are
 * dense, row major, in ONNX's NCHW layout; 1-D convolutions and pools are the 2-D kernels with
 * H = 1. Every kernel takes its parameters (int32_t dimensions, all >= 1, tensors of fewer than
 * 2^31 elements) then its data. Outputs do not alias inputs, except that the element-wise kernels
 * (es_lut_s8, and es_binary_s8 with an operand of the output's full shape) may write over that
 * input: the memory planner reuses a dying input's bytes. act_min/act_max is the activation
 * range of docs/int8.md ([-128, 127] narrowed by a fused Relu/Clip). Sums that the spec keeps in
 * int32 are accumulated wider and saturated to int32, so a sum that would overflow int32 is
 * defined instead of undefined behaviour. These are plain reference loops; optimised versions
 * keep the same signatures. */
#ifndef ES_S8_H
#define ES_S8_H

#include "es_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Shapes of the layout and broadcasting kernels are given as 4-D: a lower-rank tensor is
 * right-aligned, its missing leading dimensions being 1. */

/* The fixed left shift of Add/Sub (docs/int8.md): operands are scaled by 2^20 before their
 * rescaling, and output_requant = twice_max / (2^20 * Sy) is computed with the same constant. */
#define ES_S8_ADD_LEFT_SHIFT 20
/* int8 Div of two activations: the quotient (qa - Za) / (qb - Zb) in Q23 (docs/int8.md "Div"). */
#define ES_S8_DIV_SHIFT 23

/* ---- Convolution ------------------------------------------------------------------------- */

/* Input [batch, in_channels, in_h, in_w], weights [out_channels, in_channels / groups, kernel_h,
 * kernel_w], output [batch, out_channels, out_h, out_w]. Padding at the bottom/right is whatever
 * out_h/out_w imply; padded taps contribute qx = input_zp, i.e. nothing. */
typedef struct {
  int32_t batch;
  int32_t in_channels;
  int32_t in_h;
  int32_t in_w;
  int32_t out_channels;
  int32_t out_h;
  int32_t out_w;
  int32_t kernel_h;
  int32_t kernel_w;
  int32_t stride_h;
  int32_t stride_w;
  int32_t dilation_h;
  int32_t dilation_w;
  int32_t pad_top;
  int32_t pad_left;
  int32_t groups; /* divides both channel counts; groups == in_channels is depthwise */
  int32_t input_zp;
  int32_t output_zp;
  int32_t act_min;
  int32_t act_max;
} es_conv2d_s8_params_t;

/* Grouped 2-D convolution (ONNX Conv, depthwise included): acc = bias[m] + sum (qx - Zx) * qw,
 * qy = clamp(requantize(acc, per_channel[m]) + Zy). bias [out_channels] or NULL (zero);
 * per_channel [out_channels] holds Sx * Sw[m] / Sy. */
void es_conv2d_s8(const es_conv2d_s8_params_t *p, const int8_t *input, const int8_t *weights,
                  const int32_t *bias, const es_requant_t *per_channel, int8_t *output);
/* ConvTranspose with es_conv2d_s8's parameters, shapes and weight layout as es_f32.h's
 * es_conv_transpose2d_f32 describes them (weights [out_channels / groups, in_channels, kernel_h,
 * kernel_w]); acc[m] = bias[m] + sum of (qx - Zx) * qw over the taps that reach the output,
 * qy = clamp(requantize(acc, requant[m]) + Zy), as Conv (docs/int8.md "ConvTranspose"). */
void es_conv_transpose2d_s8(const es_conv2d_s8_params_t *p, const int8_t *input,
                            const int8_t *weights, const int32_t *bias,
                            const es_requant_t *requant, int8_t *output);

/* ---- Specialised convolutions ------------------------------------------------------------ */

/* Faster kernels for common layer kinds, with a plain C body and an ARMv7E-M DSP body chosen
 * when the runtime is compiled (docs/performance.md). They return exactly what es_conv2d_s8 /
 * es_fully_connected_s8 return, under conditions the compiler checks before it picks them:
 * every per_channel factor is below 1/2 (shift < 0), and |bias| + 256 * sum |w| < 2^29 for
 * every channel, so accumulating in int32 cannot overflow. They take the bias with the input
 * zero point folded in, bias_folded[m] = bias[m] - input_zp * sum of channel m's weights, and
 * read padded taps as input_zp (which then contributes nothing), and they take weights
 * re-arranged as described per kernel: the compiler does both once. */

/* Convolution with groups 1 and any kernel size, stride, dilation and padding (the 1x1 and 2-D
 * layers the kernels below do not cover) as a matrix product: the window of each output pixel
 * is gathered into a column of taps in the weights' own order (input channel, kernel row, kernel
 * column), padded taps as input_zp, and multiplied by every output channel's weight row. The
 * parameters are es_conv2d_s8's with groups 1, a window spanning fewer than 2^15 rows and 2^16
 * columns ((kernel - 1) * dilation). The scratch area holds tap tables and the windows of the
 * pixels in flight: ES_CONV2D_GEMM_S8_SCRATCH_BYTES(p) bytes at a 4-byte aligned address, its
 * contents undefined on entry and on return. */
#define ES_CONV2D_GEMM_S8_ROW(p) (((p)->in_channels * (p)->kernel_h * (p)->kernel_w + 15) / 16 * 16)
#define ES_CONV2D_GEMM_S8_SCRATCH_BYTES(p) (16 * ES_CONV2D_GEMM_S8_ROW(p) + 4)

/* weights [(out_channels + 1) / 2][ES_CONV2D_GEMM_S8_ROW(p)][2]: the output channels in pairs
 * (m, m + 1), m even, their rows interleaved byte by byte (tap k of channel m at byte 2k of the
 * pair, of channel m + 1 at byte 2k + 1), each row the channel's taps in ONNX's order followed by
 * zeros up to the next multiple of sixteen (a vector of MVE); an odd last channel is paired with
 * a row of zeros. ES_CONV2D_GEMM_S8_WEIGHT_BYTES(p) bytes. */
#define ES_CONV2D_GEMM_S8_WEIGHT_BYTES(p) (((p)->out_channels + 1) / 2 * 2 * ES_CONV2D_GEMM_S8_ROW(p))
void es_conv2d_gemm_s8(const es_conv2d_s8_params_t *p, const int8_t *input, const int8_t *weights,
                       const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *scratch,
                       int8_t *output);

/* 1-D convolution (ONNX Conv on [batch, in_channels, in_w], groups 1, dilation 1):
 * input [batch, in_channels, in_w], output [batch, out_channels, out_w]. */
typedef struct {
  int32_t batch;
  int32_t in_channels;
  int32_t in_w;
  int32_t out_channels;
  int32_t out_w;
  int32_t kernel_w;
  int32_t stride;
  int32_t pad_left;
  int32_t input_zp;
  int32_t output_zp;
  int32_t act_min;
  int32_t act_max;
} es_conv1d_s8_params_t;

/* The int32 words per (output channel, input channel) of es_conv1d_s8's weights: each full group
 * of four taps k..k+3 is two words, (w[k], w[k+2]) and (w[k+1], w[k+3]) as int16 pairs (first
 * in the low half); three remaining taps t0..t2 are two words, (t0, t2) as a pair and t1 as its
 * value; one or two remaining taps are one word each holding its value. */
#define ES_CONV1D_S8_WORDS(kernel_w) \
  (2 * ((kernel_w) / 4) + ((kernel_w) % 4 == 3 ? 2 : (kernel_w) % 4))

/* weights [out_channels][in_channels][ES_CONV1D_S8_WORDS(kernel_w)]. */
void es_conv1d_s8(const es_conv1d_s8_params_t *p, const int8_t *input, const int32_t *weights,
                  const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *output);
/* The same for windows of 3, 5, 7 and 9 taps (p->kernel_w must be that width), the taps of each
 * channel unrolled; the compiler calls these for those widths so that a program links only the
 * widths it has. */
void es_conv1d_k3_s8(const es_conv1d_s8_params_t *p, const int8_t *input, const int32_t *weights,
                     const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *output);
void es_conv1d_k5_s8(const es_conv1d_s8_params_t *p, const int8_t *input, const int32_t *weights,
                     const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *output);
void es_conv1d_k7_s8(const es_conv1d_s8_params_t *p, const int8_t *input, const int32_t *weights,
                     const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *output);
void es_conv1d_k9_s8(const es_conv1d_s8_params_t *p, const int8_t *input, const int32_t *weights,
                     const int32_t *bias_folded, const es_requant_t *per_channel, int8_t *output);

/* A 1-D convolution whose only reader is a GlobalAveragePool, in one call: input [batch, in_w,
 * in_channels] when channels_last (an NWC Transpose folded into it), else [batch, in_channels,
 * in_w]; output [batch, out_channels] (the pool's). Each convolution output is rescaled with
 * per_channel and clamped to [act_min, act_max] in the convolution's output parameters (conv_zp),
 * exactly as es_conv1d_s8 writes it, and summed per channel instead of being stored; the pool
 * then rescales each sum minus conv_zp * out_w once with pool_requant (= Sc / (out_w * Sy)) as
 * es_global_avg_pool_s8 does, and clamps it to [pool_act_min, pool_act_max]. In the
 * channels-last order the window of output x is the in_channels * kernel_w values from
 * (x * stride - pad_left) * in_channels on, positions outside the row reading input_zp. The
 * compiler calls it only through es_conv1d_nwc_mean_3x3_s8 (docs/performance.md: elsewhere
 * es_conv1d_k*_s8 and the pool apart are faster); this generic entry is that one's reference
 * shape-for-shape and takes any window. */
typedef struct {
  int32_t batch;
  int32_t in_w;
  int32_t in_channels;
  int32_t out_channels;
  int32_t out_w;
  int32_t kernel_w;
  int32_t stride;
  int32_t pad_left;
  int32_t channels_last;
  int32_t input_zp;
  int32_t conv_zp;
  int32_t act_min;
  int32_t act_max;
  es_requant_t pool_requant;
  int32_t output_zp;
  int32_t pool_act_min;
  int32_t pool_act_max;
} es_conv1d_nwc_mean_s8_params_t;

/* Weights [out_channels][ES_CONV1D_NWC_MEAN_S8_WORDS(p)]: a channel's window taps in the
 * input's order (tap k of input channel c at k * in_channels + c, ONNX's w[m][c][k]) as int16
 * pairs, first in the low half, an odd count completed by a zero. */
#define ES_CONV1D_NWC_MEAN_S8_WORDS(p) (((p)->in_channels * (p)->kernel_w + 1) / 2)
/* The positions of one input row with its padding: the DSP body widens them to int16, channels
 * last, and reads every window from there as int16 pairs (one more value for a window of odd
 * length). */
#define ES_CONV1D_NWC_MEAN_S8_ROW(p)                                                          \
  (((p)->out_w - 1) * (p)->stride + (p)->kernel_w > (p)->pad_left + (p)->in_w                  \
       ? ((p)->out_w - 1) * (p)->stride + (p)->kernel_w                                        \
       : (p)->pad_left + (p)->in_w)
#define ES_CONV1D_NWC_MEAN_S8_SCRATCH_BYTES(p) \
  ((2 * ES_CONV1D_NWC_MEAN_S8_ROW(p) * (p)->in_channels + 2 + 3) / 4 * 4)
/* scratch: ES_CONV1D_NWC_MEAN_S8_SCRATCH_BYTES(p) bytes, 4-byte aligned, contents undefined on
 * entry and on return (the plain body does not use it). */
void es_conv1d_nwc_mean_s8(const es_conv1d_nwc_mean_s8_params_t *p, const int8_t *input,
                           const int32_t *weights, const int32_t *bias_folded,
                           const es_requant_t *per_channel, int8_t *scratch, int8_t *output);
/* The same for 3 input channels, 3 taps and stride 1 (Keras' Conv1D over 3-axis motion
 * windows), the five weight words held in registers over each channel's outputs. */
void es_conv1d_nwc_mean_3x3_s8(const es_conv1d_nwc_mean_s8_params_t *p, const int8_t *input,
                               const int32_t *weights, const int32_t *bias_folded,
                               const es_requant_t *per_channel, int8_t *scratch, int8_t *output);

/* Depthwise 3x3 convolution, stride 1, dilation 1, one output channel per input channel, pads
 * of 0 or 1 on each side: input [batch, channels, in_h, in_w], output [batch, channels, out_h,
 * out_w]. */
typedef struct {
  int32_t batch;
  int32_t channels;
  int32_t in_h;
  int32_t in_w;
  int32_t out_h;
  int32_t out_w;
  int32_t pad_top;
  int32_t pad_left;
  int32_t input_zp;
  int32_t output_zp;
  int32_t act_min;
  int32_t act_max;
} es_depthwise_conv3x3_s8_params_t;

/* weights [channels][3 rows][2 words]: per kernel row, (w[0], w[2]) as an int16 pair (w[0] in
 * the low half), then w[1]'s value. */
void es_depthwise_conv3x3_s8(const es_depthwise_conv3x3_s8_params_t *p, const int8_t *input,
                             const int32_t *weights, const int32_t *bias_folded,
                             const es_requant_t *per_channel, int8_t *output);

/* ---- Fully connected and MatMul --------------------------------------------------------- */

typedef struct {
  int32_t batch;
  int32_t in_features;
  int32_t out_features;
  int32_t input_zp;
  int32_t output_zp;
  int32_t act_min;
  int32_t act_max;
} es_fully_connected_s8_params_t;

/* Gemm / MatMul with constant weights: y[n][m] = clamp(requantize(bias[m] + sum_k (x[n][k] - Zx)
 * * w[m][k], per_channel[m]) + Zy). input [batch, in_features], weights [out_features,
 * in_features] (transB = 1), bias [out_features] or NULL, per_channel [out_features]. */
void es_fully_connected_s8(const es_fully_connected_s8_params_t *p, const int8_t *input,
                           const int8_t *weights, const int32_t *bias,
                           const es_requant_t *per_channel, int8_t *output);

/* es_fully_connected_s8 with the input zero point folded into bias_folded (see "Specialised
 * convolutions" for the conditions); weights as es_fully_connected_s8's. */
void es_fully_connected_folded_s8(const es_fully_connected_s8_params_t *p, const int8_t *input,
                                  const int8_t *weights, const int32_t *bias_folded,
                                  const es_requant_t *per_channel, int8_t *output);

/* The product of [rows, inner] and [inner, cols] matrices, repeated over a 2-D batch
 * [batch[0], batch[1]]. Matrix (i, j) of the output reads the A matrix starting at element
 * i * a_batch_stride[0] + j * a_batch_stride[1], and B likewise: a stride of 0 broadcasts. */
typedef struct {
  int32_t batch[2];
  int32_t a_batch_stride[2];
  int32_t b_batch_stride[2];
  int32_t rows;
  int32_t inner;
  int32_t cols;
  int32_t a_zp;
  int32_t b_zp;
  int32_t output_zp;
  es_requant_t requant; /* Sa * Sb / Sy */
  int32_t act_min;
  int32_t act_max;
} es_batch_matmul_s8_params_t;

/* MatMul of two activations with numpy batch broadcasting up to 4-D: acc = sum (qa - Za) *
 * (qb - Zb); output [batch[0], batch[1], rows, cols]. */
void es_batch_matmul_s8(const es_batch_matmul_s8_params_t *p, const int8_t *a, const int8_t *b,
                        int8_t *output);

/* ---- Pooling ----------------------------------------------------------------------------- */

/* Input [batch, channels, in_h, in_w], output [batch, channels, out_h, out_w]. The output has the
 * input's scale; max pool also keeps its zero point and reads neither zp. Every window must
 * reach at least one input element (the compiler guarantees it). */
typedef struct {
  int32_t batch;
  int32_t channels;
  int32_t in_h;
  int32_t in_w;
  int32_t out_h;
  int32_t out_w;
  int32_t kernel_h;
  int32_t kernel_w;
  int32_t stride_h;
  int32_t stride_w;
  int32_t dilation_h;
  int32_t dilation_w;
  int32_t pad_top;
  int32_t pad_left;
  /* The declared end padding. Only the count_include_pad divisor reads it: a ceil_mode window
   * can run past it, and taps there never count. */
  int32_t pad_bottom;
  int32_t pad_right;
  int32_t count_include_pad; /* average pool: padding taps count in the divisor when non-zero */
  int32_t input_zp;
  int32_t output_zp;
  int32_t act_min;
  int32_t act_max;
} es_pool2d_s8_params_t;

/* The largest input element of each window, clamped to the activation range. */
void es_max_pool2d_s8(const es_pool2d_s8_params_t *p, const int8_t *input, int8_t *output);

/* es_max_pool2d_s8, faster: windows wholly inside the input are read without per-tap bounds. */
void es_max_pool2d_fast_s8(const es_pool2d_s8_params_t *p, const int8_t *input, int8_t *output);

/* qy = clamp(rescale_once(sum (qx - Zx), per_count[n - 1]) + Zy) over the window's n counted
 * elements (docs/int8.md "Rescaling once": one rounding, ties to even); per_count [kernel_h *
 * kernel_w] holds Sx / (n * Sy) for n = 1, 2, ... */
void es_avg_pool2d_s8(const es_pool2d_s8_params_t *p, const es_requant_t *per_count,
                      const int8_t *input, int8_t *output);

/* The average pool of an input and output with the same scale and zero point, as TFLite's
 * AVERAGE_POOL_2D computes it: qy = clamp(round_half_away(sum qx / n)) over the window's n
 * counted elements, padded ones (count_include_pad) reading Zx. */
void es_avg_pool2d_same_scale_s8(const es_pool2d_s8_params_t *p, const int8_t *input,
                                 int8_t *output);

/* Input [batch, channels, size] (size: the product of the spatial dimensions), output
 * [batch, channels]. */
typedef struct {
  int32_t batch;
  int32_t channels;
  int32_t size;
  int32_t input_zp;
  int32_t output_zp;
  es_requant_t requant; /* Sx / (size * Sy) */
  int32_t act_min;
  int32_t act_max;
} es_global_avg_pool_s8_params_t;

/* GlobalAveragePool: the average pool of each channel's whole plane. */
void es_global_avg_pool_s8(const es_global_avg_pool_s8_params_t *p, const int8_t *input,
                           int8_t *output);

/* ---- Element-wise ------------------------------------------------------------------------ */

typedef enum {
  ES_S8_ADD, /* a = requantize((qa - Za) * 2^20, a_requant), b likewise, then a + b */
  ES_S8_SUB, /* as Add, then a - b */
  ES_S8_MUL,  /* (qa - Za) * (qb - Zb); a_requant and b_requant are not read */
  ES_S8_MAX,  /* max of each operand in the output's parameters: rescale_once(qa - Za, a_requant)
               * + Zy and likewise b with b_requant (Sa / Sy, Sb / Sy); output_requant not read */
  ES_S8_MIN,  /* the same with min */
  ES_S8_PRELU, /* qa - Za >= 0 ? requantize(qa - Za, a_requant = Sa / Sy)
                *              : requantize((qa - Za) * (qb - Zb), output_requant = Sa * Sb / Sy) */
  ES_S8_DIV    /* a / b: requantize(round((qa - Za) * 2^ES_S8_DIV_SHIFT / (qb - Zb)), output_requant =
                * Sa / (Sb * Sy * 2^23)), one 32-bit unsigned division; qb == Zb gives act_max
                * (qa > Za), act_min (qa < Za) or Zy clamped (qa == Za), docs/int8.md "Div" */
} es_binary_s8_op_t;

/* Operand and output shapes as 4-D (see ES_MAX_RANK); each operand dimension is either the
 * output's or 1 (broadcast), as in numpy. */
typedef struct {
  es_binary_s8_op_t op;
  int32_t a_shape[ES_MAX_RANK];
  int32_t b_shape[ES_MAX_RANK];
  int32_t out_shape[ES_MAX_RANK];
  int32_t a_zp;
  int32_t b_zp;
  int32_t output_zp;
  es_requant_t a_requant;      /* Add/Sub: Sa / twice_max */
  es_requant_t b_requant;      /* Add/Sub: Sb / twice_max */
  es_requant_t output_requant; /* Add/Sub: twice_max / (2^20 * Sy); Mul: Sa * Sb / Sy;
                                * Div: Sa / (Sb * Sy * 2^23) */
  int32_t act_min;
  int32_t act_max;
} es_binary_s8_params_t;

/* qy = clamp(requantize(combined, output_requant) + Zy) with numpy broadcasting: ONNX Add, Sub,
 * Mul and Div as docs/int8.md rescales them; two-input Max and Min, and PRelu (b the slope), as
 * the ops above describe. */
void es_binary_s8(const es_binary_s8_params_t *p, const int8_t *a, const int8_t *b, int8_t *output);

/* How the second operand of es_add_s8 lines up with the first (and the output). */
typedef enum {
  ES_ADD_S8_SAME,       /* b has a's shape */
  ES_ADD_S8_SCALAR,     /* b is one value */
  ES_ADD_S8_PER_CHANNEL /* b holds `channels` values, one per channel */
} es_add_s8_layout_t;

/* a and the output are [outer, channels, inner]. The rescaling factors are es_binary_s8's;
 * the compiler chooses this kernel only when a_requant and b_requant are at most 1/2 (shift <= 0)
 * and output_requant's shift is at most 1, so that no intermediate value leaves int32. */
typedef struct {
  int32_t outer;
  int32_t channels;
  int32_t inner;
  es_add_s8_layout_t b_layout;
  int32_t subtract; /* non-zero: a - b */
  int32_t a_zp;
  int32_t b_zp;
  int32_t output_zp;
  es_requant_t a_requant;
  es_requant_t b_requant;
  es_requant_t output_requant;
  int32_t act_min;
  int32_t act_max;
} es_add_s8_params_t;

/* Add or Sub of int8 tensors without general broadcasting, bit-exact with es_binary_s8 (which
 * stays the reference): each operand is rescaled once where it repeats. */
void es_add_s8(const es_add_s8_params_t *p, const int8_t *a, const int8_t *b, int8_t *output);

/* CumSum along the middle axis of [outer, length, inner] as es_cumsum_f32 (length at most 2^23,
 * so that the running sum of (qx - Zx) stays exact in int32):
 * qy = clamp(rescale_once(running sum of (qx - Zx), requant = Sx / Sy) + Zy) (docs/int8.md). */
#define ES_S8_CUMSUM_MAX_LENGTH 8388608
typedef struct {
  int32_t outer;
  int32_t length;
  int32_t inner;
  int32_t exclusive;
  int32_t reverse;
  int32_t input_zp;
  int32_t output_zp;
  es_requant_t requant;
} es_cumsum_s8_params_t;

void es_cumsum_s8(const es_cumsum_s8_params_t *p, const int8_t *input, int8_t *output);

typedef enum {
  ES_S8_GREATER,
  ES_S8_LESS,
  ES_S8_GREATER_OR_EQUAL,
  ES_S8_LESS_OR_EQUAL,
  ES_S8_EQUAL
} es_compare_s8_op_t;

/* Shapes as es_binary_s8's. */
typedef struct {
  es_compare_s8_op_t op;
  int32_t a_shape[ES_MAX_RANK];
  int32_t b_shape[ES_MAX_RANK];
  int32_t out_shape[ES_MAX_RANK];
} es_compare_s8_params_t;

/* Comparison of two int8 tensors by their real values, with numpy broadcasting; writes the bool
 * result as codes 1 (true) and 0. With a_grid NULL both operands have the same parameters and
 * their codes compare. Otherwise a_grid[qa + 128] places a's value on b's grid (docs/int8.md
 * "Comparisons"): 2 k where it equals b's value of code k - 128, 2 k - 1 where it lies between
 * those of codes k - 129 and k - 128, so that it compares with 2 (qb + 128) as the reals do. */
void es_compare_s8(const es_compare_s8_params_t *p, const int8_t *a, const int8_t *b,
                   const int16_t *a_grid, int8_t *output);

/* Where: the condition and both values broadcast to the output (4-D). Each value moves to the
 * output's parameters as Concat's inputs do: clamp(rescale_once(q - Z, requant) + Zy). */
typedef struct {
  int32_t condition_shape[ES_MAX_RANK];
  int32_t x_shape[ES_MAX_RANK];
  int32_t y_shape[ES_MAX_RANK];
  int32_t out_shape[ES_MAX_RANK];
  int32_t x_zp;
  int32_t y_zp;
  int32_t output_zp;
  es_requant_t x_requant; /* Sx / Sy */
  es_requant_t y_requant; /* Sy' / Sy (Sy' the second value's scale) */
} es_where_s8_params_t;

/* output = condition != 0 ? x : y in the output's parameters, the condition a comparison's codes
 * 1 / 0 (or a constant). */
void es_where_s8(const es_where_s8_params_t *p, const int8_t *condition, const int8_t *x,
                 const int8_t *y, int8_t *output);

/* Any element-wise function of one input (Sigmoid, Tanh, LeakyRelu, ...): out[i] =
 * table[in[i] + 128], the 256-entry table docs/int8.md has the compiler compute. */
void es_lut_s8(const int8_t table[256], const int8_t *in, int8_t *out, int32_t n);

/* ---- Softmax ----------------------------------------------------------------------------- */

/* The input seen as [outer, length, inner], normalised along the middle axis: ONNX's softmax
 * axis (inner = 1 for the last axis), or the flattened trailing block (opset < 13) with
 * inner = 1. length <= 65535 keeps the uint32 sum exact. */
typedef struct {
  int32_t outer;
  int32_t length;
  int32_t inner;
} es_softmax_s8_params_t;

/* Softmax with the fixed output parameters Sy = 1/256, Zy = -128: with m the line's maximum and
 * e = exp_table[qx - m + 255] (2^16 * exp(Sx * (d - 255)), from the compiler),
 * qy = clamp((e * 256 + sum / 2) / sum - 128). */
void es_softmax_s8(const es_softmax_s8_params_t *p, const uint32_t exp_table[256],
                   const int8_t *input, int8_t *output);

typedef struct {
  int32_t outer;
  int32_t length; /* <= 65535 */
  int32_t inner;
  int32_t log_factor; /* round_half_away(2^16 * ln(2) / Sy) */
  int32_t output_zp;
} es_log_softmax_s8_params_t;

/* LogSoftmax (docs/int8.md "Softmax / LogSoftmax"): with m the line's maximum, d = qx - m + 255,
 * sum = sum of exp_table[d] (as es_softmax_s8) and L = log2(sum) in Q16 (a 257-entry table of
 * log2(1 + i/256), interpolated), qy = clamp(floor((shift_table[d] - lse + 2^15) / 2^16) + Zy)
 * with lse = floor(((L - 16 * 2^16) * log_factor + 2^15) / 2^16) and shift_table[d] =
 * 2^16 * Sx * (d - 255) / Sy from the compiler. */
void es_log_softmax_s8(const es_log_softmax_s8_params_t *p, const uint32_t exp_table[256],
                       const int32_t shift_table[256], const int8_t *input, int8_t *output);

/* ReduceLogSumExp over the middle axis of [outer, length, inner] (output [outer, inner]), with
 * LogSoftmax's parameters, exponential table and logarithm (docs/int8.md): with m the block's
 * largest code, sum and lse as es_log_softmax_s8 computes them and value_table[m + 128] =
 * 2^16 * Sx * (m - Zx) / Sy from the compiler, qy = clamp(floor((value_table[m + 128] + lse +
 * 2^15) / 2^16) + Zy). */
void es_reduce_log_sum_exp_s8(const es_log_softmax_s8_params_t *p, const uint32_t exp_table[256],
                              const int32_t value_table[256], const int8_t *input,
                              int8_t *output);

/* ---- Layout ------------------------------------------------------------------------------ */

/* One input of a Concat: its extent along the axis and how it maps to the output's
 * parameters. */
typedef struct {
  int32_t axis_size;
  int32_t rescale;      /* 0: same scale and zero point as the output, copied unchanged */
  int32_t input_zp;     /* read only when rescale */
  es_requant_t requant; /* Sx / Sy, read only when rescale */
} es_concat_s8_input_t;

typedef struct {
  int32_t outer; /* product of the dimensions before the concatenation axis */
  int32_t inner; /* product of the dimensions after it */
  int32_t input_count;
  const es_concat_s8_input_t *inputs; /* input_count entries */
  int32_t output_zp;
} es_concat_s8_params_t;

/* Concat: inputs[k] is [outer, axis_size_k, inner], output [outer, sum of axis_size_k, inner];
 * rescaled inputs give qy = clamp(rescale_once(qx - Zx, requant) + Zy) within [-128, 127]. */
void es_concat_s8(const es_concat_s8_params_t *p, const int8_t *const *inputs, int8_t *output);

/* Output dimension k is in_shape[k] + pads_begin[k] + pads_end[k]; a negative pad crops. */
typedef struct {
  es_pad_mode_t mode;
  int32_t in_shape[ES_MAX_RANK];
  int32_t pads_begin[ES_MAX_RANK];
  int32_t pads_end[ES_MAX_RANK];
  int32_t value; /* constant mode's fill: the input zero point (the output shares it) */
} es_pad_s8_params_t;

/* ONNX Pad in constant, edge or reflect mode; values are moved, never rescaled. */
void es_pad_s8(const es_pad_s8_params_t *p, const int8_t *input, int8_t *output);

/* Output dimension k is input dimension perm[k]; perm is a permutation of 0..3. */
typedef struct {
  int32_t in_shape[ES_MAX_RANK];
  int32_t perm[ES_MAX_RANK];
} es_transpose_s8_params_t;

/* ONNX Transpose: output[i0][i1][i2][i3] = input at index j with j[perm[k]] = ik. */
void es_transpose_s8(const es_transpose_s8_params_t *p, const int8_t *input, int8_t *output);

/* Slice and Gather: the block of es_strided_copy_params_t (es_common.h); values are moved, never
 * rescaled (docs/int8.md). */
void es_strided_copy_s8(const es_strided_copy_params_t *p, const int8_t *input, int8_t *output);

/* ---- Reduction --------------------------------------------------------------------------- */

/* The input seen as [outer, reduce, inner]; the reduced axes must be one contiguous block (the
 * compiler merges adjacent axes). Output [outer, inner]. */
typedef struct {
  int32_t outer;
  int32_t reduce;
  int32_t inner;
  int32_t input_zp;
  int32_t output_zp;
  es_requant_t requant; /* Sx / (reduce * Sy) */
  int32_t act_min;
  int32_t act_max;
} es_reduce_mean_s8_params_t;

/* ReduceMean: qy = clamp(rescale_once(sum (qx - Zx), requant) + Zy) over each reduced block
 * (docs/int8.md "Rescaling once"); GlobalAveragePool is the same mean. */
void es_reduce_mean_s8(const es_reduce_mean_s8_params_t *p, const int8_t *input, int8_t *output);

/* ReduceL2 with the same parameters, requant = Sx / (2^16 * Sy) and reduce <= 16384:
 * qy = clamp(rescale_once(floor(sqrt(2^32 * sum (qx - Zx)^2)), requant) + Zy) (docs/int8.md). */
#define ES_S8_REDUCE_L2_MAX_LENGTH 16384
void es_reduce_l2_s8(const es_reduce_mean_s8_params_t *p, const int8_t *input, int8_t *output);

/* ReduceSumSquare with the same parameters, requant = Sx^2 / Sy and reduce <= 16384 (the sum below
 * 2^30): qy = clamp(rescale_once(sum (qx - Zx)^2, requant) + Zy); ReduceL1 with requant = Sx / Sy:
 * qy = clamp(rescale_once(sum |qx - Zx|, requant) + Zy) (docs/int8.md). */
void es_reduce_sum_square_s8(const es_reduce_mean_s8_params_t *p, const int8_t *input,
                             int8_t *output);
void es_reduce_l1_s8(const es_reduce_mean_s8_params_t *p, const int8_t *input, int8_t *output);

/* [outer, reduce, inner] as above; the output keeps the input's parameters. */
typedef struct {
  int32_t outer;
  int32_t reduce;
  int32_t inner;
  int32_t act_min;
  int32_t act_max;
} es_reduce_max_s8_params_t;

/* ReduceMax: qy = clamp(max qx) over each reduced block (docs/int8.md). */
void es_reduce_max_s8(const es_reduce_max_s8_params_t *p, const int8_t *input, int8_t *output);
/* ReduceMin: qy = clamp(min qx) over each reduced block, the output in the input's parameters. */
void es_reduce_min_s8(const es_reduce_max_s8_params_t *p, const int8_t *input, int8_t *output);

/* The input seen as [outer, length, inner] (length <= 256); output [outer, inner]. */
typedef struct {
  int32_t outer;
  int32_t length;
  int32_t inner;
  int32_t select_last_index;
  int32_t output_zp; /* the index k is written as k + output_zp (scale 1, docs/int8.md) */
} es_argmax_s8_params_t;

/* ArgMax of the int8 codes (the dequantisation is monotonic: the same index as on the values
 * they stand for), the first of equal codes or, with select_last_index, the last. */
void es_argmax_s8(const es_argmax_s8_params_t *p, const int8_t *input, int8_t *output);

/* ---- Layer normalisation ----------------------------------------------------------------- */

/* The input seen as [outer, length], each row of `length` (at most ES_S8_LAYER_NORM_MAX_LENGTH)
 * elements normalised (ONNX LayerNormalization over the trailing axes from `axis`). */
#define ES_S8_LAYER_NORM_MAX_LENGTH 8192
typedef struct {
  int32_t outer;
  int32_t length;
  int32_t input_zp;
  int64_t epsilon; /* round_half_away(2^8 * length^3 * epsilon / Sx^2), at most 2^61 */
  int32_t act_min;
  int32_t act_max;
  int32_t channels; /* 0: scale and bias per element of a row (LayerNormalization); else one per
                     * row, row r reading entry r % channels (InstanceNormalization's [N, C]) */
} es_layer_norm_s8_params_t;

/* docs/int8.md "LayerNormalization" (and "InstanceNormalization"): per row, c = length * (qx - Zx) - sum (qx - Zx),
 * W = 2^8 * sum c^2 + epsilon, u = 2^31 * 16 c / sqrt(W) from an integer square root; then per
 * element k, qy = clamp(round_half_even((rescale(u, scale[k]) + bias[k]) / 2^16)) with scale[k]
 * (a signed multiplier) = gamma[k] * sqrt(length) / Sy and bias[k] = 2^16 (beta[k] / Sy + Zy). */
void es_layer_norm_s8(const es_layer_norm_s8_params_t *p, const es_requant_t *scale,
                      const int32_t *bias, const int8_t *input, int8_t *output);

/* ---- Recurrent layers (ONNX LSTM and GRU) ------------------------------------------------ */

/* docs/int8.md "LSTM and GRU". Shapes and layouts are those of es_f32.h "Recurrent layers"; x,
 * y, y_h and y_c are int8 (y and y_h rescaled from the int8 hidden state at 2^-7); w and r int8
 * with one scale per gate row. Gate pre-activations are int16 Q3.12, gate values int16 Q0.15 read
 * from interpolated tables, the cell state int16 with scale 2^-cell_shift. */
typedef struct {
  int32_t seq_length;
  int32_t batch;
  int32_t input_size;
  int32_t hidden_size;
  int32_t directions;
  int32_t reverse;
  int32_t batch_major;
  int32_t linear_before_reset; /* GRU */
  int32_t input_zp;
  int32_t gate_clip;  /* |pre-activation| limit in Q3.12 (ONNX clip); 32767 when none */
  int32_t cell_shift; /* LSTM: cell state scale 2^-cell_shift, 11 to 15 */
  int32_t initial_h_zp;
  es_requant_t initial_h_requant; /* S_h0 * 2^7 */
  int32_t initial_c_zp;
  es_requant_t initial_c_requant; /* S_c0 * 2^cell_shift */
  int32_t y_zp;
  es_requant_t y_requant; /* 2^-7 / S_y */
  int32_t y_h_zp;
  es_requant_t y_h_requant; /* 2^-7 / S_yh */
  int32_t y_c_zp;
  es_requant_t y_c_requant; /* 2^-cell_shift / S_yc */
} es_recurrent_s8_params_t;

/* Entries of one function's table: f(-8 + i / 16) in Q0.15 for i in [0, 256]. */
#define ES_RECURRENT_TABLE_SIZE 257
/* Gates and cell state (int16, stored bytewise) and the int8 hidden state; contents undefined on
 * entry and on return. */
#define ES_RECURRENT_S8_SCRATCH_BYTES(p) (12 * (p)->hidden_size)

/* bias [directions, 4 * hidden] int32 (LSTM: Wb + Rb at S_x * S_w[row]; GRU: the update and
 * reset rows' Wb + Rb and the hidden row's Wb at S_x * S_w[row], then the hidden rows' Rb at
 * 2^-7 * S_r[2 * hidden + j]); input_requant[directions * gates * hidden] S_x * S_w[row] / 2^-12,
 * recurrent_requant likewise 2^-7 * S_r[row] / 2^-12; tables [2][ES_RECURRENT_TABLE_SIZE]:
 * sigmoid then tanh. initial_h, initial_c, y, y_h and y_c may be NULL. */
void es_lstm_s8(const es_recurrent_s8_params_t *p, const int8_t *x, const int8_t *w,
                const int8_t *r, const int32_t *bias, const es_requant_t *input_requant,
                const es_requant_t *recurrent_requant, const int32_t *tables,
                const int8_t *initial_h, const int8_t *initial_c, int8_t *scratch, int8_t *y,
                int8_t *y_h, int8_t *y_c);
void es_gru_s8(const es_recurrent_s8_params_t *p, const int8_t *x, const int8_t *w, const int8_t *r,
               const int32_t *bias, const es_requant_t *input_requant,
               const es_requant_t *recurrent_requant, const int32_t *tables,
               const int8_t *initial_h, int8_t *scratch, int8_t *y, int8_t *y_h);

/* ---- Resize ------------------------------------------------------------------------------ */

/* Resize / Upsample on int8 with the input's parameters (docs/int8.md "Resize"), the tables as
 * es_resize_nearest_f32's / es_resize_linear_f32's. Nearest copies. Linear: the weights are
 * Q20 (each pair sums to 2^20); out = round_half_even(sum of row weight * column weight * q over
 * the four taps / 2^40), computed exactly on the raw int8 values (the weights sum to 2^40, so the
 * zero point carries over). */
void es_resize_nearest_s8(const int8_t *in, int8_t *out, int32_t planes, int32_t in_h,
                          int32_t in_w, int32_t out_h, int32_t out_w, const int32_t *rows,
                          const int32_t *cols);
void es_resize_linear_s8(const int8_t *in, int8_t *out, int32_t planes, int32_t in_h, int32_t in_w,
                         int32_t out_h, int32_t out_w, const int32_t *rows,
                         const int32_t *row_weights, const int32_t *cols,
                         const int32_t *col_weights);
/* Cubic: four taps per row and per column, Q30 weights (each four sum to 2^30, some negative,
 * the absolute values of four summing to less than 2^31), the output in its own parameters (the
 * lobes overshoot the input's range): per tap row, a = sum of its four column weight *
 * (q - input_zp) (int64, Q30); s = sum over the rows of round_half_even(a / 2^11) * row weight
 * (Q49); t = round_half_even(s / 2^35) (Q14) and, with the factor Sx / Sy = multiplier *
 * 2^(shift - 31) (shift in [-17, 44]), out = clamp(round_half_even(t * multiplier / 2^(45 -
 * shift)) + output_zp). */
void es_resize_cubic_s8(const int8_t *in, int8_t *out, int32_t planes, int32_t in_h, int32_t in_w,
                        int32_t out_h, int32_t out_w, const int32_t *rows,
                        const int32_t *row_weights, const int32_t *cols,
                        const int32_t *col_weights, int32_t input_zp, int32_t output_zp,
                        int32_t multiplier, int32_t shift);

#ifdef __cplusplus
}
#endif

#endif /* ES_S8_H */
