/* edgesplit runtime: float32 kernels.
 * C99, no allocation. Tensors are dense, row major, in ONNX's NCHW layout; 1-D convolutions and
 * pools are the 2-D kernels with H = 1. Every kernel takes its parameters (int32_t dimensions,
 * all >= 1) then its data. Outputs do not alias inputs, except that the element-wise kernels
 * (es_clip_f32, es_unary_f32, and es_binary_f32 / es_binary_fast_f32 with an operand of the
 * output's full shape) may write over that input: the memory planner reuses a dying input's
 * bytes. Float arithmetic with float accumulators, as the generated code runs on FPU
 * microcontrollers. The plain reference loops come with fast kernels of the same signatures
 * (register-blocked, unrolled), which return the reference's floats bit for bit. */
#ifndef ES_F32_H
#define ES_F32_H

#include "es_common.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Shapes of the layout kernels are given as 4-D: a lower-rank tensor is right-aligned, its
 * missing leading dimensions being 1. */

/* ---- Convolution ------------------------------------------------------------------------- */

/* Input [batch, in_channels, in_h, in_w], weights [out_channels, in_channels / groups, kernel_h,
 * kernel_w], bias [out_channels] or NULL, output [batch, out_channels, out_h, out_w]. Padding
 * at the bottom/right is whatever out_h/out_w imply; padded taps contribute nothing. */
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
  float act_min;  /* fused activation clamp; -INFINITY / INFINITY when none */
  float act_max;
} es_conv2d_f32_params_t;

/* Grouped 2-D convolution (ONNX Conv) with optional bias and the fused activation clamp. */
void es_conv2d_f32(const es_conv2d_f32_params_t *p, const float *input, const float *weights,
                   const float *bias, float *output);
/* ConvTranspose with es_conv2d_f32's parameters: in_h/in_w the input X, out_h/out_w the output,
 * pad_top/pad_left the pads cut from the start of the natural output (negative when ONNX's
 * output_shape enlarges it), weights [out_channels / groups, in_channels, kernel_h, kernel_w]
 * (ONNX's W [in_channels, out_channels / groups, k...] with its two channel axes swapped).
 * y[m, o] = bias[m] + sum over the channels c of m's group and the taps k with
 * o + pad - k * dilation = i * stride for an input position i of x[c, i] * w[m % (out_channels /
 * groups), c, k]: each output gathers the inputs that scatter into it. */
void es_conv_transpose2d_f32(const es_conv2d_f32_params_t *p, const float *input,
                             const float *weights, const float *bias, float *output);
/* The same convolution, register-blocked (four output channels by four pixels per pass, input
 * read in place): equal to es_conv2d_f32 bit for bit, faster, larger. */
void es_conv2d_blocked_f32(const es_conv2d_f32_params_t *p, const float *input,
                           const float *weights, const float *bias, float *output);
/* The same for groups > 1: the compiler calls it for grouped (depthwise) convolutions, whose cost
 * per MAC differs (tools/calibrate-costs fits it apart). */
void es_conv2d_grouped_blocked_f32(const es_conv2d_f32_params_t *p, const float *input,
                                   const float *weights, const float *bias, float *output);

/* ---- Fully connected and MatMul --------------------------------------------------------- */

typedef struct {
  int32_t batch;
  int32_t in_features;
  int32_t out_features;
  float act_min;
  float act_max;
} es_fully_connected_f32_params_t;

/* output[b][o] = clamp(bias[o] + sum_i input[b][i] * weights[o][i]): input [batch, in_features],
 * weights [out_features, in_features] (Gemm's B with transB = 1), bias [out_features] or NULL. */
void es_fully_connected_f32(const es_fully_connected_f32_params_t *p, const float *input,
                            const float *weights, const float *bias, float *output);
/* The same layer, four weight rows per pass: equal to es_fully_connected_f32 bit for bit. */
void es_fully_connected_blocked_f32(const es_fully_connected_f32_params_t *p, const float *input,
                                    const float *weights, const float *bias, float *output);

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
  float act_min;
  float act_max;
} es_batch_matmul_f32_params_t;

/* ONNX MatMul with numpy batch broadcasting up to 4-D; output [batch[0], batch[1], rows, cols]. */
void es_batch_matmul_f32(const es_batch_matmul_f32_params_t *p, const float *a, const float *b,
                         float *output);

/* ---- Pooling ----------------------------------------------------------------------------- */

/* Input [batch, channels, in_h, in_w], output [batch, channels, out_h, out_w]. Every window
 * must reach at least one input element (the compiler guarantees it). Results are clamped to
 * [act_min, act_max] like the int8 pools' (-INFINITY / INFINITY when no activation is fused). */
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
  float act_min;
  float act_max;
} es_pool2d_f32_params_t;

/* The largest input element in each window; NaN propagates. */
void es_max_pool2d_f32(const es_pool2d_f32_params_t *p, const float *input, float *output);
/* The mean of each window's input elements (plus its padding taps with count_include_pad). */
void es_avg_pool2d_f32(const es_pool2d_f32_params_t *p, const float *input, float *output);
/* The same pools with the windows that lie inside the input reduced inline (2x2 and 3x3 windows
 * unrolled): equal to es_max_pool2d_f32 and es_avg_pool2d_f32 bit for bit. */
void es_max_pool2d_fast_f32(const es_pool2d_f32_params_t *p, const float *input, float *output);
void es_avg_pool2d_fast_f32(const es_pool2d_f32_params_t *p, const float *input, float *output);

/* Input [batch, channels, size] (size: the product of the spatial dimensions), output
 * [batch, channels], clamped to [act_min, act_max]. */
typedef struct {
  int32_t batch;
  int32_t channels;
  int32_t size;
  float act_min;
  float act_max;
} es_global_pool_f32_params_t;

/* GlobalAveragePool: the mean of each channel's plane. */
void es_global_avg_pool_f32(const es_global_pool_f32_params_t *p, const float *input,
                            float *output);
/* GlobalMaxPool: the largest element of each channel's plane; NaN propagates. */
void es_global_max_pool_f32(const es_global_pool_f32_params_t *p, const float *input,
                            float *output);

/* ---- Element-wise ------------------------------------------------------------------------ */

typedef enum {
  ES_F32_ADD,
  ES_F32_SUB,
  ES_F32_MUL,
  ES_F32_DIV,  /* IEEE semantics: x / 0 is ±inf or NaN */
  ES_F32_MAX,  /* a > b or a is NaN ? a : b (a NaN operand gives NaN) */
  ES_F32_MIN,  /* a < b or a is NaN ? a : b */
  ES_F32_PRELU, /* a < 0 ? a * b : a (b the slope) */
  /* Comparisons: 1.0f where true, else 0.0f (a NaN operand gives 0), the bool tensor a float32
   * program keeps as one float per element (es_where_f32 reads it). */
  ES_F32_GREATER,
  ES_F32_LESS,
  ES_F32_GREATER_OR_EQUAL,
  ES_F32_LESS_OR_EQUAL,
  ES_F32_EQUAL
} es_binary_f32_op_t;

/* Operand and output shapes as 4-D (see ES_MAX_RANK); each operand dimension is either the
 * output's or 1 (broadcast), as in numpy. */
typedef struct {
  es_binary_f32_op_t op;
  int32_t a_shape[ES_MAX_RANK];
  int32_t b_shape[ES_MAX_RANK];
  int32_t out_shape[ES_MAX_RANK];
  float act_min;
  float act_max;
} es_binary_f32_params_t;

/* output = clamp(a op b) with numpy broadcasting: ONNX Add, Sub, Mul, Div, two-input Max and Min,
 * PRelu, and the comparisons (Greater, Less, GreaterOrEqual, LessOrEqual, Equal). */
void es_binary_f32(const es_binary_f32_params_t *p, const float *a, const float *b, float *output);
/* The same where a has the output's shape and b's axes of size above 1, if any, are one run of
 * consecutive axes of the output's size (b is a scalar, a per-channel vector or a's shape): one
 * loop per operation without index arithmetic; equal to es_binary_f32 bit for bit. */
void es_binary_fast_f32(const es_binary_f32_params_t *p, const float *a, const float *b,
                        float *output);

/* CumSum along the middle axis of [outer, length, inner]: each output the sum of the inputs before
 * it along the axis, itself included unless `exclusive`, from the end when `reverse`. */
typedef struct {
  int32_t outer;
  int32_t length;
  int32_t inner;
  int32_t exclusive;
  int32_t reverse;
} es_cumsum_f32_params_t;

void es_cumsum_f32(const es_cumsum_f32_params_t *p, const float *input, float *output);

/* Where: the condition and both values broadcast to the output (4-D, as es_binary_f32). */
typedef struct {
  int32_t condition_shape[ES_MAX_RANK];
  int32_t x_shape[ES_MAX_RANK];
  int32_t y_shape[ES_MAX_RANK];
  int32_t out_shape[ES_MAX_RANK];
} es_where_f32_params_t;

/* output = condition != 0 ? x : y, the condition a comparison's 1.0f / 0.0f (or a constant). */
void es_where_f32(const es_where_f32_params_t *p, const float *condition, const float *x,
                  const float *y, float *output);

typedef struct {
  int32_t size;
  float min;
  float max;
} es_clip_f32_params_t;

/* Clip to [min, max] (NaN passes through); Relu is {size, 0, INFINITY}. */
void es_clip_f32(const es_clip_f32_params_t *p, const float *input, float *output);

typedef enum {
  ES_F32_SIGMOID,      /* 1 / (1 + e^-x) */
  ES_F32_TANH,         /* tanh(x) */
  ES_F32_HARD_SIGMOID, /* max(0, min(1, alpha * x + beta)) */
  ES_F32_HARD_SWISH,   /* x * max(0, min(1, x / 6 + 1 / 2)) */
  ES_F32_LEAKY_RELU,   /* x >= 0 ? x : alpha * x */
  ES_F32_ELU,          /* x >= 0 ? x : alpha * (e^x - 1) */
  ES_F32_SELU,         /* beta * (x > 0 ? x : alpha * (e^x - 1)) (ONNX's gamma is beta) */
  ES_F32_EXP,          /* e^x */
  ES_F32_FLOOR,        /* floor(x) */
  ES_F32_ERF,          /* erf(x) (GELU's exact form) */
  ES_F32_TRUNC,        /* a float -> integer -> float Cast round trip: x truncated toward zero,
                        * saturated to [alpha, beta] (the integer type's range), NaN -> 0 */
  ES_F32_SQRT,         /* sqrt(x) */
  ES_F32_POW,          /* x^alpha (Pow by a constant exponent) */
  ES_F32_RECIPROCAL,   /* 1 / x */
  ES_F32_SOFTPLUS,     /* log(1 + e^x), as max(x, 0) + log1p(e^-|x|) so that no e^x overflows */
  ES_F32_ABS,          /* |x| */
  ES_F32_NEG,          /* -x */
  ES_F32_LOG,          /* log(x): -inf at 0, NaN below */
  ES_F32_CEIL,         /* ceil(x) */
  ES_F32_ROUND,        /* x rounded to the nearest whole number, halves to even (ONNX's Round) */
  ES_F32_SIGN,         /* 1, -1 or 0 as x > 0, x < 0 or neither (NaN stays NaN, as in onnxruntime) */
  ES_F32_SOFTSIGN,     /* x * (1 / (1 + |x|)) */
  ES_F32_THRESHOLDED_RELU, /* x > alpha ? x : 0 */
  ES_F32_CELU,         /* x > 0 ? x : alpha * (e^(x / alpha) - 1) */
  ES_F32_SHRINK,       /* x < -alpha ? x + beta : x > alpha ? x - beta : 0 (ONNX's lambd, bias) */
  ES_F32_SIN,          /* sin(x) */
  ES_F32_COS           /* cos(x) */
} es_unary_f32_op_t;

typedef struct {
  es_unary_f32_op_t op;
  int32_t size;
  float alpha; /* read by the functions whose formula names it */
  float beta;
} es_unary_f32_params_t;

/* output[i] = f(input[i]) for the activation function `op`. */
void es_unary_f32(const es_unary_f32_params_t *p, const float *input, float *output);

/* Fake quantisation: a QuantizeLinear -> DequantizeLinear pair of a pre-quantised (QDQ) model
 * computed in float, as the model's float semantics define it. */
typedef struct {
  int32_t size;
  float scale;
  int32_t zero_point; /* int8 storage: q is saturated to [-128, 127] */
} es_fake_quant_f32_params_t;

/* output[i] = (clamp(round_half_even(input[i] / scale) + zero_point) - zero_point) * scale; may
 * run in place. */
void es_fake_quant_f32(const es_fake_quant_f32_params_t *p, const float *input, float *output);

/* ---- Softmax ----------------------------------------------------------------------------- */

/* The input seen as [outer, length, inner], normalised along the middle axis: ONNX's softmax
 * axis (inner = 1 for the last axis, i.e. rows of `length`), or the flattened trailing block
 * (opset < 13) with inner = 1. */
typedef struct {
  int32_t outer;
  int32_t length;
  int32_t inner;
} es_softmax_f32_params_t;

/* e^(x - max) / sum(e^(x - max)) along each line; subtracting the maximum keeps expf finite. */
void es_softmax_f32(const es_softmax_f32_params_t *p, const float *input, float *output);
/* x - max - log(sum(e^(x - max))) along each line. */
void es_log_softmax_f32(const es_softmax_f32_params_t *p, const float *input, float *output);

/* ---- Layout ------------------------------------------------------------------------------ */

typedef struct {
  int32_t outer; /* product of the dimensions before the concatenation axis */
  int32_t inner; /* product of the dimensions after it */
  int32_t input_count;
  const int32_t *axis_sizes; /* input_count entries: each input's size along the axis */
} es_concat_f32_params_t;

/* Concat: inputs[k] is [outer, axis_sizes[k], inner]; output [outer, sum(axis_sizes), inner]. */
void es_concat_f32(const es_concat_f32_params_t *p, const float *const *inputs, float *output);

/* Output dimension k is in_shape[k] + pads_begin[k] + pads_end[k]; a negative pad crops. */
typedef struct {
  es_pad_mode_t mode;
  int32_t in_shape[ES_MAX_RANK];
  int32_t pads_begin[ES_MAX_RANK];
  int32_t pads_end[ES_MAX_RANK];
  float value; /* constant mode's fill */
} es_pad_f32_params_t;

/* ONNX Pad in constant, edge or reflect mode. */
void es_pad_f32(const es_pad_f32_params_t *p, const float *input, float *output);

/* Output dimension k is input dimension perm[k]; perm is a permutation of 0..3. */
typedef struct {
  int32_t in_shape[ES_MAX_RANK];
  int32_t perm[ES_MAX_RANK];
} es_transpose_f32_params_t;

/* ONNX Transpose: output[i0][i1][i2][i3] = input at index j with j[perm[k]] = ik. */
void es_transpose_f32(const es_transpose_f32_params_t *p, const float *input, float *output);

/* Slice and Gather: the block of es_strided_copy_params_t (es_common.h), values unchanged. */
void es_strided_copy_f32(const es_strided_copy_params_t *p, const float *input, float *output);

/* ---- Reduction --------------------------------------------------------------------------- */

/* The input seen as [outer, reduce, inner]; the reduced axes must be one contiguous block (the
 * compiler merges adjacent axes). Output [outer, inner]. */
typedef struct {
  int32_t outer;
  int32_t reduce;
  int32_t inner;
  float act_min;
  float act_max;
} es_reduce_mean_f32_params_t;

/* ReduceMean: clamp(mean) over each reduced block. */
void es_reduce_mean_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output);
/* ReduceSum, ReduceMax and ReduceL2 with the same parameters: clamp(sum), clamp(max) (NaN
 * propagates) and clamp(sqrt(sum of squares)) over each reduced block. */
void es_reduce_sum_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output);
void es_reduce_max_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output);
void es_reduce_l2_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output);
/* ReduceMin, ReduceSumSquare, ReduceL1, ReduceLogSumExp and ReduceProd with the same parameters:
 * clamp(min) (NaN propagates), clamp(sum of squares), clamp(sum of |x|), clamp(m + log(sum of
 * e^(x - m))) with m the block's maximum (0 if infinite, as onnxruntime computes it) and
 * clamp(product) over each reduced block. */
void es_reduce_min_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output);
void es_reduce_sum_square_f32(const es_reduce_mean_f32_params_t *p, const float *input,
                              float *output);
void es_reduce_l1_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output);
void es_reduce_log_sum_exp_f32(const es_reduce_mean_f32_params_t *p, const float *input,
                               float *output);
void es_reduce_prod_f32(const es_reduce_mean_f32_params_t *p, const float *input, float *output);

/* The input seen as [outer, length, inner]; output [outer, inner]: the index along the middle
 * axis of each line's largest element (NaN above every number), the first of equal ones or,
 * with select_last_index, the last. */
typedef struct {
  int32_t outer;
  int32_t length;
  int32_t inner;
  int32_t select_last_index;
} es_argmax_f32_params_t;

/* ArgMax: the index written as a float (exact: length <= 2^24). */
void es_argmax_f32(const es_argmax_f32_params_t *p, const float *input, float *output);

/* ---- Layer normalisation ----------------------------------------------------------------- */

/* The input seen as [outer, length]: each row normalised (ONNX LayerNormalization over the
 * trailing axes from `axis`; InstanceNormalization over each channel's plane). */
typedef struct {
  int32_t outer;
  int32_t length;
  float epsilon;
  int32_t channels; /* 0: gamma and beta per element of a row (LayerNormalization); else one per
                     * row, row r reading entry r % channels (InstanceNormalization's [N, C]) */
} es_layer_norm_f32_params_t;

/* y = (x - mean) / sqrt(variance + epsilon) * gamma + beta per row, the mean and the (biased)
 * variance over the row; gamma and beta hold `length` values (`channels` values when it is not
 * 0), beta may be NULL (zero). */
void es_layer_norm_f32(const es_layer_norm_f32_params_t *p, const float *input, const float *gamma,
                       const float *beta, float *output);

/* ---- Recurrent layers (ONNX LSTM and GRU) ------------------------------------------------ */

/* One layer over a whole sequence. Shapes (ONNX's, for either layout):
 *   x         [seq_length, batch, input_size]       batch_major: [batch, seq_length, input_size]
 *   w         [directions, gates * hidden_size, input_size]
 *   r         [directions, gates * hidden_size, hidden_size]
 *   y         [seq_length, directions, batch, hidden] batch_major: [batch, seq_length, directions,
 *                                                     hidden]
 *   states    [directions, batch, hidden_size]      batch_major: [batch, directions, hidden_size]
 * with gates = 4 (LSTM: input, output, forget, cell) or 3 (GRU: update, reset, hidden), the
 * default activations (sigmoid for the gates, tanh elsewhere), every sequence of full length, and
 * the second direction of a bidirectional layer walking the sequence backwards. y, y_h, y_c and
 * the initial states may be NULL (initial states then zero). scratch holds the gates and the
 * states: ES_RECURRENT_F32_SCRATCH_BYTES(p) bytes at a 4-byte aligned address, contents undefined
 * on entry and on return. */
typedef struct {
  int32_t seq_length;
  int32_t batch;
  int32_t input_size;
  int32_t hidden_size;
  int32_t directions;          /* 1, or 2 for bidirectional */
  int32_t reverse;             /* a single direction walks the sequence backwards */
  int32_t batch_major;         /* ONNX layout = 1 */
  int32_t linear_before_reset; /* GRU: the reset gate scales R_h * h + Rb_h instead of h */
  float clip;                  /* gate pre-activations clamped to [-clip, clip]; INFINITY: none */
} es_recurrent_f32_params_t;

#define ES_RECURRENT_F32_SCRATCH_BYTES(p) (6 * (p)->hidden_size * (int32_t)sizeof(float))

/* bias [directions, 8 * hidden]: ONNX's B (Wb then Rb), or NULL (zero). */
void es_lstm_f32(const es_recurrent_f32_params_t *p, const float *x, const float *w, const float *r,
                 const float *bias, const float *initial_h, const float *initial_c, float *scratch,
                 float *y, float *y_h, float *y_c);

/* bias [directions, 6 * hidden]: ONNX's B (Wb then Rb), or NULL (zero). */
void es_gru_f32(const es_recurrent_f32_params_t *p, const float *x, const float *w, const float *r,
                const float *bias, const float *initial_h, float *scratch, float *y, float *y_h);

/* ---- Resize ------------------------------------------------------------------------------ */

/* Resize / Upsample of `planes` planes [in_h, in_w] into [out_h, out_w] (ONNX's last two axes).
 * Nearest: output row r reads input row rows[r], column c input column cols[c]. Linear: output
 * row r blends input rows rows[2r] and rows[2r + 1] with weights row_weights[2r] and
 * row_weights[2r + 1], and columns alike: sum over the four taps of row weight * column weight
 * * input. The compiler computes the tables from the op's coordinate transformation. */
void es_resize_nearest_f32(const float *in, float *out, int32_t planes, int32_t in_h,
                           int32_t in_w, int32_t out_h, int32_t out_w, const int32_t *rows,
                           const int32_t *cols);
void es_resize_linear_f32(const float *in, float *out, int32_t planes, int32_t in_h, int32_t in_w,
                          int32_t out_h, int32_t out_w, const int32_t *rows,
                          const float *row_weights, const int32_t *cols, const float *col_weights);
/* Cubic: as linear with four taps per row and per column (rows[4r .. 4r + 3], ...), sixteen per
 * output; a tap that exclude_outside drops has weight 0. */
void es_resize_cubic_f32(const float *in, float *out, int32_t planes, int32_t in_h, int32_t in_w,
                         int32_t out_h, int32_t out_w, const int32_t *rows,
                         const float *row_weights, const int32_t *cols, const float *col_weights);

#ifdef __cplusplus
}
#endif

#endif /* ES_F32_H */
