// Reading a report.json back (`edgesplit report`, `edgesplit diff`): the file, its schema version
// and every field those commands read, so a damaged or foreign file is one clear error rather
// than a crash half-way through a table.
#pragma once

#include "report/Report.h"

#include <filesystem>
#include <string>

namespace edgesplit {

inline constexpr const char *kReportSchema = "edgesplit-report/1";

struct LoadedReport {
  std::string path; // the report.json read, as the user wrote its folder
  ReportJson json;
};

// `path`: a report.json, or a compile output folder holding one. Throws Error naming the file
// (and the field) when it is unreadable, not JSON, of another schema version, or lacks a field.
LoadedReport loadReport(const std::filesystem::path &path);

// The checks of loadReport on a report already in memory; `file` names it in errors.
void checkReport(const ReportJson &report, const std::string &file);

} // namespace edgesplit
