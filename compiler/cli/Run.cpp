#include "cli/Commands.h"
#include "cli/Common.h"
#include "execute/Run.h"

#include <memory>

namespace edgesplit::cli {

void registerRun(CLI::App &app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App *command =
      app.add_subcommand("run", "Build a compiled folder for the host and run it on .npy inputs");
  command->add_option("compiled", options->compiled, "Folder written by `edgesplit compile`")
      ->required();
  command
      ->add_option_function<std::vector<std::string>>(
          "--input",
          [options](const std::vector<std::string> &specs) {
            for (const std::string &spec : specs)
              options->inputs.push_back(splitAssignment(spec, "--input"));
          },
          "NAME=FILE.npy for each model input")
      ->required();
  addOutputOption(*command, options->outputDir, "Folder for <output>.npy and run.json");
  addMaxTensorBytesOption(*command);
  command->add_option("--device", options->device, "Device to run (default: the first)");
  command->add_flag("--raw", options->raw, "Write int8 outputs as stored, not dequantised");
  command->add_flag("--sanitize", options->sanitize,
                    "Build with AddressSanitizer and UndefinedBehaviorSanitizer");
  command->add_flag("--qemu", options->qemu,
                    "Cross-compile for each device's target board and run under QEMU, counting "
                    "instructions")
      ->excludes("--sanitize");
  command->add_flag("--per-layer", options->perLayer,
                    "With --qemu: also count each layer's instructions (run.json's "
                    "layer_instructions; the model is built with a marker between its layers)")
      ->needs("--qemu");
  command->add_option("--fail", options->failed,
                      "Fleet: a sensor device that never sends (repeatable)");
  command->add_option("--reboot", options->reboots,
                      "Fleet: DEVICE@SAMPLE, the device (the aggregator too) restarts before that "
                      "sample, losing its RAM state (repeatable)");
  command->add_option("--replay", options->replayRate,
                      "Fleet: probability that, before each frame, an attacker re-sends a frame "
                      "recorded earlier")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--drop-rate", options->dropRate, "Fleet: probability a frame is lost")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--corrupt-rate", options->corruptRate,
                      "Fleet: probability a frame arrives with one byte altered")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--seed", options->seed, "Fleet: seed of the fault injection")
      ->capture_default_str();
  command->callback([options] { runCompiled(*options); });
}

} // namespace edgesplit::cli
