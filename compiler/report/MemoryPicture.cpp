#include "report/MemoryPicture.h"

#include "memory/Liveness.h"
#include "report/TextDocument.h"
#include "report/Xml.h"
#include "support/Error.h"

#include <llvm/ADT/STLExtras.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace edgesplit {
namespace {

// Geometry in SVG user units (pixels). Text widths are estimated at kCharWidth per character of
// the 10 px sans-serif labels, a little wider than Helvetica/DejaVu's average, so an estimate that
// fits does fit.
constexpr double kCharWidth = 6.1;
constexpr double kLabelHeight = 13;
constexpr double kPlotHeight = 380;
constexpr double kLeft = 78, kRight = 150, kTop = 64;
constexpr size_t kMaxTickChars = 26;

struct TensorBox {
  const Buffer *buffer;
  int64_t offset;
  const char *fill;
  bool sharesStart = false, sharesEnd = false; // in place / view: bytes shared with a neighbour
};

// UTF-8 code points of `text`, so cutting never splits one.
std::vector<std::string> codePoints(const std::string &text) {
  std::vector<std::string> points;
  for (char c : text)
    if ((c & 0xC0) == 0x80 && !points.empty()) points.back() += c;
    else points.emplace_back(1, c);
  return points;
}

// At most `chars` characters, the middle elided: node names differ most at their ends
// ("head_a/fc1", "head_a/fc2").
std::string truncated(const std::string &text, size_t chars) {
  const std::vector<std::string> points = codePoints(text);
  if (points.size() <= chars) return text;
  const size_t head = (chars - 1) / 3, tail = chars - 1 - head;
  std::string out;
  for (size_t i = 0; i < head; ++i) out += points[i];
  out += "\u2026";
  for (size_t i = points.size() - tail; i < points.size(); ++i) out += points[i];
  return out;
}

// `name` broken after its separators into lines at most `width` wide; empty when a piece alone
// is wider.
std::vector<std::string> wrapped(const std::string &name, double width) {
  std::vector<std::string> pieces(1);
  for (const std::string &point : codePoints(name)) {
    pieces.back() += point;
    if (point.size() == 1 && std::strchr("_/.-:", point[0])) pieces.emplace_back();
  }
  if (pieces.back().empty()) pieces.pop_back();
  auto fits = [&](const std::string &line) {
    return static_cast<double>(displayWidth(line)) * kCharWidth <= width;
  };
  std::vector<std::string> lines(1);
  for (const std::string &piece : pieces) {
    if (!lines.back().empty() && !fits(lines.back() + piece)) lines.emplace_back();
    lines.back() += piece;
  }
  if (!llvm::all_of(lines, fits)) return {};
  return lines;
}

// A tick spacing of 1, 2 or 5 times a power of ten giving at most about six ticks.
int64_t tickStep(int64_t range) {
  for (int64_t power = 1;; power *= 10)
    for (int64_t factor : {1, 2, 5})
      if (range / (power * factor) <= 6) return power * factor;
}

} // namespace

std::string memorySvg(const Graph &graph, const MemoryPlan &plan, Precision precision,
                      const std::string &device) {
  const Liveness liveness = computeLiveness(graph, plan.order, bytesPerElement(elementBytes(precision)),
                                            {}, MemoryPlanOptions().alignment);
  const size_t steps = std::max<size_t>(plan.order.size(), 1);
  std::vector<TensorBox> boxes;
  for (const Value *input : graph.inputs)
    if (!input->isConstant() && !liveness.bufferOfValue.count(input))
      fail("internal error: memory picture of '{}': input '{}' has no buffer", device,
           input->name);
  for (size_t b = 0; b < liveness.buffers.size(); ++b) {
    const Buffer &buffer = liveness.buffers[b];
    if (buffer.bytes == 0) continue;
    const Value *value = graph.findValue(buffer.name);
    auto slot = value ? plan.values.find(value) : plan.values.end();
    if (slot == plan.values.end() || slot->second.bytes != buffer.bytes)
      fail("internal error: memory picture of '{}': tensor '{}' is not in the plan as computed",
           device, buffer.name);
    const char *fill = graph.isGraphInput(value)    ? "#9ecae1"
                       : graph.isGraphOutput(value) ? "#a1d99b"
                                                    : "#fdd0a2";
    boxes.push_back({&buffer, slot->second.offset, fill});
  }
  // A buffer sharing another's bytes starts in the step where the other ends; keep both labels
  // clear of that shared column.
  for (TensorBox &box : boxes)
    if (box.buffer->aliasOf)
      for (TensorBox &other : boxes)
        if (other.buffer == &liveness.buffers[*box.buffer->aliasOf]) {
          box.sharesStart = true;
          other.sharesEnd = true;
        }

  size_t longestTick = 0;
  for (const Node *node : plan.order)
    longestTick = std::max(longestTick, std::min(displayWidth(node->name), kMaxTickChars));
  const double column = std::clamp(1000.0 / static_cast<double>(steps), 16.0, 64.0);
  const double plotWidth = column * static_cast<double>(steps);
  const double bottom = 28 + static_cast<double>(longestTick) * kCharWidth * 0.72 + 24;
  const double width = kLeft + plotWidth + kRight;
  const double height = kTop + kPlotHeight + bottom;
  const int64_t top = std::max<int64_t>(plan.arenaBytes, 1);
  const double scale = kPlotHeight / (static_cast<double>(top) * 1.08);
  auto x = [&](double step) { return kLeft + step * column; };
  auto y = [&](double bytes) { return kTop + kPlotHeight - bytes * scale; };

  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" "
      "viewBox=\"0 0 {0:.0f} {1:.0f}\" font-family=\"Helvetica, Arial, sans-serif\" "
      "font-size=\"10\">\n",
      width, height);
  svg += fmt::format("<title>{}</title>\n", xmlEscaped(device + ": arena over execution order"));
  svg += fmt::format("<rect width=\"{:.0f}\" height=\"{:.0f}\" fill=\"white\"/>\n", width, height);
  svg += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"14\" font-weight=\"bold\">{}: arena "
                     "{} B, lower bound {} B ({}, {} steps)</text>\n",
                     kLeft, xmlEscaped(device), plan.arenaBytes, plan.lowerBoundBytes,
                     precisionName(precision), plan.order.size());
  // Legend.
  double legendX = kLeft;
  for (auto [fill, text] : {std::pair{"#9ecae1", "model input"}, {"#fdd0a2", "intermediate"},
                            {"#a1d99b", "model output"}}) {
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"34\" width=\"12\" height=\"12\" fill=\"{}\" "
                       "stroke=\"#505050\" stroke-width=\"0.6\"/><text x=\"{:.1f}\" y=\"44\">{}"
                       "</text>\n",
                       legendX, fill, legendX + 16, text);
    legendX += 16 + std::strlen(text) * kCharWidth + 18;
  }
  svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"40\" x2=\"{1:.1f}\" y2=\"40\" stroke=\"#c0392b\" "
                     "stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/><text x=\"{2:.1f}\" "
                     "y=\"44\">lower bound</text>\n",
                     legendX, legendX + 22, legendX + 26);
  legendX += 26 + 11 * kCharWidth + 18;
  svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"40\" x2=\"{1:.1f}\" y2=\"40\" stroke=\"#202020\" "
                     "stroke-width=\"1.5\"/><text x=\"{2:.1f}\" y=\"44\">arena size</text>\n",
                     legendX, legendX + 22, legendX + 26);

  // Axes: byte ticks, a column per step named by its node.
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"#fafafa\" "
                     "stroke=\"#909090\" stroke-width=\"0.8\"/>\n",
                     kLeft, kTop, plotWidth, kPlotHeight);
  const int64_t byteStep = tickStep(top);
  for (int64_t tick = 0; tick <= top; tick += byteStep)
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" "
                       "stroke=\"#e4e4e4\" stroke-width=\"0.6\"/><text x=\"{3}\" y=\"{4:.1f}\" "
                       "text-anchor=\"end\">{5}</text>\n",
                       kLeft, y(static_cast<double>(tick)), kLeft + plotWidth, kLeft - 6,
                       y(static_cast<double>(tick)) + 3.5, tick);
  svg += fmt::format("<text transform=\"translate(16 {:.1f}) rotate(-90)\" "
                     "text-anchor=\"middle\">arena offset (bytes)</text>\n",
                     kTop + kPlotHeight / 2);
  for (size_t step = 0; step < plan.order.size(); ++step) {
    const double cx = x(static_cast<double>(step) + 0.5), ty = kTop + kPlotHeight + 12;
    svg += fmt::format("<g><title>step {}: {} ({})</title><text transform=\"translate({:.1f} "
                       "{:.1f}) rotate(-45)\" text-anchor=\"end\">{}</text></g>\n",
                       step, xmlEscaped(plan.order[step]->name),
                       xmlEscaped(plan.order[step]->opType), cx + 3, ty,
                       xmlEscaped(truncated(plan.order[step]->name, kMaxTickChars)));
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">execution step "
                     "(node run in that step)</text>\n",
                     kLeft + plotWidth / 2, height - 8);

  // Tensors.
  for (const TensorBox &box : boxes) {
    const Buffer &buffer = *box.buffer;
    const double x0 = x(buffer.firstStep), x1 = x(buffer.lastStep + 1);
    const double y0 = y(static_cast<double>(box.offset + buffer.bytes));
    const double y1 = y(static_cast<double>(box.offset));
    const std::string first = plan.order.empty() ? "" : plan.order[buffer.firstStep]->name;
    const std::string last = plan.order.empty() ? "" : plan.order[buffer.lastStep]->name;
    svg += fmt::format("<g><title>{}: {} B at offset {}, alive in steps {}-{} ({} to {})</title>"
                       "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                       "fill=\"{}\" fill-opacity=\"0.9\" stroke=\"#505050\" "
                       "stroke-width=\"0.8\"/>",
                       xmlEscaped(buffer.name), buffer.bytes, box.offset, buffer.firstStep,
                       buffer.lastStep, xmlEscaped(first), xmlEscaped(last), x0, y0, x1 - x0,
                       y1 - y0, box.fill);
    const double labelX0 = x0 + (box.sharesStart ? column : 0);
    const double labelX1 = x1 - (box.sharesEnd ? column : 0);
    const std::vector<std::string> lines = wrapped(buffer.name, labelX1 - labelX0 - 6);
    const double lineCount = static_cast<double>(lines.size());
    if (!lines.empty() && lineCount * kLabelHeight - 2 <= y1 - y0) {
      const double cx = (labelX0 + labelX1) / 2;
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">", cx,
                         (y0 + y1) / 2 + 3.5 - (lineCount - 1) * kLabelHeight / 2);
      for (size_t l = 0; l < lines.size(); ++l)
        svg += fmt::format("<tspan x=\"{:.1f}\" dy=\"{}\">{}</tspan>", cx, l ? kLabelHeight : 0,
                           xmlEscaped(lines[l]));
      svg += "</text>";
    }
    svg += "</g>\n";
  }

  // The arena's size and its lower bound, labelled beside the plot; when the two lines are
  // close, one label goes above and one below so they do not overlap.
  const double arenaY = y(static_cast<double>(plan.arenaBytes));
  const double boundY = y(static_cast<double>(plan.lowerBoundBytes));
  const bool close = boundY - arenaY < kLabelHeight;
  svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" "
                     "stroke=\"#202020\" stroke-width=\"1.5\"/><text x=\"{3:.1f}\" y=\"{4:.1f}\">"
                     "arena {5} B</text>\n",
                     kLeft, arenaY, kLeft + plotWidth, kLeft + plotWidth + 6,
                     close ? arenaY - 3 : arenaY + 3.5, plan.arenaBytes);
  svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" "
                     "stroke=\"#c0392b\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>"
                     "<text x=\"{3:.1f}\" y=\"{4:.1f}\" fill=\"#c0392b\">lower bound {5} B"
                     "</text>\n",
                     kLeft, boundY, kLeft + plotWidth, kLeft + plotWidth + 6,
                     close ? arenaY + 11 : boundY + 3.5, plan.lowerBoundBytes);
  svg += "</svg>\n";
  return svg;
}

} // namespace edgesplit
