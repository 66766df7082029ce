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

// Why a directory with this mode and owner is no safe home for our socket,
// or empty if it is. Whoever may write to a directory may unlink or rename
// the files in it, so another process could swap our socket for its own and
// receive the handlers' connections. Safe: writable only by its owner, or
// sticky (then others may add files but not unlink or rename ours, as in
// /tmp); and in both cases owned by `euid` or root, since a directory's
// owner may always change it.
std::string UnsafeSocketDirectoryReason(mode_t mode, uid_t owner, uid_t euid);

// Applies UnsafeSocketDirectoryReason to the directory holding `path`: an
// error naming `key` and the directory when it is not safe. A missing
// directory (its parent existing) is created with mode kSocketDirMode, so a
// socket can live in a private subdirectory of a shared volume such as a
// Kubernetes emptyDir, which is world-writable.
inline constexpr mode_t kSocketDirMode = 0750;
absl::Status PrepareSocketDirectory(absl::string_view key, const std::string& path);

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

// Where the socket `id` stands at `path` now.
enum class SocketAtPath { kOurs, kGone, kReplaced };
SocketAtPath FindSocketAtPath(const std::string& path, const SocketFileId& id);

// The name gRPC binds before the socket is published at `path`: gRPC
// unlinks whatever socket is at its address before binding and again at
// shutdown, without asking whose it is, so it never gets the public name.
std::string PrivateSocketPath(const std::string& path);

// Gives the bound socket at `private_path` its public name `path` (a hard
// link, which never replaces a file another process put there meanwhile)
// and drops the private name.
absl::Status PublishUnixSocket(absl::string_view key, const std::string& private_path,
                               const std::string& path);

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
