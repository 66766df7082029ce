#include "tests/support/kafka_broker.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

extern char** environ;

namespace kafka_sidecar::testing {
namespace {

std::string ScriptPath() {
  return std::string(KAFKA_SIDECAR_SOURCE_DIR) + "/scripts/kafka.sh";
}

struct ScriptResult {
  int exit_code = -1;  // the script's exit status; 128 + N if killed by signal N
  std::string out;
  std::string err;
};

// Runs scripts/kafka.sh with `args` and this process's environment plus
// `env` ("NAME=VALUE"; secrets go there, not into the argument list; a
// variable named there replaces the inherited one), capturing stdout and
// stderr separately.
absl::StatusOr<ScriptResult> RunScript(const std::vector<std::string>& args,
                                       const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv_strings;
  argv_strings.push_back("/bin/bash");  // the script need not be executable
  argv_strings.push_back(ScriptPath());
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = env;
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    const absl::string_view inherited(*e);
    const absl::string_view name = inherited.substr(0, inherited.find('='));
    const bool replaced = std::any_of(env.begin(), env.end(), [&](const std::string& mine) {
      return absl::StartsWith(mine, name) && mine.size() > name.size() && mine[name.size()] == '=';
    });
    if (!replaced) envp.push_back(*e);
  }
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(e)));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return absl::InternalError(
        absl::StrCat("posix_spawn ", ScriptPath(), ": ", std::strerror(rc)));
  }

  ScriptResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid: ", std::strerror(errno)));
    }
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

// Runs the script and turns a non-zero exit into an error carrying the
// script's output.
absl::StatusOr<ScriptResult> RunScriptOk(const std::vector<std::string>& args,
                                         const std::vector<std::string>& env = {}) {
  absl::StatusOr<ScriptResult> result = RunScript(args, env);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::InternalError(absl::StrCat(
        "scripts/kafka.sh ", absl::StrJoin(args, " "), " failed with exit code ",
        result->exit_code, "\n--- stdout ---\n", result->out, "\n--- stderr ---\n",
        result->err));
  }
  return result;
}

// `start` prints the PLAINTEXT bootstrap address, then the SASL one if the
// broker has that listener: `expected` lines.
absl::StatusOr<std::vector<std::string>> ParseBootstraps(const ScriptResult& result,
                                                         size_t expected) {
  std::vector<std::string> bootstraps;
  for (absl::string_view line : absl::StrSplit(result.out, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(line, "127.0.0.1:")) bootstraps.emplace_back(line);
  }
  if (bootstraps.size() != expected) {
    return absl::InternalError(absl::StrCat(
        "scripts/kafka.sh start printed ", bootstraps.size(), " bootstrap addresses, not ",
        expected, "\n--- stdout ---\n", result.out, "\n--- stderr ---\n", result.err));
  }
  return bootstraps;
}

// Parses the consumer-groups tool's `--describe` table:
//   GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID ...
// Rows of `topic` whose CURRENT-OFFSET is "-" (nothing committed) are skipped.
absl::StatusOr<std::map<int32_t, int64_t>> ParseGroupDescribe(
    const std::string& output, const std::string& topic) {
  std::map<int32_t, int64_t> offsets;
  int topic_col = -1;
  int partition_col = -1;
  int offset_col = -1;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    std::vector<absl::string_view> cols =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (cols.empty()) continue;
    bool is_header = false;
    for (size_t i = 0; i < cols.size(); ++i) {
      if (cols[i] == "CURRENT-OFFSET") is_header = true;
    }
    if (is_header) {
      for (size_t i = 0; i < cols.size(); ++i) {
        if (cols[i] == "TOPIC") topic_col = static_cast<int>(i);
        if (cols[i] == "PARTITION") partition_col = static_cast<int>(i);
        if (cols[i] == "CURRENT-OFFSET") offset_col = static_cast<int>(i);
      }
      continue;
    }
    if (topic_col < 0 || partition_col < 0 || offset_col < 0) continue;
    int needed = std::max({topic_col, partition_col, offset_col});
    if (static_cast<int>(cols.size()) <= needed) continue;
    if (cols[topic_col] != topic) continue;
    int32_t partition = 0;
    if (!absl::SimpleAtoi(cols[partition_col], &partition)) continue;
    if (cols[offset_col] == "-") continue;
    int64_t offset = 0;
    if (!absl::SimpleAtoi(cols[offset_col], &offset)) {
      return absl::InternalError(
          absl::StrCat("unparsable consumer-groups line: '", line, "' in:\n", output));
    }
    offsets[partition] = offset;
  }
  return offsets;
}

// Parses GetOffsetShell output: "topic:partition:offset" lines.
absl::StatusOr<std::map<int32_t, int64_t>> ParseEndOffsets(const std::string& output,
                                                           const std::string& topic) {
  std::map<int32_t, int64_t> offsets;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    // The topic may not contain ':' but split from the right all the same.
    size_t last = line.rfind(':');
    size_t mid = last == absl::string_view::npos ? last : line.rfind(':', last - 1);
    int32_t partition = 0;
    int64_t offset = 0;
    if (mid == absl::string_view::npos || line.substr(0, mid) != topic ||
        !absl::SimpleAtoi(line.substr(mid + 1, last - mid - 1), &partition) ||
        !absl::SimpleAtoi(line.substr(last + 1), &offset)) {
      return absl::InternalError(
          absl::StrCat("unparsable end-offsets line: '", line, "' in:\n", output));
    }
    offsets[partition] = offset;
  }
  if (offsets.empty()) {
    return absl::NotFoundError(absl::StrCat("no partitions of topic ", topic));
  }
  return offsets;
}

// What `start` recorded in DIR: the Kafka release the broker runs.
absl::StatusOr<std::string> ReadVersion(const std::string& dir) {
  std::ifstream in(dir + "/version");
  std::stringstream text;
  text << in.rdbuf();
  std::string version(absl::StripAsciiWhitespace(text.str()));
  if (!in || version.empty()) {
    return absl::InternalError(absl::StrCat("scripts/kafka.sh start left no release in ", dir,
                                            "/version"));
  }
  return version;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaBroker>> KafkaBroker::Start(
    const KafkaBrokerOptions& options) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat((tmp != nullptr && *tmp != '\0') ? tmp : "/tmp",
                                  "/kafka-sidecar-broker-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", tmpl, ": ", std::strerror(errno)));
  }
  std::string dir = tmpl;
  std::vector<std::string> args = {"start", dir};
  std::vector<std::string> env;
  if (options.sasl.has_value()) {
    args = {"start", "--sasl", dir};
    env = {"KAFKA_SASL_USERNAME=" + options.sasl->username,
           "KAFKA_SASL_PASSWORD=" + options.sasl->password};
  }
  if (!options.version.empty()) env.push_back("KAFKA_VERSION=" + options.version);
  absl::StatusOr<ScriptResult> started = RunScriptOk(args, env);
  absl::StatusOr<std::vector<std::string>> bootstraps =
      started.ok() ? ParseBootstraps(*started, options.sasl.has_value() ? 2 : 1)
                   : absl::StatusOr<std::vector<std::string>>(started.status());
  absl::StatusOr<std::string> version =
      bootstraps.ok() ? ReadVersion(dir) : absl::StatusOr<std::string>(bootstraps.status());
  if (!version.ok()) {
    (void)RunScript({"clean", dir});
    return version.status();
  }
  return std::unique_ptr<KafkaBroker>(
      new KafkaBroker(std::move(dir), *std::move(bootstraps), *std::move(version)));
}

KafkaBroker::~KafkaBroker() {
  absl::StatusOr<ScriptResult> cleaned = RunScriptOk({"clean", dir_});
  if (!cleaned.ok()) {
    std::fprintf(stderr, "KafkaBroker: %s\n", cleaned.status().ToString().c_str());
  }
}

absl::Status KafkaBroker::CreateTopic(const std::string& topic, int partitions) {
  return RunScriptOk({"topic-create", bootstrap_, topic, std::to_string(partitions)}).status();
}

absl::Status KafkaBroker::CreateTopic(const std::string& topic, int partitions,
                                      const std::map<std::string, std::string>& configs) {
  std::vector<std::string> args = {"topic-create", bootstrap_, topic, std::to_string(partitions)};
  for (const auto& [key, value] : configs) {
    args.push_back("--config");
    args.push_back(absl::StrCat(key, "=", value));
  }
  return RunScriptOk(args).status();
}

absl::StatusOr<std::map<int32_t, int64_t>> KafkaBroker::CommittedOffsets(
    const std::string& group, const std::string& topic) {
  absl::StatusOr<ScriptResult> result = RunScriptOk({"group-offsets", bootstrap_, group});
  if (!result.ok()) return result.status();
  return ParseGroupDescribe(result->out, topic);
}

absl::StatusOr<int> KafkaBroker::GroupMemberCount(const std::string& group) {
  absl::StatusOr<ScriptResult> result =
      RunScriptOk({"tool", "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                   "--bootstrap-server", bootstrap_, "--describe", "--members", "--group", group});
  if (!result.ok()) return result.status();
  // One row per member, the group's name in the first column; a group
  // without members says so in a sentence instead.
  int members = 0;
  for (absl::string_view line : absl::StrSplit(result->out, '\n')) {
    std::vector<absl::string_view> cols =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (cols.size() >= 2 && cols[0] == group) ++members;
    if (absl::StartsWith(line, "Error:")) {
      if (absl::StrContains(line, "does not exist") ||
          absl::StrContains(line, "GroupIdNotFoundException")) {
        return 0;
      }
      return absl::InternalError(absl::StrCat("describe group ", group, ": ", line));
    }
  }
  return members;
}

absl::Status KafkaBroker::SetGroupConfig(const std::string& group,
                                         const std::map<std::string, std::string>& configs) {
  std::vector<std::string> pairs;
  for (const auto& [key, value] : configs) pairs.push_back(absl::StrCat(key, "=", value));
  return RunScriptOk({"tool", "kafka.admin.ConfigCommand", "--bootstrap-server", bootstrap_,
                      "--alter", "--entity-type", "groups", "--entity-name", group,
                      "--add-config", absl::StrJoin(pairs, ",")})
      .status();
}

absl::Status KafkaBroker::SetTopicConfig(const std::string& topic,
                                         const std::map<std::string, std::string>& configs) {
  std::vector<std::string> pairs;
  for (const auto& [key, value] : configs) pairs.push_back(absl::StrCat(key, "=", value));
  return RunScriptOk({"tool", "kafka.admin.ConfigCommand", "--bootstrap-server", bootstrap_,
                      "--alter", "--entity-type", "topics", "--entity-name", topic,
                      "--add-config", absl::StrJoin(pairs, ",")})
      .status();
}

absl::StatusOr<std::map<int32_t, int64_t>> KafkaBroker::EndOffsets(const std::string& topic) {
  absl::StatusOr<ScriptResult> result = RunScriptOk({"end-offsets", bootstrap_, topic});
  if (!result.ok()) return result.status();
  return ParseEndOffsets(result->out, topic);
}

absl::Status KafkaBroker::SaslLogin(const std::string& mechanism, const SaslUser& user) {
  if (sasl_bootstrap_.empty()) {
    return absl::FailedPreconditionError("the broker was started without a SASL listener");
  }
  absl::StatusOr<ScriptResult> result =
      RunScript({"sasl-login", sasl_bootstrap_, mechanism},
                {"KAFKA_SASL_USERNAME=" + user.username, "KAFKA_SASL_PASSWORD=" + user.password});
  if (!result.ok()) return result.status();
  if (result->exit_code == 0) return absl::OkStatus();
  return absl::UnauthenticatedError(absl::StrCat(mechanism, " login as ", user.username,
                                                 " failed:\n", result->out, result->err));
}

absl::Status KafkaBroker::Stop() { return RunScriptOk({"stop", dir_}).status(); }

absl::Status KafkaBroker::Restart() {
  // The script keeps DIR's release anyway; naming it overrides a
  // KAFKA_VERSION in the environment that differs.
  absl::StatusOr<ScriptResult> started =
      RunScriptOk({"start", dir_}, {"KAFKA_VERSION=" + version_});
  if (!started.ok()) return started.status();
  absl::StatusOr<std::vector<std::string>> bootstraps =
      ParseBootstraps(*started, sasl_bootstrap_.empty() ? 1 : 2);
  if (!bootstraps.ok()) return bootstraps.status();
  if ((*bootstraps)[0] != bootstrap_ ||
      (!sasl_bootstrap_.empty() && (*bootstraps)[1] != sasl_bootstrap_)) {
    return absl::InternalError(absl::StrCat("broker restarted on ",
                                            absl::StrJoin(*bootstraps, " and "), ", not on ",
                                            bootstrap_, " ", sasl_bootstrap_));
  }
  return absl::OkStatus();
}

}  // namespace kafka_sidecar::testing
