#include "target/CostFeatures.h"

#include "codegen/RuntimeBindings.h"

#include <algorithm>
#include <cmath>

namespace edgesplit {
namespace {

// The largest filter (taps of one output channel) whose taps the float32 register-blocked
// convolution reads through a table: TABLE_TAPS of runtime-c/src/f32_conv_blocked.c.
constexpr int64_t kFloatConvTableTaps = 64;

// A windowed layer's loop bounds, whichever parameter struct holds them.
struct Window {
  double batch = 1, inChannels = 1, outChannels = 1, groups = 1;
  int64_t inH = 1, inW = 1, outH = 1, outW = 1, kernelH = 1, kernelW = 1;
  int64_t strideH = 1, strideW = 1, dilationH = 1, dilationW = 1, padTop = 0, padLeft = 0;
};

// Along one axis: the taps inside the input summed over the output positions, and the number of
// positions whose window lies wholly inside (the kernels' fast path; the others take the border
// path, tap by tap).
struct AxisTaps {
  double taps = 0;
  double inside = 0;
};

AxisTaps axisTaps(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t dilation,
                  int64_t pad) {
  AxisTaps result;
  for (int64_t o = 0; o < out; ++o) {
    int64_t taps = 0;
    for (int64_t k = 0; k < kernel; ++k) {
      const int64_t at = o * stride - pad + k * dilation;
      taps += at >= 0 && at < in;
    }
    result.taps += static_cast<double>(taps);
    result.inside += taps == kernel && o * stride - pad >= 0 ? 1 : 0;
  }
  return result;
}

struct WindowCounts {
  double pixels;           // output positions per plane
  double windowTaps;       // taps inside the input, over every output position of a plane
  double edgePixels;       // positions whose window overlaps the padding
  double edgeWindowTaps;   // their taps, padding included
};

WindowCounts windowCounts(const Window &w) {
  const AxisTaps rows = axisTaps(w.inH, w.outH, w.kernelH, w.strideH, w.dilationH, w.padTop);
  const AxisTaps cols = axisTaps(w.inW, w.outW, w.kernelW, w.strideW, w.dilationW, w.padLeft);
  const double pixels = static_cast<double>(w.outH * w.outW);
  const double edge = pixels - rows.inside * cols.inside;
  return {pixels, rows.taps * cols.taps, edge, edge * static_cast<double>(w.kernelH * w.kernelW)};
}

double roundUp(double value, double block) { return std::ceil(value / block) * block; }

// Convolutions: the MACs; one rescaled output per channel and pixel (clamped_outputs: again
// when an int8 activation range is narrower than int8, which the SIMD bodies' saturation alone
// does not apply); a set-up per output row;
// the gather of each pixel's window (in-place taps, and the border path's taps); the dot
// products as the int8 SIMD bodies run them, four pixels per pass over rows padded to 16 taps;
// and as the register-blocked float bodies run them: four channels by four neighbouring pixels
// whose windows lie inside the row (block_macs), the other pixels one at a time (edge_macs),
// blocks of fewer than four channels (narrow_macs), and a loop per kernel row and input channel
// of every block (window_rows) but those that read their taps through a table (table_taps),
// and the block MACs of strided layers again (strided_block_macs: their own copy of the body);
// and as the reference kernel runs them, output by output over the taps inside the input only:
// a loop per input channel and window row inside (inside_rows) and its taps (inside_macs); and a
// set-up per output column (output_columns: the depthwise MVE body goes down each column).
// `tapTable`: the float bodies' table size (a four-channel block whose filter has at most that
// many taps and whose windows lie inside the input loops once over the taps: TABLE_TAPS in
// runtime-c/src/f32_conv_blocked.c); 0 for the int8 kernels, which have none.
CostFeatures convolution(const Window &w, int64_t macs, std::string_view function, bool clamped,
                         int64_t tapTable = 0) {
  const WindowCounts c = windowCounts(w);
  const AxisTaps rows = axisTaps(w.inH, w.outH, w.kernelH, w.strideH, w.dilationH, w.padTop);
  const AxisTaps cols = axisTaps(w.inW, w.outW, w.kernelW, w.strideW, w.dilationW, w.padLeft);
  const double groupIn = w.inChannels / w.groups, groupOut = w.outChannels / w.groups;
  const double row = groupIn * static_cast<double>(w.kernelH * w.kernelW);
  // es_conv2d_gemm_s8 takes the output channels two at a time (an odd last one with a zero row).
  const double passes =
      function == "es_conv2d_gemm_s8" ? 2 * std::ceil(w.outChannels / 2) : w.outChannels;
  const double blocks = w.batch * std::ceil(c.pixels / 4) * passes;
  const double blockCols = 4 * std::floor(cols.inside / 4);
  const double edgeCols = static_cast<double>(w.outW) - blockCols;
  const double macsPerChannel = groupIn * rows.taps;
  const double narrowChannels = std::fmod(groupOut, 4) * w.groups;
  const double blockMacs =
      w.batch * w.outChannels * macsPerChannel * static_cast<double>(w.kernelW) * blockCols;
  // Passes of four channels (four pixels or one) on the table path: windows inside the input
  // along both axes.
  double tablePasses = 0;
  if (tapTable > 0 && row <= static_cast<double>(tapTable))
    tablePasses = w.batch * w.groups * std::floor(groupOut / 4) * rows.inside *
                  (blockCols / 4 + (cols.inside - blockCols));
  const double windowRows = w.batch * w.groups * std::ceil(groupOut / 4) * macsPerChannel *
                                (blockCols / 4 + edgeCols) -
                            tablePasses * groupIn * static_cast<double>(w.kernelH);
  const double outputs = w.batch * w.outChannels * c.pixels;
  CostFeatures features = {
          {"macs", static_cast<double>(macs)},
          {"outputs", outputs},
          {"clamped_outputs", clamped ? outputs : 0.0},
          {"output_rows", w.batch * w.outChannels * static_cast<double>(w.outH)},
          {"output_columns", w.batch * w.outChannels * static_cast<double>(w.outW)},
          {"pixels", w.batch * c.pixels},
          {"window_taps", w.batch * w.inChannels * c.windowTaps},
          {"edge_pixels", w.batch * c.edgePixels},
          {"edge_window_taps", w.batch * w.inChannels * c.edgeWindowTaps},
          {"pixel_blocks", blocks},
          {"padded_macs", blocks * 4 * roundUp(row, 16)},
          // es_conv2d_gemm_s8 fills its per-call tables of a window's tap offsets first.
          {"tap_table_entries", function == "es_conv2d_gemm_s8" ? row : 0.0},
          {"block_macs", blockMacs},
          {"edge_macs", w.batch * w.outChannels * macsPerChannel *
                            (cols.taps - blockCols * static_cast<double>(w.kernelW))},
          {"narrow_macs", w.batch * narrowChannels * macsPerChannel * cols.taps},
          {"inside_rows", w.batch * w.outChannels * macsPerChannel * static_cast<double>(w.outW)},
          {"inside_macs", w.batch * w.outChannels * macsPerChannel * cols.taps},
          {"window_rows", windowRows}};
  if (tapTable > 0) {
    features.emplace_back("table_taps", tablePasses * row);
    // The blocks of a strided layer run a copy of the body that reads each pixel's taps a
    // stride apart (stride 1: neighbours).
    features.emplace_back("strided_block_macs", w.strideW > 1 ? blockMacs : 0.0);
  }
  return features;
}

// Whether a pool kernel reads a window wholly inside the input with the window's size a
// constant: its taps unrolled, no loop per window row (the fast kernels' specialised sizes).
bool unrolledPoolWindow(std::string_view function, int64_t kernelH, int64_t kernelW) {
  if (function == "es_max_pool2d_fast_s8") return kernelH == 1 && kernelW == 2;
  if (function == "es_max_pool2d_fast_f32" || function == "es_avg_pool2d_fast_f32")
    return kernelH == kernelW && (kernelH == 2 || kernelH == 3);
  return false;
}

// Pairs of windows inside the input that es_max_pool2d_fast_s8's DSP body reads as one word:
// two taps along a row at stride 2, two outputs at a time along each row's inside run.
double pooledPairs(const Window &w, std::string_view function) {
  if (function != "es_max_pool2d_fast_s8" || w.kernelH != 1 || w.kernelW != 2 ||
      w.strideW != 2 || w.dilationW != 1)
    return 0;
  const AxisTaps rows = axisTaps(w.inH, w.outH, w.kernelH, w.strideH, w.dilationH, w.padTop);
  const AxisTaps cols = axisTaps(w.inW, w.outW, w.kernelW, w.strideW, w.dilationW, w.padLeft);
  return rows.inside * std::floor(cols.inside / 2);
}

// The loops per window row of a window wholly inside the input: es_avg_pool2d_same_scale_s8 sums
// the rows of a window as wide as the input as one run.
double windowRowLoops(std::string_view function, const Window &w) {
  if (function == "es_avg_pool2d_same_scale_s8" && w.dilationH * w.inW == w.kernelW) return 1;
  return static_cast<double>(w.kernelH);
}

// Windowed pools: per output, per window row and per tap inside the input, and the border
// path's windows; for windows wholly inside the input that the kernel reads with loops (not an
// unrolled body), a loop per window row (window_rows) and their taps (looped_window_taps), and
// for those an unrolled body reads, their taps (unrolled_window_taps: no loop, but the float
// bodies' NaN sum); the pairs of windows read as one word (pixel_blocks).
CostFeatures pool(const Window &w, std::string_view function) {
  const WindowCounts c = windowCounts(w);
  const double planes = w.batch * w.outChannels;
  const double inside = (c.pixels - c.edgePixels) * planes;
  const bool unrolled = unrolledPoolWindow(function, w.kernelH, w.kernelW);
  return {{"planes", planes},
          {"pixel_blocks", planes * pooledPairs(w, function)},
          {"outputs", planes * c.pixels},
          {"output_rows", planes * static_cast<double>(w.outH)},
          {"window_taps", planes * c.windowTaps},
          {"edge_pixels", planes * c.edgePixels},
          {"edge_window_taps", planes * c.edgeWindowTaps},
          {"window_rows", unrolled ? 0.0 : inside * windowRowLoops(function, w)},
          {"looped_window_taps",
           unrolled ? 0.0 : inside * static_cast<double>(w.kernelH * w.kernelW)},
          {"unrolled_window_taps",
           unrolled ? inside * static_cast<double>(w.kernelH * w.kernelW) : 0.0}};
}

// es_conv1d*_s8 as its DSP body runs (the plain body takes every window through the border
// path: macs and outputs): output channels in pairs; along the row, the windows over the padding
// on the left, then the windows inside the row two outputs at a time (pixel_blocks: blocks of
// two outputs by two channels, block_macs their MACs; strided_block_macs those of blocks whose
// outputs are two or more inputs apart, which load and unpack each output's bytes apart), an odd
// last one alone (edge_macs), then the windows over the padding on the right, tap by tap with
// padding included (edge_pixels: windows by output channel, edge_window_taps: their taps); an
// odd last channel goes through the border path whole (narrow_macs).
CostFeatures conv1d(const es_conv1d_s8_params_t &p, int64_t macs) {
  const int64_t insideFirst = (p.pad_left + p.stride - 1) / p.stride;
  const int64_t insideEnd =
      std::min<int64_t>(p.in_w + p.pad_left >= p.kernel_w
                            ? (p.in_w + p.pad_left - p.kernel_w) / p.stride + 1
                            : 0,
                        p.out_w);
  const int64_t insideLo = std::min<int64_t>(insideFirst, p.out_w);
  const int64_t inside = std::max<int64_t>(insideEnd - insideLo, 0);
  const double blocks = static_cast<double>(inside / 2), singles = static_cast<double>(inside % 2);
  const double edges = static_cast<double>(p.out_w - inside);
  const double batch = p.batch, pairs = std::floor(p.out_channels / 2.0);
  const double windowMacs = static_cast<double>(p.in_channels) * p.kernel_w;
  const double blockMacs = batch * pairs * blocks * 4 * windowMacs;
  return {{"macs", static_cast<double>(macs)},
          {"outputs", batch * p.out_channels * p.out_w},
          {"output_rows", batch * p.out_channels},
          {"pixel_blocks", batch * pairs * blocks},
          {"block_macs", blockMacs},
          {"strided_block_macs", p.stride > 1 ? blockMacs : 0.0},
          {"edge_macs", batch * pairs * singles * 2 * windowMacs},
          {"edge_pixels", batch * pairs * edges * 2},
          {"edge_window_taps", batch * pairs * edges * 2 * windowMacs},
          {"narrow_macs", batch * (p.out_channels % 2) * p.out_w * windowMacs}};
}

// es_conv1d_nwc_mean*_s8 (the convolution with its global average pool): the MACs (SMLADs over
// int16 pairs, two taps each), one rescaled output summed per window, one pass and one pool
// rescaling per output channel (output_rows), the padded row widened to int16 once per batch
// (elements), and the outputs clamped apart where the activation is narrower than int8.
CostFeatures conv1dMean(const es_conv1d_nwc_mean_s8_params_t &p, int64_t macs) {
  const double batch = p.batch, outputs = batch * p.out_channels * p.out_w;
  const bool narrow = p.act_min != -128 || p.act_max != 127;
  return {{"macs", static_cast<double>(macs)},
          {"outputs", outputs},
          {"output_rows", batch * p.out_channels},
          {"elements", batch * ES_CONV1D_NWC_MEAN_S8_ROW(&p) * p.in_channels},
          {"clamped_outputs", narrow ? outputs : 0.0}};
}

// Fully connected: the MACs, the inputs' unpacking, one rescaled output per row; the passes of
// four rows (row_blocks) of the float32 blocked and int8 MVE bodies, at any width, over the
// inputs in groups of four (their remainder: edge_macs) or padded to 16 (padded_macs: MVE), the
// last rows one at a time (narrow_macs); the int8 plain body's blocks of sixteen outputs
// (output_blocks: a rescaling loop each); int8 outputs of fewer than four inputs, which the plain
// body takes column by column and the DSP body with the first input in a register
// (column_outputs), and of four to seven inputs, taken one row at a time (short_row_outputs).
// The int8 DSP body makes its four-row passes only over rows of eight inputs or more
// (wide_row_blocks, wide_block_macs, wide_edge_macs) and takes every other row one at a time
// (single_row_macs).
CostFeatures fullyConnected(double batch, double in, double out, int64_t macs, bool int8) {
  const double rowBlocks = batch * std::floor(out / 4);
  CostFeatures features = {{"macs", static_cast<double>(macs)},
                           {"inputs", batch * in},
                           {"outputs", batch * out},
                           {"row_blocks", rowBlocks},
                           {"block_macs", rowBlocks * 4 * in},
                           {"edge_macs", rowBlocks * 4 * std::fmod(in, 4)},
                           {"narrow_macs", batch * std::fmod(out, 4) * in},
                           {"padded_macs", rowBlocks * 4 * roundUp(in, 16)},
                           {"output_blocks", batch * std::ceil(out / 16)},
                           {"column_outputs", in < 4 ? batch * out : 0.0},
                           {"short_row_outputs", in >= 4 && in < 8 ? batch * out : 0.0}};
  if (int8) {
    const double wideBlocks = in >= 8 ? rowBlocks : 0.0;
    features.insert(features.end(), {{"wide_row_blocks", wideBlocks},
                                     {"wide_block_macs", wideBlocks * 4 * in},
                                     {"wide_edge_macs", wideBlocks * 4 * std::fmod(in, 4)},
                                     {"single_row_macs", (batch * out - wideBlocks * 4) * in}});
  }
  return features;
}

template <typename Params> Window poolWindow(const Params &p) {
  Window w;
  w.batch = p.batch;
  w.inChannels = w.outChannels = w.groups = p.channels;
  w.inH = p.in_h, w.inW = p.in_w, w.outH = p.out_h, w.outW = p.out_w;
  w.kernelH = p.kernel_h, w.kernelW = p.kernel_w, w.strideH = p.stride_h, w.strideW = p.stride_w;
  w.dilationH = p.dilation_h, w.dilationW = p.dilation_w;
  w.padTop = p.pad_top, w.padLeft = p.pad_left;
  return w;
}

template <typename Params> Window convWindow(const Params &p) {
  Window w;
  w.batch = p.batch;
  w.inChannels = p.in_channels, w.outChannels = p.out_channels, w.groups = p.groups;
  w.inH = p.in_h, w.inW = p.in_w, w.outH = p.out_h, w.outW = p.out_w;
  w.kernelH = p.kernel_h, w.kernelW = p.kernel_w, w.strideH = p.stride_h, w.strideW = p.stride_w;
  w.dilationH = p.dilation_h, w.dilationW = p.dilation_w;
  w.padTop = p.pad_top, w.padLeft = p.pad_left;
  return w;
}

CostFeatures transposedConvolution(const Window &w, int64_t macs, bool clamped) {
  const double outputs = double(w.batch) * w.outChannels * w.outH * w.outW;
  return {{"macs", static_cast<double>(macs)},
          {"outputs", outputs},
          {"clamped_outputs", clamped ? outputs : 0.0},
          {"window_taps", outputs * (w.inChannels / w.groups) * w.kernelH * w.kernelW}};
}

// Whether an int8 layer's activation range is narrower than int8's (a fused Relu or Clip).
template <typename Params> bool narrowRange(const Params &p) {
  return p.act_min != -128 || p.act_max != 127;
}

template <typename Params> const Params *paramsAs(const KernelCall &call) {
  if (!call.params || call.params->type != CTypeName<Params>::value) return nullptr;
  return static_cast<const Params *>(call.params->storage.get());
}

double elementsOf(const Value *value) {
  return value && value->shape ? static_cast<double>(numElements(*value->shape)) : 0.0;
}

// Element-wise and data-movement kernels: the larger of the first activation the call reads and
// the one it writes (a call need not read its node's first input: the fake quantisation of a
// float32 build reads the node's output), and the outer loop's rows (the written activation's
// elements over its innermost axis).
CostFeatures elementwise(const KernelCall &call) {
  double read = 0;
  for (const KernelArg &arg : call.args)
    if (arg.kind == KernelArg::Kind::Input && arg.value) {
      read = elementsOf(arg.value);
      break;
    }
  const double written = elementsOf(call.result);
  double rows = 1;
  if (call.result && call.result->shape && !call.result->shape->empty() &&
      call.result->shape->back() > 0)
    rows = written / static_cast<double>(call.result->shape->back());
  return {{"elements", std::max(read, written)}, {"rows", rows}};
}

// The share of a float call's work whose operands are all nonzero: the product over the first
// `reads` activations it reads (constants count as nonzero) of one minus their share of zeros
// (inputZeroShares, from the compile's samples; without samples, 1). A core without an FPU
// multiplies and adds in library routines (libgcc's __mulsf3, __addsf3, ...) that return at once
// for a zero operand: a multiply-add on a zero activation takes about two thirds of the
// instructions of one on two nonzero values.
double nonzeroShare(const KernelCall &call, size_t reads) {
  double share = 1.0;
  for (size_t k = 0; k < reads && k < call.inputZeroShares.size(); ++k)
    share *= 1.0 - call.inputZeroShares[k];
  return share;
}

bool computesInFloat(const KernelCall &call) {
  return call.result && call.result->dtype == DType::Float32;
}

} // namespace

CostFeatures costFeatures(const KernelCall &call) {
  if (call.isCopy) return {};
  // The transposed convolutions (es_conv_transpose2d_*) take the forward ones' parameters but
  // gather: every output tests every tap of its group's input channels (window_taps) and
  // multiplies on the taps that reach an input (macs).
  if (auto *p = paramsAs<es_conv2d_s8_params_t>(call);
      p && call.function == "es_conv_transpose2d_s8")
    return transposedConvolution(convWindow(*p), call.macs, narrowRange(*p));
  if (auto *p = paramsAs<es_conv2d_f32_params_t>(call);
      p && call.function == "es_conv_transpose2d_f32") {
    CostFeatures features = transposedConvolution(convWindow(*p), call.macs, false);
    features.emplace_back("nonzero_macs", static_cast<double>(call.macs) * nonzeroShare(call, 1));
    return features;
  }
  if (auto *p = paramsAs<es_conv2d_s8_params_t>(call))
    return convolution(convWindow(*p), call.macs, call.function, narrowRange(*p));
  if (auto *p = paramsAs<es_conv2d_f32_params_t>(call)) {
    CostFeatures features =
        convolution(convWindow(*p), call.macs, call.function, false, kFloatConvTableTaps);
    features.emplace_back("nonzero_macs", static_cast<double>(call.macs) * nonzeroShare(call, 1));
    return features;
  }
  if (auto *p = paramsAs<es_conv1d_s8_params_t>(call)) return conv1d(*p, call.macs);
  if (auto *p = paramsAs<es_conv1d_nwc_mean_s8_params_t>(call)) return conv1dMean(*p, call.macs);
  if (auto *p = paramsAs<es_depthwise_conv3x3_s8_params_t>(call)) {
    Window w;
    w.batch = p->batch, w.inChannels = w.outChannels = w.groups = p->channels;
    w.inH = p->in_h, w.inW = p->in_w, w.outH = p->out_h, w.outW = p->out_w;
    w.kernelH = w.kernelW = 3, w.padTop = p->pad_top, w.padLeft = p->pad_left;
    return convolution(w, call.macs, call.function, narrowRange(*p));
  }
  if (auto *p = paramsAs<es_pool2d_s8_params_t>(call)) return pool(poolWindow(*p), call.function);
  if (auto *p = paramsAs<es_pool2d_f32_params_t>(call)) return pool(poolWindow(*p), call.function);
  if (auto *p = paramsAs<es_global_avg_pool_s8_params_t>(call)) {
    // wide_planes: planes whose sum es_global_avg_pool_s8 rescales in 64-bit arithmetic (a
    // factor of 1/2 or more, or below 2^-32, or a sum that may not fit int32).
    const double planes = double(p->batch) * p->channels;
    const bool narrow = p->size < (1 << 23) && p->requant.shift <= -1 && p->requant.shift >= -31;
    return {{"planes", planes},
            {"elements", planes * p->size},
            {"wide_planes", narrow ? 0.0 : planes}};
  }
  if (auto *p = paramsAs<es_global_pool_f32_params_t>(call))
    return {{"planes", double(p->batch) * p->channels},
            {"elements", double(p->batch) * p->channels * p->size}};
  if (auto *p = paramsAs<es_fully_connected_s8_params_t>(call))
    return fullyConnected(p->batch, p->in_features, p->out_features, call.macs, true);
  if (auto *p = paramsAs<es_fully_connected_f32_params_t>(call)) {
    CostFeatures features =
        fullyConnected(p->batch, p->in_features, p->out_features, call.macs, false);
    features.emplace_back("nonzero_macs", static_cast<double>(call.macs) * nonzeroShare(call, 1));
    return features;
  }
  if (auto *p = paramsAs<es_add_s8_params_t>(call)) {
    // Operands of one shape are both rescaled element by element (rescaled_elements), a
    // repeated one once per channel (planes).
    const double elements = double(p->outer) * p->channels * p->inner;
    return {{"planes", double(p->outer) * p->channels},
            {"elements", elements},
            {"rescaled_elements", p->b_layout == ES_ADD_S8_SAME ? elements : 0.0}};
  }
  if (auto *p = paramsAs<es_concat_s8_params_t>(call); p && p->inputs) {
    // Inputs in the output's parameters are copied (a memcpy per outer block), the others
    // rescaled element by element.
    double copied = 0, rescaled = 0;
    for (int32_t k = 0; k < p->input_count; ++k)
      (p->inputs[k].rescale ? rescaled : copied) +=
          double(p->outer) * p->inputs[k].axis_size * p->inner;
    return {{"elements", copied},
            {"rescaled_elements", rescaled},
            {"rows", double(p->outer) * p->input_count}};
  }
  CostFeatures features = elementwise(call);
  // The elements whose operands (every activation the call reads) are all nonzero.
  if (computesInFloat(call))
    features.emplace_back("nonzero_elements",
                          features.front().second * nonzeroShare(call, call.args.size()));
  if (call.macs > 0) features.insert(features.begin(), {"macs", static_cast<double>(call.macs)});
  return features;
}

void setInputZeroShares(Program &program, const llvm::StringMap<double> &shares) {
  for (KernelCall &call : program.calls) {
    call.inputZeroShares.clear();
    for (const KernelArg &arg : call.args)
      if (arg.kind == KernelArg::Kind::Input && arg.value)
        call.inputZeroShares.push_back(shares.lookup(arg.value->name));
  }
}

const std::vector<std::string_view> &costFeatureNames() {
  static const std::vector<std::string_view> names = {
      "macs",        "outputs",          "output_rows",  "pixels",      "window_taps",
      "edge_pixels", "edge_window_taps", "pixel_blocks", "padded_macs", "planes",
      "inputs",      "row_blocks",       "elements",     "rows",        "block_macs",
      "edge_macs",   "narrow_macs",      "window_rows",  "rescaled_elements",
      "looped_window_taps", "output_blocks", "column_outputs", "short_row_outputs",
      "wide_row_blocks", "wide_block_macs", "wide_edge_macs", "single_row_macs",
      "table_taps", "strided_block_macs", "wide_planes", "clamped_outputs", "inside_rows",
      "inside_macs", "output_columns", "tap_table_entries", "unrolled_window_taps",
      "nonzero_macs", "nonzero_elements"};
  return names;
}

} // namespace edgesplit
