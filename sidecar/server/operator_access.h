// Who may call the operator RPCs (PausePartitions, ResumePartitions), as
// server.operator_rpcs says. They stop consumption, so a sidecar listening
// beyond the pod can keep them to an operator listener or to mTLS clients
// with known certificate identities. GetStats (read-only) and Consume are
// not operator RPCs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "sidecar/common/mutex.h"
#include "sidecar/config/config.h"

namespace kafka_sidecar {

struct OperatorAccessPolicy {
  // "any" | "operator_listener" | "tls_identities" (server.operator_rpcs).
  std::string mode = "any";
  std::set<std::string> identities;  // server.operator_identities
  // True for the service behind server.operator_listen, where operator
  // RPCs are always allowed.
  bool operator_listener = false;

  static OperatorAccessPolicy FromConfig(const ServerConfig& server, bool operator_listener);
};

// The identities a TLS client proved with its certificate: every subject
// alternative name, then the common name. Empty for plaintext clients and
// clients without a certificate.
std::vector<std::string> PeerIdentities(const grpc::AuthContext* auth);

// Empty if the call is allowed; otherwise the message of the refusal,
// naming the setting that would allow it.
std::string OperatorCallRefusal(const OperatorAccessPolicy& policy,
                                const std::vector<std::string>& peer_identities);

// A warning for start-up when anyone on the network may stop consumption:
// the main listener is reachable beyond loopback, without mutual TLS, and
// operator RPCs are open on it. Empty otherwise.
std::string OpenOperatorRpcsWarning(const ServerConfig& server);

// Whether a listen address stays on this host: unix:, a 127.0.0.0/8 or
// ::1 address, or localhost.
bool IsLocalListenAddress(const std::string& listen);

// Rate limit for refusal log lines: the first at once, then at most one per
// interval, carrying the number left unlogged meanwhile, so a client retrying
// in a loop cannot flood the log. Thread-safe.
class RefusalLogLimit {
 public:
  explicit RefusalLogLimit(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // Whether to log a refusal at `now`; if so, `*unlogged` is the number of
  // refusals not logged since the last line.
  bool ShouldLog(std::chrono::steady_clock::time_point now, uint64_t* unlogged);

 private:
  const std::chrono::steady_clock::duration interval_;
  Mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> last_ ABSL_GUARDED_BY(mu_);
  uint64_t unlogged_ ABSL_GUARDED_BY(mu_) = 0;
};

// Decides each operator call and logs refusals (RefusalLogLimit).
class OperatorAccess {
 public:
  explicit OperatorAccess(
      OperatorAccessPolicy policy,
      std::chrono::steady_clock::duration log_interval = std::chrono::seconds(10))
      : policy_(std::move(policy)), log_limit_(log_interval) {}

  // OK, or PERMISSION_DENIED.
  grpc::Status Check(const grpc::CallbackServerContext& context, const char* method);

 private:
  const OperatorAccessPolicy policy_;
  RefusalLogLimit log_limit_;
};

}  // namespace kafka_sidecar
