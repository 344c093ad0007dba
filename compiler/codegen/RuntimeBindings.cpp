#include "codegen/RuntimeBindings.h"

namespace edgesplit {
namespace {

CInit field(int32_t value) { return CInit::integer(value); }
CInit field(int64_t value) { return CInit::integer(value); }
CInit field(float value) { return CInit::real(value); }
CInit field(const es_requant_t &value) { return describe(value); }
CInit field(const void *) { return CInit::symbol("NULL"); }
CInit field(const int32_t (&values)[ES_MAX_RANK]) {
  std::vector<CInit> elements;
  for (int32_t value : values) elements.push_back(CInit::integer(value));
  return CInit::array(std::move(elements));
}
CInit field(const int32_t (&values)[2]) {
  return CInit::array({CInit::integer(values[0]), CInit::integer(values[1])});
}
CInit field(es_pad_mode_t mode) {
  switch (mode) {
  case ES_PAD_CONSTANT: return CInit::symbol("ES_PAD_CONSTANT");
  case ES_PAD_EDGE: return CInit::symbol("ES_PAD_EDGE");
  case ES_PAD_REFLECT: return CInit::symbol("ES_PAD_REFLECT");
  }
  return CInit::integer(mode);
}
CInit field(es_binary_s8_op_t op) {
  switch (op) {
  case ES_S8_ADD: return CInit::symbol("ES_S8_ADD");
  case ES_S8_SUB: return CInit::symbol("ES_S8_SUB");
  case ES_S8_MUL: return CInit::symbol("ES_S8_MUL");
  case ES_S8_MAX: return CInit::symbol("ES_S8_MAX");
  case ES_S8_MIN: return CInit::symbol("ES_S8_MIN");
  case ES_S8_PRELU: return CInit::symbol("ES_S8_PRELU");
  case ES_S8_DIV: return CInit::symbol("ES_S8_DIV");
  }
  return CInit::integer(op);
}
CInit field(es_compare_s8_op_t op) {
  switch (op) {
  case ES_S8_GREATER: return CInit::symbol("ES_S8_GREATER");
  case ES_S8_LESS: return CInit::symbol("ES_S8_LESS");
  case ES_S8_GREATER_OR_EQUAL: return CInit::symbol("ES_S8_GREATER_OR_EQUAL");
  case ES_S8_LESS_OR_EQUAL: return CInit::symbol("ES_S8_LESS_OR_EQUAL");
  case ES_S8_EQUAL: return CInit::symbol("ES_S8_EQUAL");
  }
  return CInit::integer(op);
}
CInit field(es_add_s8_layout_t layout) {
  switch (layout) {
  case ES_ADD_S8_SAME: return CInit::symbol("ES_ADD_S8_SAME");
  case ES_ADD_S8_SCALAR: return CInit::symbol("ES_ADD_S8_SCALAR");
  case ES_ADD_S8_PER_CHANNEL: return CInit::symbol("ES_ADD_S8_PER_CHANNEL");
  }
  return CInit::integer(layout);
}
CInit field(es_binary_f32_op_t op) {
  switch (op) {
  case ES_F32_ADD: return CInit::symbol("ES_F32_ADD");
  case ES_F32_SUB: return CInit::symbol("ES_F32_SUB");
  case ES_F32_MUL: return CInit::symbol("ES_F32_MUL");
  case ES_F32_DIV: return CInit::symbol("ES_F32_DIV");
  case ES_F32_MAX: return CInit::symbol("ES_F32_MAX");
  case ES_F32_MIN: return CInit::symbol("ES_F32_MIN");
  case ES_F32_PRELU: return CInit::symbol("ES_F32_PRELU");
  case ES_F32_GREATER: return CInit::symbol("ES_F32_GREATER");
  case ES_F32_LESS: return CInit::symbol("ES_F32_LESS");
  case ES_F32_GREATER_OR_EQUAL: return CInit::symbol("ES_F32_GREATER_OR_EQUAL");
  case ES_F32_LESS_OR_EQUAL: return CInit::symbol("ES_F32_LESS_OR_EQUAL");
  case ES_F32_EQUAL: return CInit::symbol("ES_F32_EQUAL");
  }
  return CInit::integer(op);
}
CInit field(es_unary_f32_op_t op) {
  switch (op) {
  case ES_F32_SIGMOID: return CInit::symbol("ES_F32_SIGMOID");
  case ES_F32_TANH: return CInit::symbol("ES_F32_TANH");
  case ES_F32_HARD_SIGMOID: return CInit::symbol("ES_F32_HARD_SIGMOID");
  case ES_F32_HARD_SWISH: return CInit::symbol("ES_F32_HARD_SWISH");
  case ES_F32_LEAKY_RELU: return CInit::symbol("ES_F32_LEAKY_RELU");
  case ES_F32_ELU: return CInit::symbol("ES_F32_ELU");
  case ES_F32_SELU: return CInit::symbol("ES_F32_SELU");
  case ES_F32_EXP: return CInit::symbol("ES_F32_EXP");
  case ES_F32_FLOOR: return CInit::symbol("ES_F32_FLOOR");
  case ES_F32_ERF: return CInit::symbol("ES_F32_ERF");
  case ES_F32_TRUNC: return CInit::symbol("ES_F32_TRUNC");
  case ES_F32_SQRT: return CInit::symbol("ES_F32_SQRT");
  case ES_F32_POW: return CInit::symbol("ES_F32_POW");
  case ES_F32_RECIPROCAL: return CInit::symbol("ES_F32_RECIPROCAL");
  case ES_F32_SOFTPLUS: return CInit::symbol("ES_F32_SOFTPLUS");
  case ES_F32_ABS: return CInit::symbol("ES_F32_ABS");
  case ES_F32_NEG: return CInit::symbol("ES_F32_NEG");
  case ES_F32_LOG: return CInit::symbol("ES_F32_LOG");
  case ES_F32_CEIL: return CInit::symbol("ES_F32_CEIL");
  case ES_F32_ROUND: return CInit::symbol("ES_F32_ROUND");
  case ES_F32_SIGN: return CInit::symbol("ES_F32_SIGN");
  case ES_F32_SOFTSIGN: return CInit::symbol("ES_F32_SOFTSIGN");
  case ES_F32_THRESHOLDED_RELU: return CInit::symbol("ES_F32_THRESHOLDED_RELU");
  case ES_F32_CELU: return CInit::symbol("ES_F32_CELU");
  case ES_F32_SHRINK: return CInit::symbol("ES_F32_SHRINK");
  case ES_F32_SIN: return CInit::symbol("ES_F32_SIN");
  case ES_F32_COS: return CInit::symbol("ES_F32_COS");
  }
  return CInit::integer(op);
}

} // namespace

#define F(name) {#name, field(p.name)}

CInit describe(const es_requant_t &p) { return CInit::fields({F(multiplier), F(shift)}); }

CInit describe(const es_conv2d_s8_params_t &p) {
  return CInit::fields({F(batch), F(in_channels), F(in_h), F(in_w), F(out_channels), F(out_h),
                        F(out_w), F(kernel_h), F(kernel_w), F(stride_h), F(stride_w),
                        F(dilation_h), F(dilation_w), F(pad_top), F(pad_left), F(groups),
                        F(input_zp), F(output_zp), F(act_min), F(act_max)});
}
CInit describe(const es_conv1d_s8_params_t &p) {
  return CInit::fields({F(batch), F(in_channels), F(in_w), F(out_channels), F(out_w),
                        F(kernel_w), F(stride), F(pad_left), F(input_zp), F(output_zp),
                        F(act_min), F(act_max)});
}
CInit describe(const es_conv1d_nwc_mean_s8_params_t &p) {
  return CInit::fields({F(batch), F(in_w), F(in_channels), F(out_channels), F(out_w), F(kernel_w),
                        F(stride), F(pad_left), F(channels_last), F(input_zp), F(conv_zp),
                        F(act_min), F(act_max), F(pool_requant), F(output_zp), F(pool_act_min),
                        F(pool_act_max)});
}
CInit describe(const es_depthwise_conv3x3_s8_params_t &p) {
  return CInit::fields({F(batch), F(channels), F(in_h), F(in_w), F(out_h), F(out_w), F(pad_top),
                        F(pad_left), F(input_zp), F(output_zp), F(act_min), F(act_max)});
}
CInit describe(const es_fully_connected_s8_params_t &p) {
  return CInit::fields({F(batch), F(in_features), F(out_features), F(input_zp), F(output_zp),
                        F(act_min), F(act_max)});
}
CInit describe(const es_batch_matmul_s8_params_t &p) {
  return CInit::fields({F(batch), F(a_batch_stride), F(b_batch_stride), F(rows), F(inner),
                        F(cols), F(a_zp), F(b_zp), F(output_zp), F(requant), F(act_min),
                        F(act_max)});
}
CInit describe(const es_pool2d_s8_params_t &p) {
  return CInit::fields({F(batch), F(channels), F(in_h), F(in_w), F(out_h), F(out_w),
                        F(kernel_h), F(kernel_w), F(stride_h), F(stride_w), F(dilation_h),
                        F(dilation_w), F(pad_top), F(pad_left), F(pad_bottom), F(pad_right),
                        F(count_include_pad), F(input_zp), F(output_zp), F(act_min),
                        F(act_max)});
}
CInit describe(const es_global_avg_pool_s8_params_t &p) {
  return CInit::fields({F(batch), F(channels), F(size), F(input_zp), F(output_zp), F(requant),
                        F(act_min), F(act_max)});
}
CInit describe(const es_binary_s8_params_t &p) {
  return CInit::fields({F(op), F(a_shape), F(b_shape), F(out_shape), F(a_zp), F(b_zp),
                        F(output_zp), F(a_requant), F(b_requant), F(output_requant), F(act_min),
                        F(act_max)});
}
CInit describe(const es_compare_s8_params_t &p) {
  return CInit::fields({F(op), F(a_shape), F(b_shape), F(out_shape)});
}
CInit describe(const es_cumsum_s8_params_t &p) {
  return CInit::fields({F(outer), F(length), F(inner), F(exclusive), F(reverse), F(input_zp),
                        F(output_zp), F(requant)});
}
CInit describe(const es_where_s8_params_t &p) {
  return CInit::fields({F(condition_shape), F(x_shape), F(y_shape), F(out_shape), F(x_zp),
                        F(y_zp), F(output_zp), F(x_requant), F(y_requant)});
}
CInit describe(const es_add_s8_params_t &p) {
  return CInit::fields({F(outer), F(channels), F(inner), F(b_layout), F(subtract), F(a_zp),
                        F(b_zp), F(output_zp), F(a_requant), F(b_requant), F(output_requant),
                        F(act_min), F(act_max)});
}
CInit describe(const es_softmax_s8_params_t &p) {
  return CInit::fields({F(outer), F(length), F(inner)});
}
CInit describe(const es_concat_s8_input_t &p) {
  return CInit::fields({F(axis_size), F(rescale), F(input_zp), F(requant)});
}
CInit describe(const es_concat_s8_params_t &p) {
  return CInit::fields({F(outer), F(inner), F(input_count), F(inputs), F(output_zp)});
}
CInit describe(const es_strided_copy_params_t &p) {
  return CInit::fields(
      {F(shape), F(in_offset), F(in_strides), F(out_offset), F(out_strides)});
}
CInit describe(const es_pad_s8_params_t &p) {
  return CInit::fields({F(mode), F(in_shape), F(pads_begin), F(pads_end), F(value)});
}
CInit describe(const es_transpose_s8_params_t &p) {
  return CInit::fields({F(in_shape), F(perm)});
}
CInit describe(const es_reduce_mean_s8_params_t &p) {
  return CInit::fields({F(outer), F(reduce), F(inner), F(input_zp), F(output_zp), F(requant),
                        F(act_min), F(act_max)});
}
CInit describe(const es_reduce_max_s8_params_t &p) {
  return CInit::fields({F(outer), F(reduce), F(inner), F(act_min), F(act_max)});
}
CInit describe(const es_argmax_s8_params_t &p) {
  return CInit::fields({F(outer), F(length), F(inner), F(select_last_index), F(output_zp)});
}
CInit describe(const es_log_softmax_s8_params_t &p) {
  return CInit::fields({F(outer), F(length), F(inner), F(log_factor), F(output_zp)});
}
CInit describe(const es_layer_norm_s8_params_t &p) {
  return CInit::fields(
      {F(outer), F(length), F(input_zp), F(epsilon), F(act_min), F(act_max), F(channels)});
}

CInit describe(const es_conv2d_f32_params_t &p) {
  return CInit::fields({F(batch), F(in_channels), F(in_h), F(in_w), F(out_channels), F(out_h),
                        F(out_w), F(kernel_h), F(kernel_w), F(stride_h), F(stride_w),
                        F(dilation_h), F(dilation_w), F(pad_top), F(pad_left), F(groups),
                        F(act_min), F(act_max)});
}
CInit describe(const es_fully_connected_f32_params_t &p) {
  return CInit::fields({F(batch), F(in_features), F(out_features), F(act_min), F(act_max)});
}
CInit describe(const es_batch_matmul_f32_params_t &p) {
  return CInit::fields({F(batch), F(a_batch_stride), F(b_batch_stride), F(rows), F(inner),
                        F(cols), F(act_min), F(act_max)});
}
CInit describe(const es_pool2d_f32_params_t &p) {
  return CInit::fields({F(batch), F(channels), F(in_h), F(in_w), F(out_h), F(out_w),
                        F(kernel_h), F(kernel_w), F(stride_h), F(stride_w), F(dilation_h),
                        F(dilation_w), F(pad_top), F(pad_left), F(pad_bottom), F(pad_right),
                        F(count_include_pad), F(act_min), F(act_max)});
}
CInit describe(const es_global_pool_f32_params_t &p) {
  return CInit::fields({F(batch), F(channels), F(size), F(act_min), F(act_max)});
}
CInit describe(const es_binary_f32_params_t &p) {
  return CInit::fields(
      {F(op), F(a_shape), F(b_shape), F(out_shape), F(act_min), F(act_max)});
}
CInit describe(const es_cumsum_f32_params_t &p) {
  return CInit::fields({F(outer), F(length), F(inner), F(exclusive), F(reverse)});
}
CInit describe(const es_where_f32_params_t &p) {
  return CInit::fields({F(condition_shape), F(x_shape), F(y_shape), F(out_shape)});
}
CInit describe(const es_clip_f32_params_t &p) {
  return CInit::fields({F(size), F(min), F(max)});
}
CInit describe(const es_fake_quant_f32_params_t &p) {
  return CInit::fields({F(size), F(scale), F(zero_point)});
}
CInit describe(const es_unary_f32_params_t &p) {
  return CInit::fields({F(op), F(size), F(alpha), F(beta)});
}
CInit describe(const es_softmax_f32_params_t &p) {
  return CInit::fields({F(outer), F(length), F(inner)});
}
CInit describe(const es_concat_f32_params_t &p) {
  return CInit::fields({F(outer), F(inner), F(input_count), F(axis_sizes)});
}
CInit describe(const es_pad_f32_params_t &p) {
  return CInit::fields({F(mode), F(in_shape), F(pads_begin), F(pads_end), F(value)});
}
CInit describe(const es_transpose_f32_params_t &p) {
  return CInit::fields({F(in_shape), F(perm)});
}
CInit describe(const es_reduce_mean_f32_params_t &p) {
  return CInit::fields({F(outer), F(reduce), F(inner), F(act_min), F(act_max)});
}
CInit describe(const es_argmax_f32_params_t &p) {
  return CInit::fields({F(outer), F(length), F(inner), F(select_last_index)});
}
CInit describe(const es_layer_norm_f32_params_t &p) {
  return CInit::fields({F(outer), F(length), F(epsilon), F(channels)});
}
CInit describe(const es_recurrent_s8_params_t &p) {
  return CInit::fields({F(seq_length), F(batch), F(input_size), F(hidden_size), F(directions),
                        F(reverse), F(batch_major), F(linear_before_reset), F(input_zp),
                        F(gate_clip), F(cell_shift), F(initial_h_zp), F(initial_h_requant),
                        F(initial_c_zp), F(initial_c_requant), F(y_zp), F(y_requant), F(y_h_zp),
                        F(y_h_requant), F(y_c_zp), F(y_c_requant)});
}
CInit describe(const es_recurrent_f32_params_t &p) {
  return CInit::fields({F(seq_length), F(batch), F(input_size), F(hidden_size), F(directions),
                        F(reverse), F(batch_major), F(linear_before_reset), F(clip)});
}

#undef F

std::optional<std::vector<int32_t>> foldedFastKernelBias(llvm::ArrayRef<int8_t> weights,
                                                         llvm::ArrayRef<int32_t> bias,
                                                         llvm::ArrayRef<es_requant_t> perChannel,
                                                         int32_t inputZeroPoint) {
  const size_t channels = perChannel.size();
  if (channels == 0 || weights.size() % channels != 0) return std::nullopt;
  const size_t perChannelWeights = weights.size() / channels;
  std::vector<int32_t> folded;
  for (size_t m = 0; m < channels; ++m) {
    if (perChannel[m].shift >= 0) return std::nullopt;
    int64_t sum = 0, absSum = 0;
    for (int8_t w : weights.slice(m * perChannelWeights, perChannelWeights)) {
      sum += w;
      absSum += w < 0 ? -w : w;
    }
    // A channel of factor 0 outputs the zero point whatever it accumulates: its bias (large,
    // as the bias is quantised by a scale near 0) is dropped.
    const int64_t channelBias = bias.empty() || perChannel[m].multiplier == 0 ? 0 : bias[m];
    if ((channelBias < 0 ? -channelBias : channelBias) + 256 * absSum >= (int64_t{1} << 29))
      return std::nullopt;
    folded.push_back(static_cast<int32_t>(channelBias - inputZeroPoint * sum));
  }
  return folded;
}

} // namespace edgesplit
