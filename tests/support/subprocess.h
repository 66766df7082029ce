// A child process for tests: the sidecar binary, or a script. It runs in its
// own process group with stdout and stderr in a log file, and is killed and
// reaped by the destructor, so a failing test never leaves processes behind.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kafka_sidecar::testing {

class Subprocess {
 public:
  // argv[0] is looked up in PATH when it has no slash. stdin is /dev/null;
  // stdout and stderr both go to `log_path` (truncated).
  static absl::StatusOr<std::unique_ptr<Subprocess>> Spawn(
      std::vector<std::string> argv, std::string log_path);

  // SIGKILLs the process group and reaps the child if it is still running.
  ~Subprocess();

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  // Sends `sig` to the child itself (not its group): the sidecar is one
  // process and handles SIGTERM on its own.
  absl::Status Signal(int sig);

  // Waits for the child to exit: its exit code, or 128 + signal number when
  // a signal ended it (as a shell reports it). DeadlineExceeded if it is
  // still running after `timeout`. Once reaped, returns the same code again.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // False once the child has exited (reaping it if needed).
  bool Running();

 private:
  Subprocess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}

  // Non-blocking reap; true when the child has exited.
  bool TryReap();

  pid_t pid_;
  std::string log_path_;
  std::optional<int> exit_code_;
};

// Whole file contents; empty if it cannot be read (a missing log is not an
// error worth failing a diagnostic print over).
std::string ReadFile(const std::string& path);

}  // namespace kafka_sidecar::testing
