// `edgesplit diff OLD NEW`: the figures of two compile reports side by side, with regression
// limits for CI (docs/report.md, "Comparing two reports").
#pragma once

#include "report/ReportFile.h"
#include "report/TextDocument.h"

#include <llvm/ADT/SmallVector.h>

#include <optional>
#include <string>
#include <vector>

namespace edgesplit {

// How much one kind of figure may grow before it is a regression.
struct DiffLimit {
  enum class Kind { Off, Relative, Absolute };
  std::string key; // ram, flash, latency, energy, bytes, instructions, macs
  Kind kind = Kind::Off;
  double amount = 0; // percent, or the key's base unit (bytes, us, uJ, count)
};

using DiffLimits = llvm::SmallVector<DiffLimit, 8>;

// The defaults (ram=2%,flash=2%,latency=5%,energy=5%,bytes=0%; instructions and macs off),
// overridden key by key by `specs`, each "key=2%,key=+1KiB,key=off". Throws UsageError on an
// unknown key, a malformed value or a key given twice.
DiffLimits parseDiffLimits(const std::vector<std::string> &specs);

struct MetricChange {
  std::string field; // report key, e.g. "ram_bytes" or "measured.instructions_per_inference"
  std::string label; // e.g. "RAM"
  std::string unit;  // "B", "us", "ms", "uJ" or "" for counts
  std::string limitKey; // empty: shown, never a regression
  std::optional<double> oldValue, newValue;
  bool integral = true;
  std::string limit; // the limit as text, empty when none applies
  bool regression = false;
  std::string note; // why it was not compared, when it was not
  bool changed() const { return oldValue != newValue; }
};

// A device or a link present in OLD, NEW or both.
struct EntityChange {
  std::string name; // device name, or "from → to"
  std::string status; // "same", "changed", "added" or "removed"
  std::string description; // target and role of a device, tensors of a link
  std::vector<MetricChange> metrics;
  std::vector<std::string> layersAdded, layersRemoved; // devices only, by node name
};

struct ReportDiff {
  std::string oldPath, newPath;
  DiffLimits limits;
  std::vector<std::string> notes; // model, precision or a head's groups changed
  std::vector<EntityChange> devices, links;
  std::vector<std::string> headsAdded, headsRemoved;
  std::vector<std::string> regressions; // one line each: what grew, by how much, the limit
  bool noChange() const;
};

// Throws UsageError when a device was renamed (the same number of devices, and one that is gone
// has a new one of the same target and role in its place), naming both.
ReportDiff diffReports(const LoadedReport &oldReport, const LoadedReport &newReport,
                       const DiffLimits &limits);

std::string renderDiff(const ReportDiff &diff, TextFormat format);
// "schema": "edgesplit-diff/1" (docs/report.md).
std::string diffJson(const ReportDiff &diff);

} // namespace edgesplit
