#include "tests/support/bound_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kafka_sidecar::testing {

absl::StatusOr<std::unique_ptr<BoundSocket>> BoundSocket::Bind(const std::string& path,
                                                               bool listen) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  auto socket = std::unique_ptr<BoundSocket>(new BoundSocket(fd));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::InternalError(absl::StrCat("bind ", path, ": ", std::strerror(errno)));
  }
  if (listen && ::listen(fd, 8) != 0) {
    return absl::InternalError(absl::StrCat("listen ", path, ": ", std::strerror(errno)));
  }
  return socket;
}

BoundSocket::~BoundSocket() { ::close(fd_); }

}  // namespace kafka_sidecar::testing
