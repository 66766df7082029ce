// The kafka-sidecar binary as a child process of a test: writes its YAML
// config into a temp dir, picks a free gRPC port, starts it and waits until
// it serves GetStats.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "subprocess.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace kafka_sidecar::testing {

struct SidecarOptions {
  // Path of the kafka-sidecar binary; the e2e target gets it from CMake as
  // KAFKA_SIDECAR_BINARY.
  std::string binary;
  std::string bootstrap;
  std::string group_id;
  std::vector<std::string> topics;
  // "section.key" -> YAML value written as is (so "[a, b]", "\"x\"" and
  // "-5" all work), replacing the test defaults or adding keys, including
  // keys the sidecar should reject.
  std::map<std::string, std::string> overrides;
  // server.grpc_listen as is, e.g. "unix:/tmp/x/sidecar.sock", and then also
  // the target clients use; empty = 127.0.0.1 and a free port.
  std::string grpc_listen;
  // What the readiness probe connects with; null = plaintext. Set it when
  // `overrides` configure server.tls.
  std::shared_ptr<grpc::ChannelCredentials> client_credentials;
};

class SidecarProcess {
 public:
  // Launch() + WaitUntilReady(ready_timeout).
  static absl::StatusOr<std::unique_ptr<SidecarProcess>> Start(
      const SidecarOptions& options,
      absl::Duration ready_timeout = absl::Seconds(30));

  // Spawns the sidecar without waiting for it; for configs that should make
  // it exit at start-up.
  static absl::StatusOr<std::unique_ptr<SidecarProcess>> Launch(
      const SidecarOptions& options);

  // The config the sidecar is started with, for a given gRPC port (unused
  // when options.grpc_listen is set).
  static std::string RenderConfig(const SidecarOptions& options,
                                   int grpc_port);

  // Kills the process if it still runs and removes the temp dir.
  ~SidecarProcess();

  SidecarProcess(const SidecarProcess&) = delete;
  SidecarProcess& operator=(const SidecarProcess&) = delete;

  // Until the gRPC port accepts a connection and GetStats answers OK. Fails
  // early, with the log, if the process exits meanwhile.
  absl::Status WaitUntilReady(absl::Duration timeout);

  // "127.0.0.1:<port>", or options.grpc_listen when set.
  const std::string& grpc_target() const { return grpc_target_; }
  const std::string& config_path() const { return config_path_; }
  pid_t pid() const { return process_->pid(); }
  bool Running() { return process_->Running(); }

  // SIGTERM, then the exit code (128 + signal if a signal ended it).
  absl::StatusOr<int> Terminate(absl::Duration timeout = absl::Seconds(30));
  // SIGKILL, then the exit code.
  absl::StatusOr<int> Kill();
  absl::StatusOr<int> Wait(absl::Duration timeout) {
    return process_->Wait(timeout);
  }

  // Everything the sidecar wrote to stdout and stderr so far.
  std::string log() const { return ReadFile(process_->log_path()); }

 private:
  SidecarProcess(std::string dir, std::string config_path,
                 std::string grpc_target, std::unique_ptr<Subprocess> process)
      : dir_(std::move(dir)),
        config_path_(std::move(config_path)),
        grpc_target_(std::move(grpc_target)),
        process_(std::move(process)) {}

  std::string dir_;
  std::string config_path_;
  std::string grpc_target_;
  std::shared_ptr<grpc::ChannelCredentials> client_credentials_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace kafka_sidecar::testing
