// `edgesplit report OUTDIR [--format json|md|text]`: the compile report of a folder, for a
// terminal, a PR comment or another tool.
#include "cli/Commands.h"
#include "report/ReportFile.h"

#include <fmt/core.h>

namespace edgesplit::cli {
namespace {

struct Options {
  std::string path;
  std::string format = "text";
};

void runReport(const Options &options) {
  const LoadedReport report = loadReport(options.path);
  if (options.format == "json") fmt::print("{}\n", report.json.dump(2));
  else
    fmt::print("{}", renderReport(report.json, options.format == "md" ? TextFormat::Markdown
                                                                      : TextFormat::Text));
}

} // namespace

void registerReport(CLI::App &app) {
  auto options = std::make_shared<Options>();
  CLI::App *command = app.add_subcommand(
      "report", "Print the compile report of an output folder (its report.json)");
  command->add_option("outdir", options->path, "Folder edgesplit compile -o wrote, or its report.json")
      ->required();
  command->add_option("--format", options->format,
                      "text (terminal), md (markdown, as report.md; a PR comment) or json")
      ->check(CLI::IsMember({"text", "md", "json"}))
      ->capture_default_str();
  command->callback([options] { runReport(*options); });
}

} // namespace edgesplit::cli
