#include "sidecar/server/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {
namespace {

absl::Status Failed(absl::string_view key, absl::string_view problem) {
  return absl::FailedPreconditionError(absl::StrCat(key, ": ", problem));
}

std::string FileKind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  return "not a socket";
}

// Whether a process accepts connections on the socket at `path`: the one
// reliable test, since a socket file outlives the process that bound it.
absl::StatusOr<bool> SomeoneListens(absl::string_view key, const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return Failed(key, absl::StrCat(path, " is too long for a unix socket path"));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Failed(key, absl::StrCat("cannot probe ", path, ": socket: ", std::strerror(errno)));
  }
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  ::close(fd);
  if (rc == 0) return true;
  // A full accept backlog still means a live listener.
  if (err == EAGAIN || err == EINPROGRESS) return true;
  if (err == ECONNREFUSED) return false;
  return Failed(key, absl::StrCat("cannot probe ", path, ": connect: ", std::strerror(err)));
}

}  // namespace

std::string UnixSocketPath(absl::string_view listen) {
  absl::string_view path = listen;
  if (!absl::ConsumePrefix(&path, "unix:")) return "";
  return std::string(path);
}

std::string UnsafeSocketDirectoryReason(mode_t mode, uid_t owner, uid_t euid) {
  if (owner != euid && owner != 0) {
    return absl::StrCat("is owned by uid ", owner, ", who could replace the socket");
  }
  if ((mode & (S_IWGRP | S_IWOTH)) != 0 && (mode & S_ISVTX) == 0) {
    return absl::StrFormat(
        "is writable by %s (mode %04o) without the sticky bit, so another user could "
        "replace the socket; use a directory only the sidecar's user may write to "
        "(e.g. mode 0750), or a sticky one (chmod +t)",
        (mode & S_IWOTH) != 0 ? "others" : "its group", mode & 07777);
  }
  return "";
}

absl::Status PrepareSocketDirectory(absl::string_view key, const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0              ? "/"
                                                    : path.substr(0, slash);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 && errno == ENOENT) {
    // Someone creating it first is fine: the checks below judge theirs.
    if (::mkdir(dir.c_str(), kSocketDirMode) == 0) {
      spdlog::info("{}: created socket directory {}", std::string(key), dir);
    }
  }
  if (::stat(dir.c_str(), &st) != 0) {
    return Failed(key, absl::StrCat("socket directory ", dir, ": ", std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) return Failed(key, absl::StrCat(dir, " is not a directory"));
  const std::string why = UnsafeSocketDirectoryReason(st.st_mode, st.st_uid, ::geteuid());
  if (why.empty()) return absl::OkStatus();
  return Failed(key, absl::StrCat("socket directory ", dir, " ", why));
}

absl::Status ClearStaleUnixSocket(absl::string_view key, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return Failed(key, absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Failed(key, absl::StrCat(path, " exists and is ", FileKind(st.st_mode),
                                    "; remove it or choose another path"));
  }
  absl::StatusOr<bool> live = SomeoneListens(key, path);
  if (!live.ok()) return live.status();
  if (*live) return Failed(key, absl::StrCat(path, " is in use by another process"));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Failed(key, absl::StrCat("cannot remove stale socket ", path, ": ",
                                    std::strerror(errno)));
  }
  spdlog::info("{}: removed stale socket {} (nothing accepted on it)", std::string(key), path);
  return absl::OkStatus();
}

absl::StatusOr<SocketFileId> RestrictUnixSocket(absl::string_view key, const std::string& path,
                                                mode_t mode) {
  if (::chmod(path.c_str(), mode) != 0) {
    return Failed(key, absl::StrCat("cannot chmod ", path, ": ", std::strerror(errno)));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return Failed(key, absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
  }
  return SocketFileId{st.st_dev, st.st_ino};
}

void RemoveUnixSocket(const std::string& path, const SocketFileId& id) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // gRPC may have removed it already
  if (!S_ISSOCK(st.st_mode) || st.st_dev != id.dev || st.st_ino != id.ino) return;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("cannot remove socket {}: {}", path, std::strerror(errno));
  }
}

SocketAtPath FindSocketAtPath(const std::string& path, const SocketFileId& id) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return SocketAtPath::kGone;
  if (S_ISSOCK(st.st_mode) && st.st_dev == id.dev && st.st_ino == id.ino) {
    return SocketAtPath::kOurs;
  }
  return SocketAtPath::kReplaced;
}

std::string PrivateSocketPath(const std::string& path) {
  return absl::StrCat(path, "~", ::getpid());
}

absl::Status PublishUnixSocket(absl::string_view key, const std::string& private_path,
                               const std::string& path) {
  const int rc = ::link(private_path.c_str(), path.c_str());
  const int err = errno;
  ::unlink(private_path.c_str());
  if (rc == 0) return absl::OkStatus();
  if (err == EEXIST) {
    return Failed(key, absl::StrCat(path, " appeared while the sidecar was starting; "
                                          "another process is using it"));
  }
  return Failed(key, absl::StrCat("cannot create ", path, ": ", std::strerror(err)));
}

// Reading the umask means setting one: 0777 is the one value that cannot
// loosen anything for another thread in between.
ScopedUmask::ScopedUmask(mode_t mask) : previous_(::umask(0777)) { ::umask(previous_ | mask); }

ScopedUmask::~ScopedUmask() { ::umask(previous_); }

}  // namespace kafka_sidecar
