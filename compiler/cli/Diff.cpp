// `edgesplit diff OLD NEW [--max-increase ...] [--format text|md|json]`: a regression gate for CI.
// Exit 0: within the limits; 1: a figure grew past its limit; 2: bad usage or input (the two
// reports cannot be compared), so a CI job can tell a regression from a broken set-up.
#include "cli/Commands.h"
#include "report/ReportDiff.h"
#include "support/Error.h"

#include <fmt/format.h>

#include <cstdio>

namespace edgesplit::cli {
namespace {

struct Options {
  std::string oldPath, newPath;
  std::vector<std::string> maxIncrease;
  std::string format = "text";
};

LoadedReport loadSide(const std::string &path) {
  try {
    return loadReport(path);
  } catch (const UsageError &) {
    throw;
  } catch (const Error &error) {
    throw UsageError(error.what());
  }
}

void runDiff(const Options &options) {
  const DiffLimits limits = parseDiffLimits(options.maxIncrease);
  const ReportDiff diff = diffReports(loadSide(options.oldPath), loadSide(options.newPath), limits);
  if (options.format == "json") fmt::print("{}", diffJson(diff));
  else
    fmt::print("{}", renderDiff(diff, options.format == "md" ? TextFormat::Markdown
                                                             : TextFormat::Text));
  std::fflush(stdout);
  if (!diff.regressions.empty())
    fail("{}: {} past the limits: {}; fix the regression, or raise its limit with "
         "--max-increase KEY=VALUE if it is intended",
         diff.newPath,
         diff.regressions.size() == 1 ? "1 regression"
                                      : fmt::format("{} regressions", diff.regressions.size()),
         fmt::join(diff.regressions, "; "));
}

} // namespace

void registerDiff(CLI::App &app) {
  auto options = std::make_shared<Options>();
  CLI::App *command = app.add_subcommand(
      "diff", "Compare two compile reports; exit 1 when a figure grew past its limit");
  command->add_option("old", options->oldPath, "Base report.json, or the folder holding it")
      ->required();
  command->add_option("new", options->newPath, "New report.json, or the folder holding it")
      ->required();
  command->add_option("--max-increase", options->maxIncrease,
                      "Limits, e.g. ram=2%,flash=+1KiB,latency=5%,bytes=0%,energy=off "
                      "(keys: ram flash latency energy bytes instructions macs; default "
                      "ram=2%,flash=2%,latency=5%,energy=5%,bytes=0%)");
  command->add_option("--format", options->format,
                      "text (terminal), md (markdown: a PR comment) or json")
      ->check(CLI::IsMember({"text", "md", "json"}))
      ->capture_default_str();
  command->callback([options] { runDiff(*options); });
}

} // namespace edgesplit::cli
