#include "frontend/OnnxSandbox.h"

#include <cerrno>
#include <csignal>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace edgesplit {

namespace {

// The child's answer on the pipe: one status byte, then the model it left or the message of the
// exception the pass threw.
constexpr char kModelFollows = 'M';
constexpr char kErrorFollows = 'E';

bool writeAll(int fd, const std::string &bytes) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

std::string readAll(int fd) {
  std::string bytes;
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return bytes;
    bytes.append(chunk, static_cast<size_t>(n));
  }
}

[[noreturn]] void runInChild(int fd, onnx::ModelProto &model,
                             llvm::function_ref<void(onnx::ModelProto &)> pass) {
  // A crash must end the child by its signal, where the parent sees it, not in handlers inherited
  // from the parent (a sanitizer's report, a fuzzer saving the input as its own crash).
  for (const int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP})
    std::signal(signal, SIG_DFL);
  std::string answer;
  try {
    pass(model);
    answer = kModelFollows + model.SerializeAsString();
  } catch (const std::exception &error) {
    answer = kErrorFollows + std::string(error.what());
  }
  // _exit: the parent's atexit handlers and stdio buffers belong to the parent.
  ::_exit(writeAll(fd, answer) ? 0 : 1);
}

// What the pass did to `model` in a child: nullopt when no child could be started.
struct ChildResult {
  bool crashed = false;
  int signal = 0;
};

std::optional<ChildResult> runChild(onnx::ModelProto &model,
                                    llvm::function_ref<void(onnx::ModelProto &)> pass) {
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    ::close(fds[0]);
    runInChild(fds[1], model, pass);
  }
  ::close(fds[1]);
  const std::string answer = readAll(fds[0]);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) return ChildResult{true, WTERMSIG(status)};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || answer.empty())
    return ChildResult{true, 0};
  if (answer.front() == kErrorFollows) throw std::runtime_error(answer.substr(1));
  onnx::ModelProto result;
  if (answer.front() != kModelFollows || !result.ParseFromString(answer.substr(1)))
    return ChildResult{true, 0};
  model = std::move(result);
  return ChildResult{};
}

// Whether the pass crashes on `model` cut down to its first `nodes` nodes.
bool crashesOnPrefix(const onnx::ModelProto &model, int nodes,
                     llvm::function_ref<void(onnx::ModelProto &)> pass) {
  onnx::ModelProto prefix = model;
  auto *list = prefix.mutable_graph()->mutable_node();
  list->DeleteSubrange(nodes, list->size() - nodes);
  try {
    const std::optional<ChildResult> result = runChild(prefix, pass);
    return result && result->crashed;
  } catch (const std::runtime_error &) {
    return false;
  }
}

} // namespace

IsolatedPassOutcome runIsolated(onnx::ModelProto &model,
                                llvm::function_ref<void(onnx::ModelProto &)> pass) {
  const std::optional<ChildResult> result = runChild(model, pass);
  if (!result) {
    pass(model);
    return {};
  }
  if (!result->crashed) return {};
  // `model` is as it was (only an answer replaces it). The passes visit nodes in order, so the
  // prefixes that crash are those holding the culprit: the shortest one ends with it.
  IsolatedPassOutcome outcome{true, result->signal, -1};
  int clean = 0, crashing = model.graph().node_size();
  if (crashesOnPrefix(model, clean, pass)) return outcome;
  while (crashing - clean > 1) {
    const int middle = clean + (crashing - clean) / 2;
    if (crashesOnPrefix(model, middle, pass)) crashing = middle;
    else clean = middle;
  }
  outcome.crashingNode = crashing - 1;
  return outcome;
}

} // namespace edgesplit
