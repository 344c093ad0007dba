#include "report/ReportFile.h"

#include "support/Error.h"

#include <fstream>

namespace edgesplit {
namespace {

enum class Kind { String, Integer, Number, Boolean, Array, Object };

std::string_view kindName(Kind kind) {
  switch (kind) {
  case Kind::String: return "a string";
  case Kind::Integer: return "an integer";
  case Kind::Number: return "a number";
  case Kind::Boolean: return "true or false";
  case Kind::Array: return "an array";
  case Kind::Object: return "an object";
  }
  return "";
}

bool isKind(const ReportJson &value, Kind kind) {
  switch (kind) {
  case Kind::String: return value.is_string();
  case Kind::Integer: return value.is_number_integer();
  case Kind::Number: return value.is_number();
  case Kind::Boolean: return value.is_boolean();
  case Kind::Array: return value.is_array();
  case Kind::Object: return value.is_object();
  }
  return false;
}

class Checker {
public:
  explicit Checker(const std::string &file) : file_(file) {}

  void field(const ReportJson &object, const char *key, Kind kind, const std::string &where) const {
    const std::string at = where.empty() ? key : where + "." + key;
    if (!object.contains(key))
      fail("{}: {}: missing; this is not a report edgesplit compile wrote: compile again", file_,
           at);
    if (!isKind(object[key], kind))
      fail("{}: {}: is {}, expected {}; this is not a report edgesplit compile wrote: compile "
           "again",
           file_, at, object[key].type_name(), kindName(kind));
  }

  void fields(const ReportJson &object, std::initializer_list<const char *> keys, Kind kind,
              const std::string &where) const {
    for (const char *key : keys) field(object, key, kind, where);
  }

  void strings(const ReportJson &object, const char *key, const std::string &where) const {
    field(object, key, Kind::Array, where);
    for (size_t i = 0; i < object[key].size(); ++i)
      if (!object[key][i].is_string())
        fail("{}: {}.{}[{}]: is {}, expected a string; this is not a report edgesplit compile "
             "wrote: compile again",
             file_, where, key, i, object[key][i].type_name());
  }

  // Every element of array `key` is an object; `each` checks one, given its path.
  template <typename Each>
  void objects(const ReportJson &object, const char *key, const std::string &where,
               Each each) const {
    field(object, key, Kind::Array, where);
    const std::string at = where.empty() ? key : where + "." + key;
    for (size_t i = 0; i < object[key].size(); ++i) {
      const std::string item = fmt::format("{}[{}]", at, i);
      if (!object[key][i].is_object())
        fail("{}: {}: is {}, expected an object; this is not a report edgesplit compile wrote: "
             "compile again",
             file_, item, object[key][i].type_name());
      each(object[key][i], item);
    }
  }

private:
  const std::string &file_;
};

} // namespace

void checkReport(const ReportJson &report, const std::string &file) {
  if (!report.is_object())
    fail("{}: is JSON {}, not a report object; use the report.json edgesplit compile writes", file,
         report.type_name());
  if (!report.contains("schema") || !report["schema"].is_string())
    fail("{}: has no \"schema\" string; use the report.json edgesplit compile writes", file);
  const std::string schema = report["schema"];
  if (schema != kReportSchema)
    fail("{}: schema is '{}', this edgesplit reads '{}'; compile again with this edgesplit",
         file, schema, kReportSchema);
  const Checker check(file);
  check.fields(report, {"model", "precision"}, Kind::String, "");
  check.objects(report, "devices", "", [&](const ReportJson &device, const std::string &at) {
    check.fields(device, {"name", "target", "precision"}, Kind::String, at);
    check.fields(device,
                 {"flash_bytes", "weights_bytes", "ram_bytes", "arena_bytes",
                  "arena_lower_bound_bytes", "stack_bytes_estimate", "static_buffers_bytes",
                  "ram_limit_bytes", "flash_limit_bytes", "macs", "est_cycles"},
                 Kind::Integer, at);
    check.field(device, "flash_measured", Kind::Boolean, at);
    if (device.contains("stack_method")) check.field(device, "stack_method", Kind::String, at);
    check.fields(device, {"est_latency_us", "est_energy_uj"}, Kind::Number, at);
    if (device.contains("role")) check.field(device, "role", Kind::String, at);
    if (device.contains("sensor_groups")) check.strings(device, "sensor_groups", at);
    if (device.contains("measured")) {
      check.field(device, "measured", Kind::Object, at);
      check.field(device["measured"], "board", Kind::String, at + ".measured");
      check.fields(device["measured"], {"instructions_per_inference", "samples"}, Kind::Integer,
                   at + ".measured");
      if (device["measured"].contains("stack_peak_bytes"))
        check.field(device["measured"], "stack_peak_bytes", Kind::Integer, at + ".measured");
    }
    check.objects(device, "layers", at, [&](const ReportJson &layer, const std::string &where) {
      check.fields(layer, {"node", "op", "kernel"}, Kind::String, where);
      check.field(layer, "output_shape", Kind::Array, where);
      check.fields(layer, {"macs", "arena_offset", "arena_bytes", "est_cycles"}, Kind::Integer,
                   where);
      if (layer.contains("scratch_bytes") || layer.contains("scratch_offset"))
        check.fields(layer, {"scratch_offset", "scratch_bytes"}, Kind::Integer, where);
    });
  });
  check.objects(report, "links", "", [&](const ReportJson &link, const std::string &at) {
    check.fields(link, {"from", "to"}, Kind::String, at);
    check.objects(link, "tensors", at, [&](const ReportJson &tensor, const std::string &where) {
      check.field(tensor, "name", Kind::String, where);
    });
    check.fields(link,
                 {"payload_bytes_per_inference", "bytes_per_inference", "frames_per_inference"},
                 Kind::Integer, at);
    check.fields(link, {"est_transfer_ms", "est_energy_uj"}, Kind::Number, at);
  });
  if (report.contains("heads"))
    check.objects(report, "heads", "", [&](const ReportJson &head, const std::string &at) {
      check.field(head, "output", Kind::String, at);
      check.strings(head, "groups", at);
      check.field(head, "aggregator_macs", Kind::Integer, at);
    });
  if (report.contains("fleet")) {
    check.field(report, "fleet", Kind::Object, "");
    for (const char *side : {"chosen", "raw"}) {
      check.field(report["fleet"], side, Kind::Object, "fleet");
      check.field(report["fleet"][side], "bytes_per_inference", Kind::Integer,
                  std::string("fleet.") + side);
    }
  }
  if (report.contains("branches"))
    check.objects(report, "branches", "", [&](const ReportJson &branch, const std::string &at) {
      check.fields(branch, {"group", "device"}, Kind::String, at);
      check.objects(branch, "options", at, [&](const ReportJson &option, const std::string &where) {
        check.fields(option, {"chosen", "pareto", "raw", "fits"}, Kind::Boolean, where);
        check.strings(option, "sends", where);
        check.fields(option, {"index", "bytes_on_air", "sensor_ram_bytes"}, Kind::Integer, where);
        check.fields(option, {"est_latency_ms", "est_energy_uj"}, Kind::Number, where);
      });
    });
}

LoadedReport loadReport(const std::filesystem::path &path) {
  std::error_code ec;
  const std::filesystem::path file =
      std::filesystem::is_directory(path, ec) ? path / "report.json" : path;
  std::ifstream stream(file, std::ios::binary);
  if (!stream)
    fail("{}: cannot read; pass a report.json or the folder edgesplit compile -o wrote",
         file.string());
  LoadedReport loaded;
  loaded.path = file.string();
  try {
    loaded.json = ReportJson::parse(stream);
  } catch (const nlohmann::json::exception &error) {
    fail("{}: is not JSON ({}); use the report.json edgesplit compile writes", loaded.path,
         error.what());
  }
  checkReport(loaded.json, loaded.path);
  return loaded;
}

} // namespace edgesplit
