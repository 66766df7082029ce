// The file-system side of a Unix-socket listener: gRPC binds the socket, but
// what was at the path before, who may connect and what is left behind after
// shutdown are the sidecar's business.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kafka_sidecar {

// The socket path of a "unix:/path" listen address; empty for host:port.
std::string UnixSocketPath(absl::string_view listen);

// Makes `path` free for a new listener. Nothing there: OK. A socket nobody
// accepts on (left by a killed process): removed. A socket a live process
// accepts on, or anything that is not a socket: an error naming `key`; such
// a file is never touched.
absl::Status ClearStaleUnixSocket(absl::string_view key, const std::string& path);

// Identifies the socket file this process created, so shutdown removes that
// file and not one a successor has bound at the same path since.
struct SocketFileId {
  dev_t dev = 0;
  ino_t ino = 0;
};

// Sets the socket's mode exactly (chmod, not subject to the umask) and
// returns its identity.
absl::StatusOr<SocketFileId> RestrictUnixSocket(absl::string_view key, const std::string& path,
                                                mode_t mode);

// Unlinks `path` if it is still the socket `id`; anything else stays.
void RemoveUnixSocket(const std::string& path, const SocketFileId& id);

// Adds `mask` to the process umask for its lifetime. The umask is process
// wide, so files other threads create meanwhile get it too: it only ever
// takes permissions away, and callers keep the scope to the bind.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask);
  ~ScopedUmask();
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t previous_;
};

}  // namespace kafka_sidecar
