// edgesplit: one binary, one subcommand per job. Exit codes: 0 ok, 1 bad input or failed gate,
// 2 bad usage. Every error is one line on stderr.
#include "cli/Commands.h"
#include "support/Error.h"

#include <fmt/core.h>

#include <cstdio>

namespace edgesplit::cli {
extern const char *const kGitCommit; // written at build time by cmake/GitCommit.cmake
}

int main(int argc, char **argv) {
  CLI::App app{"edgesplit: compile ONNX models into C for a fleet of microcontrollers"};
  app.name("edgesplit");
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       fmt::format("edgesplit {} (commit {})", EDGESPLIT_VERSION,
                                   edgesplit::cli::kGitCommit),
                       "Print the version and the commit it was built from, then exit");
  edgesplit::cli::registerInspect(app);
  edgesplit::cli::registerReference(app);
  edgesplit::cli::registerCompile(app);
  edgesplit::cli::registerRun(app);
  edgesplit::cli::registerReport(app);
  edgesplit::cli::registerDiff(app);
  edgesplit::cli::registerTopologyInit(app);
  edgesplit::cli::registerTopologyCheck(app);
  try {
    // CLI11 reads an unknown first word as a missing subcommand; name the word instead.
    const std::string first = argc > 1 ? argv[1] : "";
    if (!first.empty() && first[0] != '-' &&
        app.get_subcommands([&](const CLI::App *command) { return command->check_name(first); })
            .empty())
      edgesplit::failUsage("unknown subcommand '{}'; `edgesplit --help` lists them", first);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp &help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion &version) {
    return app.exit(version);
  } catch (const CLI::ParseError &error) {
    fmt::print(stderr, "edgesplit: usage error: {}\n", error.what());
    return 2;
  } catch (const edgesplit::UsageError &error) {
    fmt::print(stderr, "edgesplit: usage error: {}\n", error.what());
    return 2;
  } catch (const edgesplit::Error &error) {
    fmt::print(stderr, "edgesplit: error: {}\n", error.what());
    return 1;
  } catch (const std::exception &error) {
    fmt::print(stderr, "edgesplit: internal error: {}\n", error.what());
    return 1;
  }
  return 0;
}
