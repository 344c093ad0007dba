#include "report/ReportDiff.h"
#include "support/Error.h"

#include <catch.hpp>

using namespace edgesplit;
using Catch::Matchers::Contains;

namespace {

ReportJson device(const std::string &name, int64_t ram, const std::string &role = "sensor") {
  ReportJson json = ReportJson::parse(R"({
    "name": "", "target": "cortex-m4", "precision": "int8", "folder": "",
    "flash_bytes": 10000, "flash_measured": true, "flash_method": "",
    "weights_bytes": 2000, "ram_bytes": 0, "arena_bytes": 500, "arena_lower_bound_bytes": 500,
    "stack_bytes_estimate": 1024, "static_buffers_bytes": 0, "ram_limit_bytes": 32768,
    "flash_limit_bytes": 262144, "macs": 1000, "est_cycles": 6400, "est_latency_us": 100.0,
    "est_energy_uj": 1.5, "inputs": [], "outputs": [],
    "layers": [{"node": "conv", "op": "Conv", "kernel": "es_conv2d_s8", "output_shape": [1, 4],
                "macs": 1000, "arena_offset": 0, "arena_bytes": 4, "est_cycles": 6400}]})");
  json["name"] = json["folder"] = name;
  json["ram_bytes"] = ram;
  json["role"] = role;
  return json;
}

LoadedReport report(std::vector<ReportJson> devices, const std::string &path = "r.json") {
  LoadedReport loaded;
  loaded.path = path;
  loaded.json["schema"] = kReportSchema;
  loaded.json["model"] = "model.onnx";
  loaded.json["precision"] = "int8";
  loaded.json["devices"] = std::move(devices);
  loaded.json["links"] = ReportJson::array();
  checkReport(loaded.json, path);
  return loaded;
}

const DiffLimit &limit(const DiffLimits &limits, const std::string &key) {
  for (const DiffLimit &l : limits)
    if (l.key == key) return l;
  FAIL("no limit " << key);
  return limits.front();
}

} // namespace

TEST_CASE("diff limits: defaults, overrides, units") {
  const DiffLimits defaults = parseDiffLimits({});
  CHECK(limit(defaults, "ram").kind == DiffLimit::Kind::Relative);
  CHECK(limit(defaults, "ram").amount == 2);
  CHECK(limit(defaults, "bytes").amount == 0);
  CHECK(limit(defaults, "instructions").kind == DiffLimit::Kind::Off);

  const DiffLimits given = parseDiffLimits({"ram=+1KiB,latency=+1.5ms", "energy=off,flash=0.5%"});
  CHECK(limit(given, "ram").kind == DiffLimit::Kind::Absolute);
  CHECK(limit(given, "ram").amount == 1024);
  CHECK(limit(given, "latency").amount == 1500); // microseconds
  CHECK(limit(given, "energy").kind == DiffLimit::Kind::Off);
  CHECK(limit(given, "flash").amount == 0.5);
  CHECK(limit(given, "bytes").amount == 0); // untouched default
}

TEST_CASE("diff limits: malformed specs are usage errors") {
  for (const char *spec : {"ram=2", "ram", "ram=", "ram=2%,ram=3%", "speed=2%", "ram=+1kg",
                           "ram=-2%", "ram=+", "ram=1e3%", "ram=2%,"}) {
    INFO(spec);
    CHECK_THROWS_AS(parseDiffLimits({spec}), UsageError);
  }
  CHECK_THROWS_WITH(parseDiffLimits({"speed=2%"}), Contains("ram, flash, latency"));
}

TEST_CASE("diff: relative and absolute limits decide regressions") {
  const LoadedReport base = report({device("wrist", 10000)});
  const LoadedReport grown = report({device("wrist", 10250)}); // +2.5%
  const ReportDiff relative = diffReports(base, grown, parseDiffLimits({}));
  REQUIRE(relative.regressions.size() == 1);
  CHECK_THAT(relative.regressions[0], Contains("wrist") && Contains("RAM") && Contains("+250 B"));
  CHECK(relative.devices[0].status == "changed");

  CHECK(diffReports(base, grown, parseDiffLimits({"ram=3%"})).regressions.empty());
  CHECK(diffReports(base, grown, parseDiffLimits({"ram=+250"})).regressions.empty());
  CHECK(diffReports(base, grown, parseDiffLimits({"ram=+249B"})).regressions.size() == 1);
  // Shrinking is never a regression, even with a 0% limit.
  CHECK(diffReports(grown, base, parseDiffLimits({"ram=0%"})).regressions.empty());
}

TEST_CASE("diff: identical reports are no change") {
  const LoadedReport base = report({device("wrist", 10000), device("hub", 9000, "aggregator")});
  const ReportDiff diff = diffReports(base, base, parseDiffLimits({}));
  CHECK(diff.noChange());
  CHECK_THAT(renderDiff(diff, TextFormat::Text), Contains("no change"));
  CHECK_THAT(diffJson(diff), Contains("\"status\": \"no_change\""));
}

TEST_CASE("diff: growth from zero passes no relative limit") {
  ReportJson before = device("wrist", 10000), after = device("wrist", 10000);
  before["macs"] = 0;
  after["macs"] = 5;
  const ReportDiff diff =
      diffReports(report({before}), report({after}), parseDiffLimits({"macs=1000%"}));
  CHECK(diff.regressions.size() == 1);
}

TEST_CASE("diff: measured instructions compare on the same board only") {
  ReportJson before = device("wrist", 10000), after = device("wrist", 10000);
  before["measured"] = {{"board", "mps2-an386"}, {"instructions_per_inference", 1000}, {"samples", 4}};
  after["measured"] = {{"board", "mps2-an386"}, {"instructions_per_inference", 1100}, {"samples", 4}};
  CHECK(diffReports(report({before}), report({after}), parseDiffLimits({})).regressions.empty());
  CHECK(diffReports(report({before}), report({after}), parseDiffLimits({"instructions=5%"}))
            .regressions.size() == 1);
  after["measured"]["board"] = "mps2-an500";
  const ReportDiff other =
      diffReports(report({before}), report({after}), parseDiffLimits({"instructions=5%"}));
  CHECK(other.regressions.empty());
  CHECK_THAT(renderDiff(other, TextFormat::Text), Contains("not compared"));
}

TEST_CASE("diff: a renamed device stops the comparison; a new one is listed") {
  const LoadedReport base = report({device("wrist", 10000), device("hub", 9000, "aggregator")});
  const LoadedReport renamed =
      report({device("arm", 10000), device("hub", 9000, "aggregator")}, "new.json");
  CHECK_THROWS_AS(diffReports(base, renamed, parseDiffLimits({})), UsageError);
  CHECK_THROWS_WITH(diffReports(base, renamed, parseDiffLimits({})),
                    Contains("'wrist'") && Contains("'arm'"));

  const LoadedReport added = report(
      {device("wrist", 10000), device("ankle", 10000), device("hub", 9000, "aggregator")});
  const ReportDiff diff = diffReports(base, added, parseDiffLimits({}));
  CHECK(diff.regressions.empty());
  REQUIRE(diff.devices.size() == 3);
  CHECK(diff.devices[2].name == "ankle");
  CHECK(diff.devices[2].status == "added");
  CHECK_THAT(renderDiff(diff, TextFormat::Markdown), Contains("Added devices: `ankle`"));
}

TEST_CASE("diff: added and removed layers are listed") {
  ReportJson after = device("wrist", 10000);
  after["layers"][0]["node"] = "conv2";
  const ReportDiff diff =
      diffReports(report({device("wrist", 10000)}), report({after}), parseDiffLimits({}));
  CHECK(diff.devices[0].layersAdded == std::vector<std::string>{"conv2"});
  CHECK(diff.devices[0].layersRemoved == std::vector<std::string>{"conv"});
  CHECK_FALSE(diff.noChange());
}

TEST_CASE("report checks name the file and the field") {
  LoadedReport base = report({device("wrist", 10000)});
  base.json["devices"][0].erase("ram_bytes");
  CHECK_THROWS_WITH(checkReport(base.json, "x/report.json"),
                    Contains("x/report.json: devices[0].ram_bytes: missing"));
  base.json["schema"] = "edgesplit-report/2";
  CHECK_THROWS_WITH(checkReport(base.json, "x/report.json"), Contains("edgesplit-report/2"));
}

TEST_CASE("text documents render as markdown and as aligned text") {
  TextDocument doc;
  doc.heading(2, "Devices");
  doc.table({{"device", "RAM"}, {false, true}, {{"`wrist`", "1940 B"}, {"a|b", "7 B"}}});
  CHECK(doc.render(TextFormat::Markdown) ==
        "## Devices\n\n| device | RAM |\n|---|---:|\n| `wrist` | 1940 B |\n| a\\|b | 7 B |\n");
  CHECK(doc.render(TextFormat::Text) ==
        "Devices\n-------\n\ndevice     RAM\n------  ------\nwrist   1940 B\na|b        7 B\n");
}
