#include "support/OutputFolder.h"

#include "support/Error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace edgesplit {

namespace fs = std::filesystem;

namespace {

// Set by --force. One edgesplit invocation runs one subcommand, so a process-wide flag reaches
// every writer of an output folder, the fleet compiler's included.
bool gReplaceOutput = false;


// The folder `target` names, as (parent, name), whatever trailing slash it has.
std::pair<fs::path, std::string> placeOf(const fs::path &target) {
  const fs::path absolute = fs::absolute(target).lexically_normal();
  const fs::path named = absolute.has_filename() ? absolute : absolute.parent_path();
  if (!named.has_filename() || named == named.root_path())
    failUsage("{}: cannot be an output folder; name a folder to create", target.string());
  return {named.parent_path(), named.filename().string()};
}

} // namespace

void refuseToReplaceFolder(const fs::path &target) {
  std::error_code error;
  const fs::file_status status = fs::status(target, error);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status))
    failUsage("{}: exists and is not a folder; choose another output path", target.string());
  if (!gReplaceOutput && !fs::is_empty(target, error))
    failUsage("{}: the output folder exists and is not empty; pass --force to replace it",
              target.string());
}

namespace {

// rename(2) replaces an absent or empty folder only, so a folder that filled up while we worked
// is still refused without --force. With it, RENAME_EXCHANGE swaps the two folders in one step
// (the old contents leave under the staging name); where the filesystem lacks it, the old folder
// moves aside first.
void moveIntoPlace(const fs::path &staging, const fs::path &destination, const fs::path &target) {
  if (::rename(staging.c_str(), destination.c_str()) == 0) return;
  const int error = errno;
  if (error == ENOTDIR)
    failUsage("{}: exists and is not a folder; choose another output path", target.string());
  if (error != ENOTEMPTY && error != EEXIST)
    fail("{}: cannot move the output into place: {}; check the parent folder's permissions",
         target.string(), std::strerror(error));
  if (!gReplaceOutput)
    failUsage("{}: the output folder exists and is not empty; pass --force to replace it",
              target.string());
  std::error_code ignored;
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, destination.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(staging, ignored);
    return;
  }
  const fs::path aside = staging.parent_path() / (staging.filename().string() + "-old");
  if (::rename(destination.c_str(), aside.c_str()) != 0)
    fail("{}: cannot replace the output folder: {}; check the parent folder's permissions",
         target.string(), std::strerror(errno));
  if (::rename(staging.c_str(), destination.c_str()) != 0) {
    const int moveError = errno;
    ::rename(aside.c_str(), destination.c_str());
    fail("{}: cannot replace the output folder: {}; check the parent folder's permissions",
         target.string(), std::strerror(moveError));
  }
  fs::remove_all(aside, ignored);
}

} // namespace

void setReplaceOutput(bool replace) { gReplaceOutput = replace; }

void writeDirectoryAtomically(const std::filesystem::path &target,
                              const std::function<void(const std::filesystem::path &)> &fill) {
  const auto [parent, leaf] = placeOf(target);
  refuseToReplaceFolder(target);
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec)
    fail("{}: cannot create the parent folder: {}; check the path and its permissions",
         target.string(), ec.message());
  const fs::path staging = parent / fmt::format(".{}.tmp-{}", leaf, ::getpid());
  fs::remove_all(staging, ec);
  fs::create_directory(staging, ec);
  if (ec)
    fail("{}: cannot create a folder next to it: {}; check the parent folder's permissions",
         target.string(), ec.message());
  try {
    fill(staging);
    moveIntoPlace(staging, parent / leaf, target);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
}

void refuseToReplaceFile(const fs::path &path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) return;
  if (fs::is_directory(status))
    failUsage("{}: is a folder; name a file to write", path.string());
  if (!gReplaceOutput)
    failUsage("{}: the file exists; pass --force to replace it", path.string());
}

void writeFileAtomically(const fs::path &path, const std::string &bytes) {
  refuseToReplaceFile(path);
  const fs::path absolute = fs::absolute(path);
  const fs::path staging = absolute.parent_path() /
                           fmt::format(".{}.tmp-{}", absolute.filename().string(), ::getpid());
  {
    std::ofstream file(staging, std::ios::binary);
    file << bytes;
    if (!file.flush()) {
      std::error_code ignored;
      fs::remove(staging, ignored);
      fail("{}: cannot write; check the folder's permissions and free space", path.string());
    }
  }
  // Without --force the rename must not replace a file that appeared while we worked.
  const unsigned flags = gReplaceOutput ? 0 : RENAME_NOREPLACE;
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, absolute.c_str(), flags) != 0) {
    const int error = errno;
    std::error_code ignored;
    fs::remove(staging, ignored);
    if (error == EEXIST) failUsage("{}: the file exists; pass --force to replace it", path.string());
    fail("{}: cannot write: {}; check the folder's permissions and free space", path.string(),
         std::strerror(error));
  }
}

void writeTextFile(const std::filesystem::path &path, const std::string &text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file) fail("{}: cannot write; check the folder's permissions and free space", path.string());
}

} // namespace edgesplit
