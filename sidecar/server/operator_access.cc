#include "sidecar/server/operator_access.h"

#include <grpc/grpc_security_constants.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sidecar/common/quote.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {

OperatorAccessPolicy OperatorAccessPolicy::FromConfig(const ServerConfig& server,
                                                      bool operator_listener) {
  OperatorAccessPolicy policy;
  policy.mode = server.operator_rpcs;
  policy.identities.insert(server.operator_identities.begin(), server.operator_identities.end());
  policy.operator_listener = operator_listener;
  return policy;
}

std::vector<std::string> PeerIdentities(const grpc::AuthContext* auth) {
  std::vector<std::string> out;
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return out;
  for (const char* property : {GRPC_X509_SAN_PROPERTY_NAME, GRPC_X509_CN_PROPERTY_NAME}) {
    for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
      out.emplace_back(value.data(), value.size());
    }
  }
  return out;
}

std::string OperatorCallRefusal(const OperatorAccessPolicy& policy,
                                const std::vector<std::string>& peer_identities) {
  if (policy.operator_listener || policy.mode == "any") return "";
  if (policy.mode == "tls_identities") {
    for (const std::string& identity : peer_identities) {
      if (policy.identities.count(identity) != 0) return "";
    }
    return "operator RPCs need a client certificate whose identity is in "
           "server.operator_identities";
  }
  // "operator_listener", and any value validation would have refused.
  return "operator RPCs are served on server.operator_listen only "
         "(server.operator_rpcs: operator_listener)";
}

bool IsLocalListenAddress(const std::string& listen) {
  if (absl::StartsWith(listen, "unix:")) return true;
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "localhost" || host == "[::1]" || absl::StartsWith(host, "127.");
}

std::string OpenOperatorRpcsWarning(const ServerConfig& server) {
  if (server.operator_rpcs != "any" || IsLocalListenAddress(server.grpc_listen) ||
      !server.tls.client_ca_file.empty()) {
    return "";
  }
  return absl::StrCat(
      "server.grpc_listen ", server.grpc_listen,
      " is reachable beyond this host without mutual TLS, and any client reaching it may "
      "pause and resume partitions (server.operator_rpcs: any); consider "
      "server.operator_rpcs: operator_listener or tls_identities");
}

bool RefusalLogLimit::ShouldLog(std::chrono::steady_clock::time_point now, uint64_t* unlogged) {
  MutexLock l(&mu_);
  if (last_.has_value() && now - *last_ < interval_) {
    ++unlogged_;
    return false;
  }
  *unlogged = unlogged_;
  unlogged_ = 0;
  last_ = now;
  return true;
}

grpc::Status OperatorAccess::Check(const grpc::CallbackServerContext& context,
                                   const char* method) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  const std::vector<std::string> identities = PeerIdentities(auth.get());
  const std::string refusal = OperatorCallRefusal(policy_, identities);
  if (refusal.empty()) return grpc::Status::OK;
  uint64_t suppressed = 0;
  if (log_limit_.ShouldLog(std::chrono::steady_clock::now(), &suppressed)) {
    spdlog::warn("refused {} from {} (identities: {}): {}{}", method,
                 QuoteForLog(context.peer()),
                 identities.empty() ? "none" : QuoteForLog(absl::StrJoin(identities, ", ")),
                 refusal,
                 suppressed == 0 ? ""
                                 : absl::StrCat("; ", suppressed, " more refused since the last "
                                                "such line"));
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, refusal);
}

}  // namespace kafka_sidecar
