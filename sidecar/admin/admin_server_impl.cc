// AdminServer on libmicrohttpd; nothing outside this file sees it. MHD runs
// in its external epoll mode on one thread of ours, which also cuts the
// connections ConnectionTable finds overdue: MHD closes sockets on that same
// thread, so a socket number can never be closed and reused by someone else
// between the table naming it and the cut.
#include <microhttpd.h>

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sidecar/admin/admin_routes.h"
#include "sidecar/admin/admin_server.h"
#include "sidecar/admin/connection_table.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {
namespace {

using Clock = ConnectionTable::Clock;

struct HostPort {
  std::string host;
  int port = 0;
};

absl::StatusOr<HostPort> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("server.http_listen: must be host:port, got \"", listen, "\""));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return HostPort{std::move(host), port};
}

absl::Status CannotListen(const std::string& listen, const char* why) {
  return absl::UnavailableError(absl::StrCat("server.http_listen: cannot listen on ", listen,
                                             why[0] != '\0' ? ": " : "", why));
}

// The first address `host` resolves to that binds. SO_REUSEADDR only, never
// SO_REUSEPORT, which would let a second sidecar bind the same port and
// silently take half the scrapes; SO_REUSEADDR allows a restart while old
// connections sit in TIME_WAIT.
absl::StatusOr<int> ListenSocket(const HostPort& hp, const std::string& listen) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addrs = nullptr;
  const std::string port = std::to_string(hp.port);
  if (const int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &addrs); rc != 0) {
    return CannotListen(listen, gai_strerror(rc));
  }
  int err = 0;
  for (const addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    const int fd =
        socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      freeaddrinfo(addrs);
      return fd;
    }
    err = errno;
    close(fd);
  }
  freeaddrinfo(addrs);
  return CannotListen(listen, err != 0 ? std::strerror(err) : "");
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return -1;
}

// The client's address without its port: what connections are counted by.
std::string PeerKey(const sockaddr* addr) {
  if (addr == nullptr) return "";
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    return std::string(reinterpret_cast<const char*>(&in->sin_addr), sizeof(in->sin_addr));
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    return std::string(reinterpret_cast<const char*>(&in6->sin6_addr), sizeof(in6->sin6_addr));
  }
  return "";
}

// MHD's messages (a refused connection, a request too large) are the
// clients' doing and could come by the thousand: debug level only.
void MhdLog(void*, const char* format, va_list args) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  char buf[512];
  std::vsnprintf(buf, sizeof(buf), format, args);
  std::string line(buf);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  spdlog::debug("admin HTTP: {}", line);
}

// Used as MHD's per-request pointer once a request has been answered.
char kAnswered;

class AdminServerImpl final : public AdminServer {
 public:
  AdminServerImpl(const StatsSource& stats, const HealthSource& health,
                  const MetricsSource& metrics, const AdminServerOptions& options)
      : routes_(stats, health, metrics),
        options_(options),
        table_(ConnectionTable::Limits{absl::ToChronoNanoseconds(options.request_deadline),
                                       absl::ToChronoNanoseconds(options.connection_deadline),
                                       options.max_connections}) {}

  ~AdminServerImpl() override {
    Stop();
    if (wake_fd_ >= 0) close(wake_fd_);
  }

  absl::Status Bind(const std::string& listen) {
    absl::StatusOr<HostPort> hp = ParseListen(listen);
    if (!hp.ok()) return hp.status();
    if (options_.max_connections < 2 || options_.connection_memory_bytes < 1024) {
      return absl::InvalidArgumentError("admin server: max_connections < 2 or memory < 1 KiB");
    }
    absl::StatusOr<int> fd = ListenSocket(*hp, listen);
    if (!fd.ok()) return fd.status();
    port_ = BoundPort(*fd);
    address_ = hp->host.find(':') != std::string::npos ? absl::StrCat("[", hp->host, "]:", port_)
                                                       : absl::StrCat(hp->host, ":", port_);

    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
      const int err = errno;
      close(*fd);
      return absl::InternalError(absl::StrCat("admin HTTP: eventfd: ", std::strerror(err)));
    }
    const unsigned int idle_seconds = static_cast<unsigned int>(
        std::max<int64_t>(1, absl::ToInt64Seconds(options_.idle_timeout)));
    daemon_ = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, nullptr, nullptr, &AdminServerImpl::OnRequest, this,
        MHD_OPTION_LISTEN_SOCKET, *fd,
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned int>(options_.max_connections),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, options_.connection_memory_bytes,
        MHD_OPTION_CONNECTION_TIMEOUT, idle_seconds,
        MHD_OPTION_NOTIFY_CONNECTION, &AdminServerImpl::OnConnection, this,
        MHD_OPTION_EXTERNAL_LOGGER, &MhdLog, nullptr,
        MHD_OPTION_END);
    if (daemon_ == nullptr) {
      // MHD leaves a listen socket it was given open when it fails.
      close(*fd);
      return CannotListen(listen, "libmicrohttpd did not start");
    }
    const MHD_DaemonInfo* epoll = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD);
    if (epoll == nullptr) {
      MHD_stop_daemon(daemon_);
      daemon_ = nullptr;
      return absl::InternalError("admin HTTP: libmicrohttpd has no epoll descriptor");
    }
    epoll_fd_ = epoll->epoll_fd;
    thread_ = std::thread([this] { Loop(); });
    return absl::OkStatus();
  }

  int port() const override { return port_; }
  const std::string& address() const override { return address_; }

  void Stop() override {
    if (thread_.joinable()) {
      const uint64_t one = 1;
      while (write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
      }
      thread_.join();
    }
    // On this thread now: MHD closes the listener and every connection, and
    // reports each closed to OnConnection.
    if (daemon_ != nullptr) {
      MHD_stop_daemon(daemon_);
      daemon_ = nullptr;
    }
  }

 private:
  void Loop() {
    while (true) {
      const Clock::time_point now = Clock::now();
      for (int fd : table_.TakeOverdue(now)) Cut(fd);

      // Until MHD's next idle timeout or the table's next deadline.
      int64_t timeout_ms = -1;
      MHD_UNSIGNED_LONG_LONG mhd_ms = 0;
      if (MHD_get_timeout(daemon_, &mhd_ms) == MHD_YES) {
        timeout_ms = static_cast<int64_t>(std::min<MHD_UNSIGNED_LONG_LONG>(mhd_ms, INT_MAX));
      }
      if (const auto next = table_.NextDeadline()) {
        const auto until = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
        const int64_t ms = std::max<int64_t>(0, until);
        timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
      }
      // At its connection limit MHD takes the listener out of its epoll set
      // and puts it back only at the start of a run, so after a close the
      // next run must come at once or a waiting client (a probe) would wait
      // for an unrelated wake-up.
      if (closed_in_run_) timeout_ms = 0;
      closed_in_run_ = false;
      pollfd fds[2] = {{epoll_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      const int n = poll(fds, 2, static_cast<int>(std::min<int64_t>(timeout_ms, INT_MAX)));
      if (n < 0 && errno != EINTR) {
        spdlog::error("admin HTTP: poll: {}", std::strerror(errno));
        return;
      }
      if (n > 0 && fds[1].revents != 0) return;
      MHD_run(daemon_);
    }
  }

  // MHD sees the end of the stream on its next turn and closes the
  // connection; the client sees it closed.
  static void Cut(int fd) { shutdown(fd, SHUT_RDWR); }

  static void OnConnection(void* cls, MHD_Connection* connection, void**,
                           MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<AdminServerImpl*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
      self->table_.Remove(connection);
      self->closed_in_run_ = true;
      return;
    }
    const MHD_ConnectionInfo* fd =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    const MHD_ConnectionInfo* addr =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (fd == nullptr) return;
    const std::optional<int> victim = self->table_.Add(
        connection, fd->connect_fd, PeerKey(addr != nullptr ? addr->client_addr : nullptr),
        Clock::now());
    if (victim) Cut(*victim);
  }

  static MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url,
                              const char* method, const char*, const char*,
                              size_t* upload_data_size, void** request) {
    auto* self = static_cast<AdminServerImpl*>(cls);
    if (*request == &kAnswered) {
      // A body after an early answer: MHD discards it, as no route reads one.
      *upload_data_size = 0;
      return MHD_YES;
    }
    *request = &kAnswered;
    self->table_.RequestComplete(connection);

    AdminResponse answer = self->routes_.Handle(method, url);
    MHD_Response* response = MHD_create_response_from_buffer(
        answer.body.size(), answer.body.data(), MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, answer.content_type.c_str());
    if (!answer.allow.empty()) {
      MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, answer.allow.c_str());
    }
    // One request per connection: a kept-alive connection could start a
    // second request after its deadline was met.
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    const MHD_Result queued =
        MHD_queue_response(connection, static_cast<unsigned int>(answer.status), response);
    MHD_destroy_response(response);
    return queued;
  }

  AdminRoutes routes_;
  const AdminServerOptions options_;
  // table_ and closed_in_run_: used only on the loop thread (MHD calls back
  // on the thread running it), and by Stop() after that thread was joined:
  // no lock.
  ConnectionTable table_;
  bool closed_in_run_ = false;
  MHD_Daemon* daemon_ = nullptr;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  int port_ = 0;
  std::string address_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(const std::string& listen,
                                                                const StatsSource& stats,
                                                                const HealthSource& health,
                                                                const MetricsSource& metrics,
                                                                const AdminServerOptions& options) {
  auto server = std::make_unique<AdminServerImpl>(stats, health, metrics, options);
  if (absl::Status s = server->Bind(listen); !s.ok()) return s;
  return std::unique_ptr<AdminServer>(std::move(server));
}

}  // namespace kafka_sidecar
