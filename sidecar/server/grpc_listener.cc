#include "sidecar/server/grpc_listener.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "kafka_sidecar/v1/sidecar.grpc.pb.h"
#include "sidecar/server/server_credentials.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {
namespace {

// gRPC says only "No address added" when a bind fails. Binding the same
// TCP address again (with the same SO_REUSEADDR gRPC uses) recovers the
// reason, e.g. "Address already in use"; empty when that bind succeeds or
// the address is not host:port.
std::string WhyTcpBindFails(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return "";
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = listen.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found) != 0) {
    return "";
  }
  std::string why;
  for (addrinfo* a = found; a != nullptr && why.empty(); a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) why = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  return why;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcListener>> GrpcListener::Start(
    const ServerConfig& config, const std::vector<grpc::Service*>& services) {
  return Start("server.grpc_listen", config.grpc_listen, config.tls, services);
}

absl::StatusOr<std::unique_ptr<GrpcListener>> GrpcListener::Start(
    const char* key, const std::string& listen, const TlsConfig& tls,
    const std::vector<grpc::Service*>& services) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(tls);
  if (!credentials.ok()) return credentials.status();

  const std::string socket_path = UnixSocketPath(listen);
  // gRPC binds the private name; the public one is ours alone (see
  // PrivateSocketPath).
  std::string bind_address = listen;
  if (!socket_path.empty()) {
    if (absl::Status s = PrepareSocketDirectory(key, socket_path); !s.ok()) return s;
    if (absl::Status s = ClearStaleUnixSocket(key, socket_path); !s.ok()) return s;
    bind_address = absl::StrCat("unix:", PrivateSocketPath(socket_path));
  }

  grpc::EnableDefaultHealthCheckService(true);
  // gRPC's health service carries no protobuf descriptors; referencing ours
  // links them in (a static library's unreferenced objects are dropped), so
  // reflection can describe grpc.health.v1 to grpcurl.
  (void)grpc::health::v1::HealthCheckResponse::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(bind_address, *credentials, &port);
  // gRPC sets SO_REUSEPORT by default: a second sidecar on the same port
  // (two in one pod, or a restart racing the old process) would bind too
  // and take a share of the handlers' connections. A port in use is an
  // error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (grpc::Service* service : services) builder.RegisterService(service);
  // Batches are bounded by the handler's max_in_flight_bytes, not by gRPC's
  // 4 MB default; settlements stay small, 64 MB only guards against junk.
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(-1);

  std::unique_ptr<grpc::Server> server;
  {
    // gRPC creates the socket file with the process umask; masking group
    // execute and all "other" bits during the bind means it is never more
    // open than kSocketMode, not even until the chmod below.
    std::optional<ScopedUmask> umask;
    if (!socket_path.empty()) umask.emplace(0117);
    server = builder.BuildAndStart();
  }
  if (server == nullptr) {
    const std::string why = socket_path.empty() ? WhyTcpBindFails(listen) : "";
    return absl::UnavailableError(absl::StrCat(
        key, ": cannot listen on ", listen, why.empty() ? "" : ": ", why,
        tls.cert_file.empty()
            ? ""
            : " (check that server.tls.cert_file and server.tls.key_file are a "
              "matching certificate and key)",
        "; see the gRPC log above"));
  }

  std::string address = listen;
  if (socket_path.empty()) {
    address = absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port);
  }
  std::unique_ptr<GrpcListener> listener(new GrpcListener(std::move(server), address));
  if (!socket_path.empty()) {
    const std::string private_path = PrivateSocketPath(socket_path);
    absl::StatusOr<SocketFileId> id = RestrictUnixSocket(key, private_path, kSocketMode);
    if (!id.ok()) {
      ::unlink(private_path.c_str());
      return id.status();  // the destructor shuts the server down
    }
    if (absl::Status s = PublishUnixSocket(key, private_path, socket_path); !s.ok()) return s;
    listener->socket_path_ = socket_path;
    listener->socket_id_ = *id;
  }
  // The health monitor decides readiness once it runs (SetServing); until it
  // says otherwise a started server reports SERVING, as before it existed.
  listener->SetServing(true);
  spdlog::info("{}: gRPC listening on {} ({})", key, listener->address_,
               tls.cert_file.empty()             ? "plaintext"
               : tls.client_ca_file.empty()      ? "TLS"
                                                 : "mutual TLS");
  return listener;
}

GrpcListener::~GrpcListener() { Shutdown(std::chrono::system_clock::now()); }

void GrpcListener::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", serving);
  health->SetServingStatus(v1::ConsumerSidecar::service_full_name(), serving);
}

void GrpcListener::Shutdown(std::chrono::system_clock::time_point deadline) {
  if (shut_down_) return;
  shut_down_ = true;
  server_->Shutdown(deadline);
  server_->Wait();
  if (!socket_path_.empty()) RemoveUnixSocket(socket_path_, socket_id_);
}

}  // namespace kafka_sidecar
