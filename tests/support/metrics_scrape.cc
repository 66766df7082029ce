#include "metrics_scrape.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "subprocess.h"

extern char** environ;

#ifndef KAFKA_SIDECAR_VENV_PYTHON
#error "the test support target defines KAFKA_SIDECAR_VENV_PYTHON"
#endif

namespace kafka_sidecar::testing {
namespace {

constexpr char kPython[] = KAFKA_SIDECAR_VENV_PYTHON;
constexpr char kParser[] = KAFKA_SIDECAR_SOURCE_DIR "/tests/support/parse_metrics.py";

// Undoes parse_metrics.py's escaping of label values.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char n = s[++i];
      out.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n);
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The first `=` not escaped.
size_t UnescapedEquals(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '=') {
      return i;
    }
  }
  return std::string::npos;
}

absl::StatusOr<MetricSample> ParseLine(const std::string& line) {
  std::vector<std::string> fields = absl::StrSplit(line, '\t');
  if (fields.size() != 3) {
    return absl::InternalError(absl::StrCat("parse_metrics.py printed '", line, "'"));
  }
  MetricSample sample;
  sample.name = fields[0];
  if (!fields[1].empty()) {
    // Split pairs on unescaped commas first, keeping escapes for the `=`.
    std::vector<std::string> pairs;
    std::string cur;
    for (size_t i = 0; i < fields[1].size(); ++i) {
      const char c = fields[1][i];
      if (c == '\\' && i + 1 < fields[1].size()) {
        cur.push_back(c);
        cur.push_back(fields[1][++i]);
      } else if (c == ',') {
        pairs.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    pairs.push_back(cur);
    for (const std::string& pair : pairs) {
      const size_t eq = UnescapedEquals(pair);
      if (eq == std::string::npos) {
        return absl::InternalError(absl::StrCat("bad label pair '", pair, "' in '", line, "'"));
      }
      sample.labels[pair.substr(0, eq)] = Unescape(pair.substr(eq + 1));
    }
  }
  if (!absl::SimpleAtod(fields[2], &sample.value)) {
    return absl::InternalError(absl::StrCat("bad value in '", line, "'"));
  }
  return sample;
}

}  // namespace

absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& path, absl::Duration timeout) {
  httplib::Client client("127.0.0.1", port);
  const auto t = absl::ToChronoMicroseconds(timeout);
  client.set_connection_timeout(t);
  client.set_read_timeout(t);
  client.set_write_timeout(t);
  httplib::Result result = client.Get(path);
  if (!result) {
    return absl::UnavailableError(absl::StrCat("GET 127.0.0.1:", port, path, ": ",
                                               httplib::to_string(result.error())));
  }
  HttpResponse out;
  out.status = result->status;
  out.content_type = result->get_header_value("Content-Type");
  out.body = result->body;
  return out;
}

std::optional<double> ParsedMetrics::Get(const std::string& name,
                                         const MetricLabels& labels) const {
  for (const MetricSample& s : samples_) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

std::vector<MetricSample> ParsedMetrics::All(const std::string& name) const {
  std::vector<MetricSample> out;
  for (const MetricSample& s : samples_) {
    if (s.name == name) out.push_back(s);
  }
  return out;
}

double ParsedMetrics::Sum(const std::string& name) const {
  double total = 0;
  for (const MetricSample& s : samples_) {
    if (s.name == name) total += s.value;
  }
  return total;
}

absl::StatusOr<ParsedMetrics> ParsePrometheusText(const std::string& text) {
  if (::access(kPython, X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        kPython, " not found: run scripts/install-deps.sh (it creates the venv with "
                 "prometheus_client)"));
  }
  const char* base = std::getenv("TMPDIR");
  std::string dir = absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp",
                                 "/kafka-sidecar-metrics-XXXXXX");
  if (::mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  struct RemoveDir {
    std::string dir;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  const std::string in_path = dir + "/metrics.txt";
  const std::string out_path = dir + "/out.txt";
  const std::string err_path = dir + "/err.txt";
  {
    std::ofstream in(in_path, std::ios::binary);
    in << text;
    if (!in.good()) return absl::InternalError(absl::StrCat("cannot write ", in_path));
  }

  // Files, not pipes, for stdout and stderr: no deadlock whatever the size.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  std::vector<std::string> args = {kPython, kParser, in_path};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, kPython, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("posix_spawn ", kPython, ": ", std::strerror(rc)));
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parse_metrics.py failed (status ", wstatus, "): ", ReadFile(err_path)));
  }
  std::vector<MetricSample> samples;
  for (absl::string_view line : absl::StrSplit(ReadFile(out_path), '\n', absl::SkipEmpty())) {
    absl::StatusOr<MetricSample> s = ParseLine(std::string(line));
    if (!s.ok()) return s.status();
    samples.push_back(std::move(*s));
  }
  return ParsedMetrics(std::move(samples));
}

absl::StatusOr<ParsedMetrics> ScrapeMetrics(int port) {
  absl::StatusOr<HttpResponse> r = HttpGet(port, "/metrics");
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("GET /metrics answered ", r->status, ": ", r->body));
  }
  if (r->content_type != "text/plain; version=0.0.4; charset=utf-8") {
    return absl::InvalidArgumentError(
        absl::StrCat("GET /metrics Content-Type '", r->content_type, "'"));
  }
  return ParsePrometheusText(r->body);
}

}  // namespace kafka_sidecar::testing
