// report.md and `edgesplit report --format md|text`: a summary a PR comment can carry (devices,
// links, heads), then per-device limits and layers and the cut options, collapsed.
#include "report/Report.h"

#include <fmt/format.h>

namespace edgesplit {
namespace {

int64_t integer(const ReportJson &object, const char *key) { return object[key].get<int64_t>(); }
double number(const ReportJson &object, const char *key) { return object[key].get<double>(); }
std::string text(const ReportJson &object, const char *key) {
  return object[key].get<std::string>();
}
std::string joined(const ReportJson &strings) {
  return fmt::format("{}", fmt::join(strings.get<std::vector<std::string>>(), ", "));
}

// "1940 B (6%)": the share of the device's limit.
std::string bytesOfLimit(int64_t bytes, int64_t limit) {
  if (limit <= 0) return fmt::format("{} B", bytes);
  const double percent = 100.0 * static_cast<double>(bytes) / static_cast<double>(limit);
  if (bytes > 0 && percent < 0.5) return fmt::format("{} B (<1%)", bytes);
  return fmt::format("{} B ({:.0f}%)", bytes, percent);
}

std::string measuredInstructions(const ReportJson &device) {
  if (!device.contains("measured")) return "—";
  const ReportJson &measured = device["measured"];
  return fmt::format("{} ({})", integer(measured, "instructions_per_inference"),
                     text(measured, "board"));
}

std::string roleOf(const ReportJson &device) {
  std::string role = text(device, "role");
  if (device.contains("sensor_groups") && !device["sensor_groups"].empty())
    role += ": " + joined(device["sensor_groups"]);
  return role;
}

void devicesTable(TextDocument &doc, const ReportJson &report) {
  bool fleet = false, estimated = false;
  for (const ReportJson &device : report["devices"]) {
    fleet |= device.contains("role");
    estimated |= !device["flash_measured"].get<bool>();
  }
  TextTable table;
  table.header = {"device", "target"};
  if (fleet) table.header.push_back("role");
  for (const char *column : {"flash (of limit)", "RAM (of limit)", "arena (lower bound)", "MACs",
                             "latency (est.)", "energy (est.)", "instructions (measured)"})
    table.header.push_back(column);
  table.rightAligned.assign(table.header.size(), true);
  for (size_t c = 0; c < (fleet ? 3u : 2u); ++c) table.rightAligned[c] = false;
  for (const ReportJson &device : report["devices"]) {
    std::vector<std::string> row = {"`" + text(device, "name") + "`", text(device, "target")};
    if (fleet) row.push_back(device.contains("role") ? roleOf(device) : "");
    const bool measured = device["flash_measured"].get<bool>();
    row.push_back((measured ? "" : "~") +
                  bytesOfLimit(integer(device, "flash_bytes"), integer(device, "flash_limit_bytes")));
    row.push_back(bytesOfLimit(integer(device, "ram_bytes"), integer(device, "ram_limit_bytes")));
    row.push_back(fmt::format("{} B ({})", integer(device, "arena_bytes"),
                              integer(device, "arena_lower_bound_bytes")));
    row.push_back(fmt::format("{}", integer(device, "macs")));
    row.push_back(fmt::format("{} us", number(device, "est_latency_us")));
    row.push_back(fmt::format("{} uJ", number(device, "est_energy_uj")));
    row.push_back(measuredInstructions(device));
    table.rows.push_back(std::move(row));
  }
  doc.heading(2, "Devices");
  doc.table(std::move(table));
  if (estimated)
    doc.paragraph("~ flash estimated: the target's cross compiler was not installed or the target "
                  "has none.");
}

void linksTable(TextDocument &doc, const ReportJson &report) {
  TextTable table;
  table.header = {"link", "tensors", "payload", "bytes on air", "frames", "airtime (est.)",
                  "energy (est.)"};
  table.rightAligned = {false, false, true, true, true, true, true};
  for (const ReportJson &link : report["links"]) {
    std::vector<std::string> tensors;
    for (const ReportJson &tensor : link["tensors"]) tensors.push_back(text(tensor, "name"));
    table.rows.push_back({fmt::format("`{}` → `{}`", text(link, "from"), text(link, "to")),
                          fmt::format("{}", fmt::join(tensors, ", ")),
                          fmt::format("{} B", integer(link, "payload_bytes_per_inference")),
                          fmt::format("{} B", integer(link, "bytes_per_inference")),
                          fmt::format("{}", integer(link, "frames_per_inference")),
                          fmt::format("{} ms", number(link, "est_transfer_ms")),
                          fmt::format("{} uJ", number(link, "est_energy_uj"))});
  }
  doc.heading(2, "Links (per inference)");
  doc.table(std::move(table));
}

void headsTable(TextDocument &doc, const ReportJson &report) {
  TextTable table;
  table.header = {"head", "needs sensor groups", "aggregator MACs"};
  table.rightAligned = {false, false, true};
  for (const ReportJson &head : report["heads"])
    table.rows.push_back({"`" + text(head, "output") + "`", joined(head["groups"]),
                          fmt::format("{}", integer(head, "aggregator_macs"))});
  doc.heading(2, "Heads (in order of preference)");
  doc.table(std::move(table));
}

void deviceDetails(TextDocument &doc, const ReportJson &device) {
  doc.beginDetails(fmt::format("Device {} ({}): limits and layers", text(device, "name"),
                               text(device, "target")));
  TextTable summary;
  summary.header = {"", ""};
  summary.rightAligned = {false, false};
  summary.rows = {
      {"flash", fmt::format("{} B ({}; limit {} B)", integer(device, "flash_bytes"),
                            device["flash_measured"].get<bool>() ? "measured" : "estimated",
                            integer(device, "flash_limit_bytes"))},
      {"RAM", fmt::format("{} B (arena {} + stack {} + buffers {}; limit {} B)",
                          integer(device, "ram_bytes"), integer(device, "arena_bytes"),
                          integer(device, "stack_bytes_estimate"),
                          integer(device, "static_buffers_bytes"),
                          integer(device, "ram_limit_bytes"))},
      {"arena", fmt::format("{} B (lower bound {} B)", integer(device, "arena_bytes"),
                            integer(device, "arena_lower_bound_bytes"))},
      {"weights", fmt::format("{} B", integer(device, "weights_bytes"))},
      {"MACs", fmt::format("{}", integer(device, "macs"))},
      {"latency (est.)", fmt::format("{} us ({} cycles)", number(device, "est_latency_us"),
                                     integer(device, "est_cycles"))},
      {"energy (est.)", fmt::format("{} uJ", number(device, "est_energy_uj"))},
      {"instructions (measured)", measuredInstructions(device)},
  };
  if (device.contains("stack_method"))
    summary.rows.push_back({"stack", fmt::format("{} B: {}", integer(device, "stack_bytes_estimate"),
                                                 text(device, "stack_method"))});
  if (device.contains("measured") && device["measured"].contains("stack_peak_bytes"))
    summary.rows.push_back(
        {"stack (measured)", fmt::format("{} B painted peak of one inference ({})",
                                         integer(device["measured"], "stack_peak_bytes"),
                                         text(device["measured"], "board"))});
  doc.table(std::move(summary));
  TextTable layers;
  layers.header = {"node", "op", "kernel", "output", "MACs", "arena offset", "bytes",
                   "cycles (est.)"};
  layers.rightAligned = {false, false, false, false, true, true, true, true};
  for (const ReportJson &layer : device["layers"])
    layers.rows.push_back({text(layer, "node"), text(layer, "op"), text(layer, "kernel"),
                           layer["output_shape"].dump(), fmt::format("{}", integer(layer, "macs")),
                           fmt::format("{}", integer(layer, "arena_offset")),
                           fmt::format("{}", integer(layer, "arena_bytes")),
                           fmt::format("{}", integer(layer, "est_cycles"))});
  doc.table(std::move(layers));
  doc.endDetails();
}

void branchDetails(TextDocument &doc, const ReportJson &branch) {
  doc.beginDetails(fmt::format("Cut options of branch {} on {}", text(branch, "group"),
                               text(branch, "device")));
  TextTable table;
  table.header = {"option", "sends", "bytes on air", "latency (est.)", "energy (est.)",
                  "sensor RAM", "fits", ""};
  table.rightAligned = {true, false, true, true, true, true, false, false};
  for (const ReportJson &option : branch["options"]) {
    std::vector<std::string> marks;
    if (option["chosen"].get<bool>()) marks.push_back("chosen");
    if (option["pareto"].get<bool>()) marks.push_back("Pareto");
    if (option["raw"].get<bool>()) marks.push_back("raw data");
    table.rows.push_back({fmt::format("{}", integer(option, "index")), joined(option["sends"]),
                          fmt::format("{}", integer(option, "bytes_on_air")),
                          fmt::format("{} ms", number(option, "est_latency_ms")),
                          fmt::format("{} uJ", number(option, "est_energy_uj")),
                          fmt::format("{} B", integer(option, "sensor_ram_bytes")),
                          option["fits"].get<bool>() ? "yes" : "no",
                          fmt::format("{}", fmt::join(marks, ", "))});
  }
  doc.table(std::move(table));
  doc.endDetails();
}

} // namespace

std::string renderReport(const ReportJson &report, TextFormat format) {
  TextDocument doc;
  doc.heading(1, fmt::format("edgesplit report: {}", text(report, "model")));
  std::string summary = fmt::format("Precision {}", text(report, "precision"));
  if (report.contains("fleet")) {
    const ReportJson &fleet = report["fleet"];
    summary += fmt::format(
        "; a fleet of {} devices and {} links{}. Bytes on air per inference: {} (raw sensor "
        "data: {}).",
        report["devices"].size(), report["links"].size(),
        report.contains("topology") ? fmt::format(" ({})", text(report, "topology")) : "",
        integer(fleet["chosen"], "bytes_per_inference"),
        integer(fleet["raw"], "bytes_per_inference"));
    if (fleet.contains("routed")) {
      int64_t hops = 0; // every tensor on every link of its route
      for (const ReportJson &link : report["links"]) hops += integer(link, "bytes_per_inference");
      summary += fmt::format(" Routed over workers and relays: {} bytes on air per inference over "
                             "every hop; one inference in about {} ms, {} inferences/s when "
                             "stages overlap (est.).",
                             hops, fleet["est_latency_ms"].get<double>(),
                             fleet["est_throughput_per_s"].get<double>());
    }
  } else {
    summary += report["devices"].size() == 1 ? "; one device." : ".";
  }
  doc.paragraph(summary);
  devicesTable(doc, report);
  if (!report["links"].empty()) linksTable(doc, report);
  if (report.contains("heads")) headsTable(doc, report);
  for (const ReportJson &device : report["devices"]) deviceDetails(doc, device);
  if (report.contains("branches"))
    for (const ReportJson &branch : report["branches"]) branchDetails(doc, branch);
  return doc.render(format);
}

} // namespace edgesplit
