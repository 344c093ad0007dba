// Output folders and files written whole or not at all, under the --force rule of the command
// line: what every command that writes (compile, run, the fleet compiler) shares.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace edgesplit {

// Set from --force. One edgesplit invocation runs one subcommand, so a process-wide setting
// reaches every writer of an output folder.
void setReplaceOutput(bool replace);

// A usage error, before any work, when `target` is not a folder or (without --force) is a folder
// that is not empty.
void refuseToReplaceFolder(const std::filesystem::path &target);

// Writes a directory atomically: `fill` populates a temporary sibling, which then takes the place
// of `target`. A `target` that exists and is not empty is replaced (atomically) only when the
// command was given --force. On any error the temporary folder is removed and `target` is left
// as it was.
void writeDirectoryAtomically(const std::filesystem::path &target,
                              const std::function<void(const std::filesystem::path &)> &fill);

// An output file written beside the output folder (compile --emit-qdq) follows the folder's rules:
// refuseToReplaceFile, called before any work, makes an existing file a usage error unless the
// command was given --force; writeFileAtomically writes it whole (a temporary sibling renamed
// over it) or not at all.
void refuseToReplaceFile(const std::filesystem::path &path);
void writeFileAtomically(const std::filesystem::path &path, const std::string &bytes);

// Writes `text` to `path`, creating its folder.
void writeTextFile(const std::filesystem::path &path, const std::string &text);

} // namespace edgesplit
