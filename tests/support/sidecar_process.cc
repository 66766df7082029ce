#include "sidecar_process.h"

#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "grpcpp/grpcpp.h"
#include "kafka_sidecar/v1/sidecar.grpc.pb.h"
#include "ports.h"

namespace kafka_sidecar::testing {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

absl::StatusOr<std::string> MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp",
                                  "/kafka-sidecar-e2e-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp(", tmpl, "): ", std::strerror(errno)));
  }
  return tmpl;
}

// The last lines of a log, enough to see why a start-up failed without
// flooding the test output.
std::string Tail(const std::string& text, size_t max_chars = 8000) {
  if (text.size() <= max_chars) return text;
  return absl::StrCat("...", text.substr(text.size() - max_chars));
}

}  // namespace

std::string SidecarProcess::RenderConfig(const SidecarOptions& options,
                                         int grpc_port) {
  std::vector<std::string> quoted_topics;
  for (const auto& t : options.topics) quoted_topics.push_back(Quote(t));

  // Small batches and a short commit interval keep the tests fast; the
  // HTTP endpoint is off because nothing here scrapes it and it would need a
  // second free port.
  std::map<std::string, std::map<std::string, std::string>> sections = {
      {"kafka",
       {{"bootstrap_servers", Quote(options.bootstrap)},
        {"group_id", Quote(options.group_id)},
        {"topics", absl::StrCat("[", absl::StrJoin(quoted_topics, ", "), "]")},
        {"auto_offset_reset", "earliest"}}},
      {"processing",
       {{"max_workers", "2"},
        {"batch_size", "100"},
        {"batch_timeout_ms", "5"},
        {"max_in_flight_messages", "1000"},
        {"commit_interval_ms", "200"},
        {"drain_timeout_ms", "5000"}}},
      {"server",
       {{"grpc_listen", Quote(options.grpc_listen.empty()
                                  ? absl::StrCat("127.0.0.1:", grpc_port)
                                  : options.grpc_listen)},
        {"http_listen", "\"\""}}},
      {"observability", {{"log_level", "info"}}},
  };
  for (const auto& [path, value] : options.overrides) {
    std::pair<std::string, std::string> parts =
        absl::StrSplit(path, absl::MaxSplits('.', 1));
    sections[parts.first][parts.second] = value;
  }

  std::string yaml;
  // A fixed section order makes the file easy to read in a failure report.
  const std::vector<std::string> order = {"kafka", "processing", "server",
                                          "observability"};
  auto emit = [&](const std::string& name,
                  const std::map<std::string, std::string>& keys) {
    absl::StrAppend(&yaml, name, ":\n");
    for (const auto& [key, value] : keys) {
      absl::StrAppend(&yaml, "  ", key, ": ", value, "\n");
    }
  };
  for (const auto& name : order) emit(name, sections[name]);
  for (const auto& [name, keys] : sections) {
    if (std::find(order.begin(), order.end(), name) == order.end()) {
      emit(name, keys);
    }
  }
  return yaml;
}

absl::StatusOr<std::unique_ptr<SidecarProcess>> SidecarProcess::Launch(
    const SidecarOptions& options) {
  absl::StatusOr<std::string> dir = MakeTempDir();
  if (!dir.ok()) return dir.status();
  const int port = options.grpc_listen.empty() ? PickFreePort() : 0;
  if (options.grpc_listen.empty() && port <= 0) {
    return absl::InternalError("no free port on 127.0.0.1");
  }

  const std::string config_path = absl::StrCat(*dir, "/sidecar.yaml");
  {
    std::ofstream out(config_path);
    out << RenderConfig(options, port);
    if (!out.good()) {
      std::error_code ec;
      std::filesystem::remove_all(*dir, ec);
      return absl::InternalError(absl::StrCat("cannot write ", config_path));
    }
  }
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Spawn(
      {options.binary, "--config", config_path},
      absl::StrCat(*dir, "/sidecar.log"));
  if (!process.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(*dir, ec);
    return process.status();
  }
  std::unique_ptr<SidecarProcess> sidecar(new SidecarProcess(
      *dir, config_path,
      options.grpc_listen.empty() ? absl::StrCat("127.0.0.1:", port)
                                  : options.grpc_listen,
      std::move(*process)));
  sidecar->client_credentials_ = options.client_credentials;
  return sidecar;
}

absl::StatusOr<std::unique_ptr<SidecarProcess>> SidecarProcess::Start(
    const SidecarOptions& options, absl::Duration ready_timeout) {
  absl::StatusOr<std::unique_ptr<SidecarProcess>> sidecar = Launch(options);
  if (!sidecar.ok()) return sidecar.status();
  absl::Status ready = (*sidecar)->WaitUntilReady(ready_timeout);
  if (!ready.ok()) return ready;
  return sidecar;
}

absl::Status SidecarProcess::WaitUntilReady(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  auto channel = grpc::CreateChannel(
      grpc_target_, client_credentials_ != nullptr
                        ? client_credentials_
                        : grpc::InsecureChannelCredentials());
  auto stub = kafka_sidecar::v1::ConsumerSidecar::NewStub(channel);
  grpc::Status last;
  while (true) {
    if (!process_->Running()) {
      absl::StatusOr<int> code = process_->Wait(absl::ZeroDuration());
      return absl::FailedPreconditionError(absl::StrCat(
          "kafka-sidecar exited during start-up with code ",
          code.ok() ? absl::StrCat(*code) : code.status().ToString(),
          "; log:\n", Tail(log())));
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) break;
    // Short slices so an early exit of the process is noticed quickly.
    const absl::Time slice = std::min(deadline, now + absl::Milliseconds(500));
    if (!channel->WaitForConnected(absl::ToChronoTime(slice))) continue;

    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(
        std::max(slice, absl::Now() + absl::Milliseconds(500))));
    kafka_sidecar::v1::GetStatsRequest request;
    kafka_sidecar::v1::GetStatsResponse response;
    last = stub->GetStats(&ctx, request, &response);
    if (last.ok()) return absl::OkStatus();
    // Connected but not answering yet (server still wiring up): back off
    // briefly rather than hammer it.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "kafka-sidecar not ready on ", grpc_target_, " after ",
      absl::FormatDuration(timeout), " (last GetStats: ",
      last.error_code(), " ", last.error_message(), "); log:\n", Tail(log())));
}

absl::StatusOr<int> SidecarProcess::Terminate(absl::Duration timeout) {
  if (process_->Running()) {
    absl::Status s = process_->Signal(SIGTERM);
    if (!s.ok()) return s;
  }
  return process_->Wait(timeout);
}

absl::StatusOr<int> SidecarProcess::Kill() {
  if (process_->Running()) {
    absl::Status s = process_->Signal(SIGKILL);
    if (!s.ok()) return s;
  }
  return process_->Wait(absl::Seconds(10));
}

SidecarProcess::~SidecarProcess() {
  process_.reset();  // kills and reaps before the log file goes away
  if (std::getenv("SIDECAR_TEST_KEEP_DIRS") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace kafka_sidecar::testing
