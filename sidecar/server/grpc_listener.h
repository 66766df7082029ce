// The gRPC server as configured by the `server` section: where it listens
// (host:port or a Unix socket), with which credentials (plaintext, TLS,
// mutual TLS), plus the grpc.health.v1 service and server reflection.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "sidecar/config/config.h"
#include "sidecar/server/unix_socket.h"

namespace kafka_sidecar {

class GrpcListener {
 public:
  // Who may connect to a Unix socket: the sidecar's user and group, so a
  // handler container sharing the socket's volume and group can, nobody else.
  static constexpr mode_t kSocketMode = 0660;

  // Builds and starts the server with `services` (not owned; they must
  // outlive the listener). Errors name the config key: server.grpc_listen
  // for the address or the socket path, server.tls.* for the credentials.
  static absl::StatusOr<std::unique_ptr<GrpcListener>> Start(
      const ServerConfig& config, const std::vector<grpc::Service*>& services);

  // The same on `listen`, with errors naming `key` (server.operator_listen
  // for the operator listener, which shares server.tls).
  static absl::StatusOr<std::unique_ptr<GrpcListener>> Start(
      const char* key, const std::string& listen, const TlsConfig& tls,
      const std::vector<grpc::Service*>& services);

  // Shuts down at once if Shutdown() was not called.
  ~GrpcListener();

  GrpcListener(const GrpcListener&) = delete;
  GrpcListener& operator=(const GrpcListener&) = delete;

  // The address clients use: host:port with the real port when 0 was asked,
  // or unix:/path.
  const std::string& address() const { return address_; }

  // The Unix socket this listener created (empty path for TCP), for
  // UnixSocketWatch.
  const std::string& socket_path() const { return socket_path_; }
  const SocketFileId& socket_id() const { return socket_id_; }

  // What grpc.health.v1 reports, for the whole server ("") and for
  // kafka_sidecar.v1.ConsumerSidecar. Thread-safe; no effect after Shutdown().
  void SetServing(bool serving);

  // Stops accepting, cancels calls still open at `deadline`, waits for them
  // and removes the socket file. Safe to call more than once.
  void Shutdown(std::chrono::system_clock::time_point deadline);

 private:
  GrpcListener(std::unique_ptr<grpc::Server> server, std::string address)
      : server_(std::move(server)), address_(std::move(address)) {}

  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::string socket_path_;  // empty for TCP
  SocketFileId socket_id_;
  bool shut_down_ = false;
};

}  // namespace kafka_sidecar
