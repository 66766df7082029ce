// Notices when the Unix socket a listener published is no longer ours: a
// process that can write to its directory unlinked it, or put its own
// socket in its place, and handlers dialling the path would reach that
// process instead. Directory checks at start-up make this unlikely; this
// watch makes it visible if it happens anyway (readiness fails, so probes
// and the operator see it).
#pragma once

#include <string>

#include "sidecar/health/health_status.h"
#include "sidecar/server/unix_socket.h"

namespace kafka_sidecar {

class UnixSocketWatch {
 public:
  // `check` is the health check's name ("grpc-socket"), `key` the config
  // key of the listen address.
  UnixSocketWatch(std::string check, std::string key, std::string path, SocketFileId id)
      : check_(std::move(check)), key_(std::move(key)), path_(std::move(path)), id_(id) {}

  // Compares the path with our socket; logs the first failure as an error.
  // The health monitor's thread only.
  HealthCheck Check();

 private:
  const std::string check_;
  const std::string key_;
  const std::string path_;
  const SocketFileId id_;
  bool reported_ = false;
};

}  // namespace kafka_sidecar
