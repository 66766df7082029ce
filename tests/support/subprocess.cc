#include "subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace kafka_sidecar::testing {
namespace {

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// posix_spawn's attribute and file-action objects must be destroyed on every
// path, including the error ones.
struct SpawnAttrs {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnAttrs() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Spawn(
    std::vector<std::string> argv, std::string log_path) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");

  SpawnAttrs s;
  // Own process group: a kill of the group in the destructor also reaches
  // anything the child started, and a Ctrl-C at the terminal hits only the
  // test runner, which then cleans up its children itself.
  posix_spawnattr_setpgroup(&s.attr, 0);
  // The test runner's threads (gRPC, librdkafka) may have changed the signal
  // mask or dispositions; the child must see SIGTERM as a normal process.
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  posix_spawnattr_setsigmask(&s.attr, &empty_mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGHUP);
  posix_spawnattr_setsigdefault(&s.attr, &defaults);
  posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETPGROUP |
                                        POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);

  posix_spawn_file_actions_addopen(&s.actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&s.actions, STDOUT_FILENO,
                                   log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&s.actions, STDOUT_FILENO, STDERR_FILENO);

  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, cargv[0], &s.actions, &s.attr,
                              cargv.data(), environ);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("posix_spawn(",
                                            absl::StrJoin(argv, " "),
                                            "): ", std::strerror(rc)));
  }
  return std::unique_ptr<Subprocess>(new Subprocess(pid, std::move(log_path)));
}

Subprocess::~Subprocess() {
  if (exit_code_.has_value()) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);  // in case the group could not be set up
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

absl::Status Subprocess::Signal(int sig) {
  if (exit_code_.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("process ", pid_, " already exited with ", *exit_code_));
  }
  if (::kill(pid_, sig) != 0) {
    return absl::InternalError(
        absl::StrCat("kill(", pid_, ", ", sig, "): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool Subprocess::TryReap() {
  if (exit_code_.has_value()) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    exit_code_ = DecodeWaitStatus(status);
    return true;
  }
  if (r < 0) {
    // ECHILD: someone else reaped it; there is no exit code left to read.
    exit_code_ = -1;
    return true;
  }
  return false;
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  // waitpid has no timeout; poll with a short, growing interval so a quick
  // exit is seen quickly without burning a core on a slow one.
  absl::Duration interval = absl::Milliseconds(1);
  while (!TryReap()) {
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "process ", pid_, " still running after ",
          absl::FormatDuration(timeout)));
    }
    std::this_thread::sleep_for(
        absl::ToChronoNanoseconds(std::min(interval, deadline - now)));
    interval = std::min(interval * 2, absl::Milliseconds(50));
  }
  return *exit_code_;
}

bool Subprocess::Running() { return !TryReap(); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace kafka_sidecar::testing
