#include "sidecar/server/socket_watch.h"

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {

HealthCheck UnixSocketWatch::Check() {
  const SocketAtPath at = FindSocketAtPath(path_, id_);
  if (at == SocketAtPath::kOurs) {
    if (reported_) spdlog::info("{}: {} is our socket again", key_, path_);
    reported_ = false;
    return HealthCheck{check_, true, path_};
  }
  const std::string detail =
      at == SocketAtPath::kGone
          ? absl::StrCat(path_, " was removed: handlers cannot connect; restart the sidecar")
          : absl::StrCat(path_,
                         " was replaced by a file this sidecar did not create: handlers "
                         "dialling it reach another process; check who can write to its "
                         "directory, then restart the sidecar");
  if (!reported_) spdlog::error("{}: {}", key_, detail);
  reported_ = true;
  return HealthCheck{check_, false, detail};
}

}  // namespace kafka_sidecar
