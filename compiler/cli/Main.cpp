// edgesplit: one binary, one subcommand per job. Exit codes: 0 ok, 1 bad input or failed gate,
// 2 bad usage. Every error is one line on stderr.
#include "cli/Commands.h"
#include "support/Error.h"

#include <fmt/core.h>

#include <cstdio>

int main(int argc, char **argv) {
  CLI::App app{"edgesplit: compile ONNX models into C for a fleet of microcontrollers"};
  app.name("edgesplit");
  app.require_subcommand(1);
  edgesplit::cli::registerInspect(app);
  edgesplit::cli::registerReference(app);
  edgesplit::cli::registerCompile(app);
  edgesplit::cli::registerRun(app);
  edgesplit::cli::registerReport(app);
  edgesplit::cli::registerDiff(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp &help) {
    return app.exit(help);
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
