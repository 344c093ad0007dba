#include "report/ReportDiff.h"

#include "support/Error.h"

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringRef.h>

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace edgesplit {
namespace {

struct Unit {
  const char *suffix;
  double factor; // to the key's base unit
};

struct LimitKey {
  const char *key;
  const char *baseUnit;
  std::initializer_list<Unit> units;
  DiffLimit::Kind defaultKind;
  double defaultAmount;
};

constexpr std::initializer_list<Unit> kByteUnits = {{"", 1}, {"B", 1}, {"KiB", 1024},
                                                    {"MiB", 1024 * 1024}};
// The order is that of the limits in the diff's output.
const LimitKey kLimitKeys[] = {
    {"ram", "B", kByteUnits, DiffLimit::Kind::Relative, 2},
    {"flash", "B", kByteUnits, DiffLimit::Kind::Relative, 2},
    {"latency", "us", {{"", 1}, {"us", 1}, {"ms", 1000}, {"s", 1e6}}, DiffLimit::Kind::Relative, 5},
    {"energy", "uJ", {{"", 1}, {"uJ", 1}, {"mJ", 1000}}, DiffLimit::Kind::Relative, 5},
    {"bytes", "B", kByteUnits, DiffLimit::Kind::Relative, 0},
    {"instructions", "", {{"", 1}}, DiffLimit::Kind::Off, 0},
    {"macs", "", {{"", 1}}, DiffLimit::Kind::Off, 0},
};

std::string knownKeys() {
  std::vector<std::string> keys;
  for (const LimitKey &key : kLimitKeys) keys.push_back(key.key);
  return fmt::format("{}", fmt::join(keys, ", "));
}

// A plain non-negative decimal ("2", "0.5"); nullopt for anything else.
std::optional<double> parseAmount(llvm::StringRef text) {
  if (text.empty() || !llvm::all_of(text, [](char c) { return llvm::isDigit(c) || c == '.'; }))
    return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(text.begin(), text.end(), value);
  if (error != std::errc() || end != text.end() || !std::isfinite(value)) return std::nullopt;
  return value;
}

DiffLimit parseLimitValue(const LimitKey &key, llvm::StringRef value, const std::string &item) {
  DiffLimit limit;
  limit.key = key.key;
  if (value == "off") return limit;
  if (value.endswith("%")) {
    if (auto percent = parseAmount(value.drop_back())) {
      limit.kind = DiffLimit::Kind::Relative;
      limit.amount = *percent;
      return limit;
    }
  } else if (value.startswith("+")) {
    const llvm::StringRef rest = value.drop_front();
    const size_t digits = rest.find_if_not([](char c) { return llvm::isDigit(c) || c == '.'; });
    const llvm::StringRef suffix = rest.substr(digits);
    for (const Unit &unit : key.units)
      if (suffix == unit.suffix)
        if (auto amount = parseAmount(rest.take_front(digits))) {
          limit.kind = DiffLimit::Kind::Absolute;
          limit.amount = *amount * unit.factor;
          return limit;
        }
  }
  std::vector<std::string> units;
  for (const Unit &unit : key.units)
    if (*unit.suffix) units.push_back(unit.suffix);
  failUsage("--max-increase: '{}': write a share ({}=2%), an amount ({}=+10{}) or {}=off{}", item,
            key.key, key.key, key.baseUnit, key.key,
            units.empty() ? "" : fmt::format(" (units: {})", fmt::join(units, ", ")));
}

std::string limitText(const DiffLimit &limit) {
  for (const LimitKey &key : kLimitKeys)
    if (limit.key == key.key) {
      if (limit.kind == DiffLimit::Kind::Relative) return fmt::format("{}%", limit.amount);
      if (limit.kind == DiffLimit::Kind::Absolute)
        return *key.baseUnit ? fmt::format("+{} {}", limit.amount, key.baseUnit)
                             : fmt::format("+{}", limit.amount);
    }
  return "";
}

// One figure of a device or link: where it is in the report and which limit governs it.
struct MetricDef {
  const char *field; // "a.b": b inside object a
  const char *label;
  const char *unit;
  const char *limitKey;    // "" when no limit applies
  double toLimitUnit;      // from `unit` to the limit key's base unit
};

const MetricDef kDeviceMetrics[] = {
    {"flash_bytes", "flash", "B", "flash", 1},
    {"ram_bytes", "RAM", "B", "ram", 1},
    {"arena_bytes", "arena", "B", "", 1},
    {"macs", "MACs", "", "macs", 1},
    {"est_latency_us", "latency (est.)", "us", "latency", 1},
    {"est_energy_uj", "energy (est.)", "uJ", "energy", 1},
    {"measured.instructions_per_inference", "instructions (measured)", "", "instructions", 1},
};

const MetricDef kLinkMetrics[] = {
    {"bytes_per_inference", "bytes on air", "B", "bytes", 1},
    {"frames_per_inference", "frames", "", "", 1},
    {"est_transfer_ms", "airtime (est.)", "ms", "latency", 1000},
    {"est_energy_uj", "energy (est.)", "uJ", "energy", 1},
};

const ReportJson *figure(const ReportJson *object, llvm::StringRef field) {
  if (!object) return nullptr;
  auto [head, rest] = field.split('.');
  if (!object->contains(head.str())) return nullptr;
  const ReportJson &value = (*object)[head.str()];
  return rest.empty() ? &value : figure(&value, rest);
}

const DiffLimit *findLimit(const DiffLimits &limits, llvm::StringRef key) {
  for (const DiffLimit &limit : limits)
    if (limit.key == key) return &limit;
  return nullptr;
}

double rounded3(double value) { return std::round(value * 1000.0) / 1000.0; }

std::string valueText(double value, bool integral, const std::string &unit) {
  const std::string number = integral ? fmt::format("{}", static_cast<int64_t>(value))
                                      : fmt::format("{}", value);
  return unit.empty() ? number : number + " " + unit;
}

std::string changeText(const MetricChange &metric) {
  const double change = *metric.newValue - *metric.oldValue;
  const std::string number = metric.integral ? fmt::format("{:+}", static_cast<int64_t>(change))
                                             : fmt::format("{:+}", rounded3(change));
  return metric.unit.empty() ? number : number + " " + metric.unit;
}

// Relative change in percent; nullopt when the old value is 0 and the new one is not.
std::optional<double> relativePercent(const MetricChange &metric) {
  const double change = *metric.newValue - *metric.oldValue;
  if (*metric.oldValue == 0) return change == 0 ? std::optional<double>(0.0) : std::nullopt;
  return change / std::fabs(*metric.oldValue) * 100.0;
}

std::string relativeText(const MetricChange &metric) {
  const std::optional<double> percent = relativePercent(metric);
  return percent ? fmt::format("{:+.2f}%", *percent) : "from 0";
}

MetricChange compareMetric(const MetricDef &def, const ReportJson *oldObject,
                           const ReportJson *newObject, const DiffLimits &limits) {
  MetricChange metric;
  metric.field = def.field;
  metric.label = def.label;
  metric.unit = def.unit;
  metric.limitKey = def.limitKey;
  const ReportJson *before = figure(oldObject, def.field), *after = figure(newObject, def.field);
  if (before) metric.oldValue = before->get<double>();
  if (after) metric.newValue = after->get<double>();
  metric.integral = (!before || before->is_number_integer()) && (!after || after->is_number_integer());
  if (!metric.oldValue || !metric.newValue) return metric;
  const DiffLimit *limit = findLimit(limits, def.limitKey);
  if (!limit || limit->kind == DiffLimit::Kind::Off) return metric;
  metric.limit = limitText(*limit);
  const double change = *metric.newValue - *metric.oldValue;
  if (limit->kind == DiffLimit::Kind::Relative) {
    const std::optional<double> percent = relativePercent(metric);
    // A relative limit cannot allow growth from nothing; the tolerance absorbs the rounding of
    // the figures the report stores.
    metric.regression = change > 0 && (!percent || *percent > limit->amount + 1e-9);
  } else {
    metric.regression = change * def.toLimitUnit > limit->amount + 1e-9;
  }
  return metric;
}

std::string deviceDescription(const ReportJson &device) {
  std::string description = device["target"].get<std::string>();
  if (device.contains("role")) description += ", " + device["role"].get<std::string>();
  return description;
}

std::string linkName(const ReportJson &link) {
  return fmt::format("{} → {}", link["from"].get<std::string>(), link["to"].get<std::string>());
}

std::string linkDescription(const ReportJson &link) {
  std::vector<std::string> tensors;
  for (const ReportJson &tensor : link["tensors"]) tensors.push_back(tensor["name"]);
  return fmt::format("{}", fmt::join(tensors, ", "));
}

const ReportJson *findByName(const ReportJson &list, const char *key, const std::string &name) {
  for (const ReportJson &entry : list)
    if (entry[key].get<std::string>() == name) return &entry;
  return nullptr;
}

const ReportJson *findLink(const ReportJson &links, const std::string &name) {
  for (const ReportJson &link : links)
    if (linkName(link) == name) return &link;
  return nullptr;
}

// The rule of docs/report.md: with as many devices on both sides, a device that is gone while a
// new one of the same target and role appeared was renamed; its figures have nothing to be
// compared with, so the comparison stops.
void refuseRenames(const ReportDiff &diff, const ReportJson &oldDevices,
                   const ReportJson &newDevices) {
  if (oldDevices.size() != newDevices.size()) return;
  for (const ReportJson &gone : oldDevices) {
    const std::string name = gone["name"];
    if (findByName(newDevices, "name", name)) continue;
    for (const ReportJson &appeared : newDevices) {
      const std::string newName = appeared["name"];
      if (findByName(oldDevices, "name", newName)) continue;
      if (deviceDescription(gone) == deviceDescription(appeared))
        failUsage("{}: device '{}' of {} is gone and '{}' ({}) took its place: devices were "
                  "renamed, so their figures cannot be compared; keep the device names, or "
                  "compare against a base compiled with the new names",
                  diff.newPath, name, diff.oldPath, newName, deviceDescription(appeared));
    }
  }
}

std::vector<std::string> layerNames(const ReportJson &device) {
  std::vector<std::string> names;
  for (const ReportJson &layer : device["layers"]) names.push_back(layer["node"]);
  return names;
}

std::vector<std::string> missingFrom(const std::vector<std::string> &names,
                                     const std::vector<std::string> &other) {
  std::vector<std::string> missing;
  for (const std::string &name : names)
    if (std::find(other.begin(), other.end(), name) == other.end()) missing.push_back(name);
  return missing;
}

template <size_t N>
EntityChange compareEntity(const MetricDef (&defs)[N], const std::string &name,
                           const std::string &description, const ReportJson *before,
                           const ReportJson *after, const DiffLimits &limits) {
  EntityChange entity;
  entity.name = name;
  entity.description = description;
  entity.status = !before ? "added" : !after ? "removed" : "same";
  for (const MetricDef &def : defs) {
    MetricChange metric = compareMetric(def, before, after, limits);
    if (metric.oldValue || metric.newValue) entity.metrics.push_back(std::move(metric));
  }
  return entity;
}

void addRegressions(ReportDiff &diff, const char *kind, EntityChange &entity) {
  for (const MetricChange &metric : entity.metrics) {
    if (entity.status == "same" && metric.changed()) entity.status = "changed";
    if (metric.regression)
      diff.regressions.push_back(fmt::format("{} {} {} {} ({}), over the limit {}", kind,
                                             entity.name, metric.label, changeText(metric),
                                             relativeText(metric), metric.limit));
  }
  if (entity.status == "same" && (!entity.layersAdded.empty() || !entity.layersRemoved.empty()))
    entity.status = "changed";
}

void compareHeads(ReportDiff &diff, const ReportJson &before, const ReportJson &after) {
  const ReportJson none = ReportJson::array();
  const ReportJson &oldHeads = before.contains("heads") ? before["heads"] : none;
  const ReportJson &newHeads = after.contains("heads") ? after["heads"] : none;
  for (const ReportJson &head : oldHeads) {
    const std::string name = head["output"];
    const ReportJson *match = findByName(newHeads, "output", name);
    if (!match) diff.headsRemoved.push_back(name);
    else if ((*match)["groups"] != head["groups"])
      diff.notes.push_back(fmt::format(
          "head {} needs {} (was {})", name,
          fmt::join((*match)["groups"].get<std::vector<std::string>>(), ", "),
          fmt::join(head["groups"].get<std::vector<std::string>>(), ", ")));
  }
  for (const ReportJson &head : newHeads)
    if (!findByName(oldHeads, "output", head["output"].get<std::string>()))
      diff.headsAdded.push_back(head["output"]);
}

std::string quoted(const std::string &name, TextFormat format) {
  return format == TextFormat::Markdown ? "`" + name + "`" : name;
}

std::string nameList(const std::vector<std::string> &names, TextFormat format) {
  std::vector<std::string> quotedNames;
  for (const std::string &name : names) quotedNames.push_back(quoted(name, format));
  return fmt::format("{}", fmt::join(quotedNames, ", "));
}

// Changed figures in a table; added, removed and unchanged devices or links in a line each.
void entityTable(TextDocument &doc, const std::string &kind, const std::string &heading,
                 const std::vector<EntityChange> &entities, TextFormat format) {
  TextTable table;
  table.header = {kind, "figure", "old", "new", "change", "%", "limit", ""};
  table.rightAligned = {false, false, true, true, true, true, true, false};
  std::vector<std::string> same, added, removed;
  for (const EntityChange &entity : entities) {
    const std::string name = quoted(entity.name, format);
    if (entity.status == "added") added.push_back(name + " (" + entity.description + ")");
    if (entity.status == "removed") removed.push_back(name + " (" + entity.description + ")");
    if (entity.status == "same") same.push_back(name);
    if (entity.status != "changed") continue;
    for (const MetricChange &metric : entity.metrics) {
      if (!metric.changed()) continue;
      const bool both = metric.oldValue && metric.newValue;
      auto side = [&](const std::optional<double> &value) {
        return value ? valueText(*value, metric.integral, metric.unit) : "—";
      };
      table.rows.push_back({name, metric.label, side(metric.oldValue), side(metric.newValue),
                            both ? changeText(metric) : "—", both ? relativeText(metric) : "—",
                            metric.limit.empty() ? "—" : metric.limit,
                            metric.regression ? "over limit" : metric.note});
    }
  }
  const std::string plural = kind + "s";
  if (!table.rows.empty()) {
    doc.heading(2, heading);
    doc.table(std::move(table));
  }
  if (!added.empty()) doc.paragraph(fmt::format("Added {}: {}.", plural, fmt::join(added, ", ")));
  if (!removed.empty())
    doc.paragraph(fmt::format("Removed {}: {}.", plural, fmt::join(removed, ", ")));
  if (!same.empty() && same.size() != entities.size())
    doc.paragraph(fmt::format("Unchanged {}: {}.", plural, fmt::join(same, ", ")));
}

ReportJson metricJson(const MetricChange &metric) {
  ReportJson json;
  json["field"] = metric.field;
  json["label"] = metric.label;
  json["unit"] = metric.unit;
  auto value = [&](const std::optional<double> &v) -> ReportJson {
    if (!v) return nullptr;
    if (metric.integral) return static_cast<int64_t>(*v);
    return *v;
  };
  json["old"] = value(metric.oldValue);
  json["new"] = value(metric.newValue);
  const bool both = metric.oldValue && metric.newValue;
  json["change"] = both ? value(metric.integral ? *metric.newValue - *metric.oldValue
                                                : rounded3(*metric.newValue - *metric.oldValue))
                        : ReportJson(nullptr);
  std::optional<double> percent;
  if (both) percent = relativePercent(metric);
  json["relative_percent"] = percent ? ReportJson(std::round(*percent * 100.0) / 100.0)
                                     : ReportJson(nullptr);
  json["limit"] = metric.limit.empty() ? ReportJson(nullptr) : ReportJson(metric.limit);
  json["regression"] = metric.regression;
  json["note"] = metric.note.empty() ? ReportJson(nullptr) : ReportJson(metric.note);
  return json;
}

ReportJson entityJson(const EntityChange &entity, bool device) {
  ReportJson json;
  json["name"] = entity.name;
  json["status"] = entity.status;
  json["description"] = entity.description;
  ReportJson metrics = ReportJson::array();
  for (const MetricChange &metric : entity.metrics) metrics.push_back(metricJson(metric));
  json["metrics"] = std::move(metrics);
  if (device) {
    json["layers_added"] = entity.layersAdded;
    json["layers_removed"] = entity.layersRemoved;
  }
  return json;
}

} // namespace

DiffLimits parseDiffLimits(const std::vector<std::string> &specs) {
  DiffLimits limits;
  for (const LimitKey &key : kLimitKeys) {
    DiffLimit limit;
    limit.key = key.key;
    limit.kind = key.defaultKind;
    limit.amount = key.defaultAmount;
    limits.push_back(limit);
  }
  std::vector<std::string> given;
  for (const std::string &spec : specs) {
    llvm::SmallVector<llvm::StringRef, 8> items;
    llvm::StringRef(spec).split(items, ',');
    for (llvm::StringRef item : items) {
      const auto [key, value] = item.split('=');
      if (item.empty() || value.empty() || !item.contains('='))
        failUsage("--max-increase: '{}': expected KEY=VALUE items separated by commas, e.g. "
                  "ram=2%,bytes=+100",
                  item.str());
      const LimitKey *known = nullptr;
      for (const LimitKey &candidate : kLimitKeys)
        if (key == candidate.key) known = &candidate;
      if (!known)
        failUsage("--max-increase: '{}': unknown key '{}'; use one of {}", item.str(), key.str(),
                  knownKeys());
      if (std::find(given.begin(), given.end(), key.str()) != given.end())
        failUsage("--max-increase: '{}' is given twice; give each key once", key.str());
      given.push_back(key.str());
      *llvm::find_if(limits, [&](const DiffLimit &l) { return l.key == known->key; }) =
          parseLimitValue(*known, value, item.str());
    }
  }
  return limits;
}

bool ReportDiff::noChange() const {
  if (!notes.empty() || !headsAdded.empty() || !headsRemoved.empty()) return false;
  for (const auto *list : {&devices, &links})
    for (const EntityChange &entity : *list)
      if (entity.status != "same") return false;
  return true;
}

ReportDiff diffReports(const LoadedReport &oldReport, const LoadedReport &newReport,
                       const DiffLimits &limits) {
  ReportDiff diff;
  diff.oldPath = oldReport.path;
  diff.newPath = newReport.path;
  diff.limits = limits;
  const ReportJson &before = oldReport.json, &after = newReport.json;
  for (const char *key : {"model", "precision"})
    if (before[key] != after[key])
      diff.notes.push_back(fmt::format("{}: {} (was {})", key, after[key].get<std::string>(),
                                       before[key].get<std::string>()));
  refuseRenames(diff, before["devices"], after["devices"]);

  for (const ReportJson &device : before["devices"]) {
    const std::string name = device["name"];
    const ReportJson *match = findByName(after["devices"], "name", name);
    EntityChange entity = compareEntity(kDeviceMetrics, name, deviceDescription(device), &device,
                                        match, limits);
    if (match) {
      const ReportJson &oldRounding = device.value("int8_rounding", ReportJson());
      const ReportJson &newRounding = match->value("int8_rounding", ReportJson());
      if (oldRounding.is_string() && newRounding.is_string() && oldRounding != newRounding)
        diff.notes.push_back(fmt::format("{}: int8_rounding {} (was {})", name,
                                         newRounding.get<std::string>(),
                                         oldRounding.get<std::string>()));
      const ReportJson *oldMeasured = figure(&device, "measured");
      const ReportJson *newMeasured = figure(match, "measured");
      // Instructions of two boards are not the same measure.
      if (oldMeasured && newMeasured && (*oldMeasured)["board"] != (*newMeasured)["board"])
        for (MetricChange &metric : entity.metrics)
          if (metric.limitKey == "instructions") {
            metric.regression = false;
            metric.limit.clear();
            metric.note = fmt::format("not compared: board {} (was {})",
                                      (*newMeasured)["board"].get<std::string>(),
                                      (*oldMeasured)["board"].get<std::string>());
          }
      entity.layersAdded = missingFrom(layerNames(*match), layerNames(device));
      entity.layersRemoved = missingFrom(layerNames(device), layerNames(*match));
    }
    addRegressions(diff, "device", entity);
    diff.devices.push_back(std::move(entity));
  }
  for (const ReportJson &device : after["devices"])
    if (!findByName(before["devices"], "name", device["name"].get<std::string>()))
      diff.devices.push_back(compareEntity(kDeviceMetrics, device["name"],
                                           deviceDescription(device), nullptr, &device, limits));

  for (const ReportJson &link : before["links"]) {
    EntityChange entity = compareEntity(kLinkMetrics, linkName(link), linkDescription(link), &link,
                                        findLink(after["links"], linkName(link)), limits);
    addRegressions(diff, "link", entity);
    diff.links.push_back(std::move(entity));
  }
  for (const ReportJson &link : after["links"])
    if (!findLink(before["links"], linkName(link)))
      diff.links.push_back(compareEntity(kLinkMetrics, linkName(link), linkDescription(link),
                                         nullptr, &link, limits));
  compareHeads(diff, before, after);
  return diff;
}

std::string renderDiff(const ReportDiff &diff, TextFormat format) {
  TextDocument doc;
  doc.heading(1, "edgesplit diff");
  doc.paragraph(fmt::format("{} → {}", quoted(diff.oldPath, format), quoted(diff.newPath, format)));
  if (diff.noChange()) {
    doc.paragraph("no change");
    return doc.render(format);
  }
  if (diff.regressions.empty()) {
    doc.paragraph("Within the limits.");
  } else {
    doc.paragraph(fmt::format("{} past the limits:", diff.regressions.size() == 1
                                                          ? "1 regression"
                                                          : fmt::format("{} regressions",
                                                                        diff.regressions.size())));
    std::string list;
    for (const std::string &regression : diff.regressions) list += "- " + regression + "\n";
    list.pop_back();
    doc.paragraph(list);
  }
  for (const std::string &note : diff.notes) doc.paragraph("Note: " + note + ".");
  entityTable(doc, "device", "Devices", diff.devices, format);
  entityTable(doc, "link", "Links", diff.links, format);
  if (!diff.headsAdded.empty())
    doc.paragraph(fmt::format("Added heads: {}.", nameList(diff.headsAdded, format)));
  if (!diff.headsRemoved.empty())
    doc.paragraph(fmt::format("Removed heads: {}.", nameList(diff.headsRemoved, format)));
  for (const EntityChange &device : diff.devices) {
    if (!device.layersAdded.empty())
      doc.paragraph(fmt::format("Layers added on {}: {}.", quoted(device.name, format),
                                nameList(device.layersAdded, format)));
    if (!device.layersRemoved.empty())
      doc.paragraph(fmt::format("Layers removed from {}: {}.", quoted(device.name, format),
                                nameList(device.layersRemoved, format)));
  }
  std::vector<std::string> limits;
  for (const DiffLimit &limit : diff.limits)
    limits.push_back(limit.key + "=" + (limit.kind == DiffLimit::Kind::Off ? "off" : limitText(limit)));
  doc.paragraph(fmt::format("Limits: {}.", fmt::join(limits, ", ")));
  return doc.render(format);
}

std::string diffJson(const ReportDiff &diff) {
  ReportJson json;
  json["schema"] = "edgesplit-diff/1";
  json["old"] = diff.oldPath;
  json["new"] = diff.newPath;
  json["status"] = !diff.regressions.empty() ? "regression"
                   : diff.noChange()         ? "no_change"
                                             : "within_limits";
  ReportJson limits = ReportJson::object();
  for (const DiffLimit &limit : diff.limits)
    limits[limit.key] = limit.kind == DiffLimit::Kind::Off ? "off" : limitText(limit);
  json["limits"] = std::move(limits);
  json["notes"] = diff.notes;
  ReportJson devices = ReportJson::array(), links = ReportJson::array();
  for (const EntityChange &device : diff.devices) devices.push_back(entityJson(device, true));
  for (const EntityChange &link : diff.links) links.push_back(entityJson(link, false));
  json["devices"] = std::move(devices);
  json["links"] = std::move(links);
  json["heads_added"] = diff.headsAdded;
  json["heads_removed"] = diff.headsRemoved;
  json["regressions"] = diff.regressions;
  return json.dump(2) + "\n";
}

} // namespace edgesplit
