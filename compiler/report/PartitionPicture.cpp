#include "report/PartitionPicture.h"

#include "report/Xml.h"
#include "support/Error.h"
#include "support/Shell.h"

#include <llvm/ADT/DenseSet.h>

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <map>

namespace edgesplit {
namespace {

// Per device: node fill, cluster background, cluster border. Tableau's pairs, which stay
// distinguishable for the common colour-vision deficiencies.
struct Palette {
  const char *node, *cluster, *border;
};
constexpr Palette kPalette[] = {
    {"#aec7e8", "#f0f5fb", "#1f77b4"}, {"#ffbb78", "#fff5eb", "#ff7f0e"},
    {"#98df8a", "#effaed", "#2ca02c"}, {"#c5b0d5", "#f6f2f9", "#9467bd"},
    {"#ff9896", "#fff0f0", "#d62728"}, {"#c49c94", "#f7f0ee", "#8c564b"},
    {"#f7b6d2", "#fdf1f6", "#e377c2"}, {"#dbdb8d", "#f9f9ea", "#bcbd22"},
};
const Palette &colours(size_t device) { return kPalette[device % std::size(kPalette)]; }
constexpr const char *kCutColour = "#202020";

std::string shapeText(const Value &value) {
  if (!value.shape) return "?";
  std::vector<std::string> dims;
  for (int64_t dim : *value.shape) dims.push_back(std::to_string(dim));
  return fmt::format("{}", fmt::join(dims, "x"));
}

// An HTML-like label: `title` over a smaller grey `detail` line.
std::string label(const std::string &title, const std::string &detail) {
  return fmt::format("<{}<br/><font point-size=\"8\" color=\"#404040\">{}</font>>",
                     xmlEscaped(title), xmlEscaped(detail));
}

std::string opText(const Node &node, const llvm::DenseMap<const Node *, ActivationClamp> *fused) {
  if (!fused) return node.opType;
  auto clamp = fused->find(&node);
  if (clamp == fused->end()) return node.opType;
  const bool relu = clamp->second.lo == 0.0f && std::isinf(clamp->second.hi);
  return node.opType + (relu ? "+Relu" : "+Clip");
}

std::string joined(const std::vector<std::string> &names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string deviceCaption(const PictureDevice &device) {
  std::string caption = device.target;
  if (!device.role.empty()) caption += ", " + device.role;
  if (!device.groups.empty()) caption += " (" + joined(device.groups) + ")";
  return caption;
}

std::string legend(const PartitionPictureInput &input, bool anyCut) {
  std::string rows = fmt::format(
      "<tr><td colspan=\"2\" align=\"left\"><b>{}</b></td></tr>", xmlEscaped(input.title));
  for (size_t d = 0; d < input.devices.size(); ++d)
    rows += fmt::format("<tr><td bgcolor=\"{}\" width=\"22\" height=\"12\"> </td><td "
                        "align=\"left\">{}: {}</td></tr>",
                        colours(d).node, xmlEscaped(input.devices[d].name),
                        xmlEscaped(deviceCaption(input.devices[d])));
  if (anyCut)
    rows += fmt::format("<tr><td><font color=\"{}\"><b>&#8594;</b></font></td><td "
                        "align=\"left\">bold edge: crosses a link; tensor, payload bytes per "
                        "inference (bytes on air)</td></tr>",
                        kCutColour);
  rows += "<tr><td>oval</td><td align=\"left\">head: model output";
  rows += input.devices.size() > 1 ? ", needs the sensor groups listed</td></tr>" : "</td></tr>";
  return "<<table border=\"0\" cellborder=\"0\" cellspacing=\"1\" cellpadding=\"2\">" + rows +
         "</table>>";
}

// A relayed tensor's edges from `source` to `target`: the first time for its reader (`first`),
// through a node in each relay's box (added to `clusters`), each hop labelled with its devices
// and the tensor's bytes on air; later readers on the same device from the last relay's node.
std::string relayedEdges(const Value &value, const std::vector<size_t> &path,
                         const std::string &source, const std::string &target, bool first,
                         const PartitionPictureInput &input, std::vector<std::string> &clusters,
                         std::map<std::pair<const Value *, size_t>, std::string> &relayNodes) {
  const std::string style = fmt::format("penwidth=2.2, color=\"{}\", fontcolor=\"{}\"",
                                        kCutColour, kCutColour);
  if (!first)
    return fmt::format("  {} -> {} [{}];\n", relayNodes.at({&value, path.back()}), target, style);
  const size_t route = relayNodes.size();
  auto sent = input.sent.find(value.name);
  const std::string air =
      sent == input.sent.end() ? "" : fmt::format("{} B on air", sent->second.airBytes);
  std::string edges, from = source;
  for (size_t hop = 1; hop < path.size(); ++hop) {
    const bool final = hop + 1 == path.size();
    const std::string to = final ? target : fmt::format("r{}_{}", route, hop);
    if (!final)
      clusters[path[hop]] += fmt::format(
          "    {} [shape=box, style=\"rounded,dashed\", fillcolor=\"white\", label={}];\n", to,
          label("relays " + value.name, "store and forward"));
    std::string text = fmt::format("hop {}: {} &#8594; {}", hop,
                                   xmlEscaped(input.devices[path[hop - 1]].name),
                                   xmlEscaped(input.devices[path[hop]].name));
    if (hop == 1)
      text = fmt::format("<b>{}</b> {} B<br/>", xmlEscaped(value.name),
                         sent == input.sent.end() ? 0 : sent->second.payloadBytes) + text;
    edges += fmt::format("  {} -> {} [{}, label=<{}<br/>{}>];\n", from, to, style, text,
                         xmlEscaped(air));
    if (!final) relayNodes[{&value, path.back()}] = to;
    from = to;
  }
  return edges;
}

} // namespace

std::string partitionDot(const PartitionPictureInput &input) {
  const Graph &graph = *input.graph;
  llvm::DenseMap<const Node *, size_t> index;
  for (size_t i = 0; i < input.nodes.size(); ++i) index[input.nodes[i]] = i;
  llvm::DenseMap<const Value *, size_t> inputIndex;
  for (size_t i = 0; i < graph.inputs.size(); ++i) inputIndex[graph.inputs[i]] = i;

  // Each model input, node and head goes into the cluster of its device.
  std::vector<std::string> clusters(input.devices.size());
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    const Value *value = graph.inputs[i];
    auto device = input.inputDevice.find(value);
    if (value->isConstant() || device == input.inputDevice.end()) continue;
    clusters[device->second] += fmt::format(
        "    i{} [shape=cds, style=filled, margin=\"0.22,0.04\", fillcolor=\"{}\", label={}];\n", i,
        colours(device->second).node, label(value->name, shapeText(*value)));
  }
  for (size_t i = 0; i < input.nodes.size(); ++i) {
    const Node &node = *input.nodes[i];
    const size_t device = input.deviceOf.lookup(&node);
    clusters[device] += fmt::format("    n{} [fillcolor=\"{}\", label={}];\n", i,
                                    colours(device).node,
                                    label(node.name, opText(node, input.fused)));
  }
  std::string edges;
  auto sourceOf = [&](const Value *value) -> std::optional<std::pair<std::string, size_t>> {
    if (value->producer && index.count(value->producer))
      return std::pair{fmt::format("n{}", index.lookup(value->producer)),
                       input.deviceOf.lookup(value->producer)};
    if (inputIndex.count(value) && input.inputDevice.count(value))
      return std::pair{fmt::format("i{}", inputIndex.lookup(value)),
                       input.inputDevice.lookup(value)};
    return std::nullopt;
  };
  for (size_t h = 0; h < input.heads.size(); ++h) {
    const PictureHead &head = input.heads[h];
    const auto source = sourceOf(head.value);
    if (!source) continue;
    const std::string needs =
        head.groups.empty() ? "model output" : "needs " + joined(head.groups);
    clusters[source->second] += fmt::format(
        "    h{} [shape=ellipse, style=\"filled,bold\", fillcolor=\"white\", color=\"{}\", "
        "label={}];\n",
        h, colours(source->second).border, label(head.output, needs));
    edges += fmt::format("  {} -> h{};\n", source->first, h);
  }

  // One label per tensor and receiving device: a tensor feeding several nodes there crosses the
  // link once.
  llvm::DenseSet<std::pair<const Value *, size_t>> labelled;
  llvm::DenseSet<std::pair<const Value *, const Node *>> drawn;
  std::map<std::pair<const Value *, size_t>, std::string> relayNodes;
  bool anyCut = false;
  for (size_t i = 0; i < input.nodes.size(); ++i) {
    const Node &node = *input.nodes[i];
    const size_t device = input.deviceOf.lookup(&node);
    for (const Value *value : node.inputs) {
      if (!value || value->isConstant() || !drawn.insert({value, &node}).second) continue;
      const auto source = sourceOf(value);
      if (!source) continue;
      if (source->second == device) {
        edges += fmt::format("  {} -> n{};\n", source->first, i);
        continue;
      }
      anyCut = true;
      std::string attributes = fmt::format("penwidth=2.2, color=\"{}\"", kCutColour);
      auto route = input.routes.find({value->name, device});
      if (route != input.routes.end()) {
        edges += relayedEdges(*value, route->second, source->first, fmt::format("n{}", i),
                              labelled.insert({value, device}).second, input, clusters, relayNodes);
        continue;
      }
      if (labelled.insert({value, device}).second) {
        auto sent = input.sent.find(value->name);
        const std::string bytes =
            sent == input.sent.end()
                ? ""
            : sent->second.relays.empty()
                ? fmt::format("{} B ({} on air)", sent->second.payloadBytes,
                              sent->second.airBytes)
                : fmt::format("{} B ({} on air per hop, via {})", sent->second.payloadBytes,
                              sent->second.airBytes, sent->second.relays);
        attributes += fmt::format(", fontcolor=\"{}\", label=<<b>{}</b><br/>{}>", kCutColour,
                                  xmlEscaped(value->name), xmlEscaped(bytes));
      }
      edges += fmt::format("  {} -> n{} [{}];\n", source->first, i, attributes);
    }
  }

  std::string dot = "digraph partition {\n";
  dot += "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=10, nodesep=0.18, ranksep=0.45, "
         "newrank=true, labelloc=b, labeljust=l, pad=0.2];\n";
  dot += "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, "
         "height=0.3, margin=\"0.16,0.04\", color=\"#606060\"];\n";
  dot += "  edge [color=\"#707070\", arrowsize=0.6, fontname=\"Helvetica\", fontsize=9];\n";
  dot += fmt::format("  label={};\n", legend(input, anyCut));
  for (size_t d = 0; d < input.devices.size(); ++d) {
    const PictureDevice &device = input.devices[d];
    dot += fmt::format("  subgraph cluster_{} {{\n", d);
    dot += fmt::format("    label=<<b>{}</b> <font point-size=\"9\">{}</font>>; labeljust=l; "
                       "fontsize=12; style=\"rounded,filled\"; fillcolor=\"{}\"; color=\"{}\";\n",
                       xmlEscaped(device.name), xmlEscaped(deviceCaption(device)),
                       colours(d).cluster, colours(d).border);
    dot += clusters[d];
    dot += "  }\n";
  }
  dot += edges;
  dot += "}\n";
  return dot;
}

PictureFile writePartitionPicture(const std::filesystem::path &dir, const std::string &dot) {
  const std::filesystem::path source = dir / "partition.dot", svg = dir / "partition.svg";
  {
    std::ofstream file(source, std::ios::binary);
    file << dot;
    if (!file)
      fail("{}: cannot write; check the folder's permissions and free space", source.string());
  }
  if (captureCommand("dot -Tsvg " + shellQuote(source.string()) + " -o " +
                     shellQuote(svg.string()))) {
    std::filesystem::remove(source);
    return PictureFile::Svg;
  }
  std::filesystem::remove(svg);
  return PictureFile::DotOnly;
}

std::string missingDotNote(const std::filesystem::path &outputDir) {
  return fmt::format("{}: Graphviz dot is not installed (or failed), so the partition picture is "
                     "partition.dot rather than partition.svg; install graphviz and run dot -Tsvg "
                     "on it",
                     (outputDir / "partition.dot").string());
}

} // namespace edgesplit
