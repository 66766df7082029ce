// Raw-socket HTTP clients for the admin endpoint's limit tests, where a
// well-behaved client library would not do: a client that trickles header
// lines, one that sends headers without end, one that connects and says
// nothing, and a GET timed against a deadline. Loopback only; every wait is
// bounded. Header-only, so the unit tests can use it without the broker
// support library.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kafka_sidecar::testing {

// An owned socket.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Socket() { Close(); }

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// A TCP connection to `ip`:`port` from `source_ip` (any loopback address
// works as a source on Linux, so tests can play several clients), or an
// invalid Socket.
inline Socket ConnectTo(int port, const char* ip = "127.0.0.1",
                        const char* source_ip = nullptr) {
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return s;
  if (source_ip != nullptr) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, source_ip, &src.sin_addr);
    if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) return Socket();
  }
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip, &dst.sin_addr);
  if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0) return Socket();
  return s;
}

inline bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads whatever the server sends until it closes the connection (read
// returns 0, or the connection is reset). True if that happened within
// `timeout`; what was read goes to `*received` if given.
inline bool AwaitClosedByPeer(int fd, absl::Duration timeout, std::string* received = nullptr) {
  const absl::Time deadline = absl::Now() + timeout;
  char buf[4096];
  while (true) {
    // A last look at zero: a connection already closed counts even when
    // the timeout is (nearly) nothing.
    const int64_t left = std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return true;  // reset
    }
    if (received != nullptr) received->append(buf, static_cast<size_t>(n));
  }
}

// The status code of an HTTP response's first line, or 0.
inline int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  int status = 0;
  return absl::SimpleAtoi(response.substr(9, 3), &status) ? status : 0;
}

struct TimedResponse {
  int status = 0;  // 0: no complete answer within the timeout
  absl::Duration elapsed;
  std::string raw;
};

// GET `path` on a fresh connection, connect included in `elapsed`; waits
// for the server to close the connection (it answers one request per
// connection) at most `timeout`.
inline TimedResponse TimedGet(int port, const std::string& path,
                              absl::Duration timeout = absl::Seconds(5),
                              const char* ip = "127.0.0.1") {
  TimedResponse r;
  const absl::Time start = absl::Now();
  Socket s = ConnectTo(port, ip);
  if (s.valid() &&
      SendAll(s.fd(), absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: ", ip, "\r\n\r\n")) &&
      AwaitClosedByPeer(s.fd(), timeout, &r.raw)) {
    r.status = StatusOf(r.raw);
  }
  r.elapsed = absl::Now() - start;
  return r;
}

// VmRSS of a process in KiB (from /proc/PID/status), or -1.
inline int64_t RssKib(const std::string& pid = "self") {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    int64_t kib = -1;
    std::string digits;
    for (char c : line) {
      if (c >= '0' && c <= '9') digits.push_back(c);
    }
    return absl::SimpleAtoi(digits, &kib) ? kib : -1;
  }
  return -1;
}

struct EndlessHeadersResult {
  int64_t bytes_sent = 0;
  // The server closed or reset the connection before `max_bytes` were sent.
  bool closed_by_server = false;
  // What it answered before closing, if anything.
  std::string received;
};

// A request line, then header lines (each ~1 KiB, well-formed) without end,
// as fast as the server takes them: stops when the server closes the
// connection, after `max_bytes`, or at `timeout`.
inline EndlessHeadersResult SendEndlessHeaders(int port, int64_t max_bytes,
                                               absl::Duration timeout) {
  EndlessHeadersResult result;
  Socket s = ConnectTo(port);
  if (!s.valid()) return result;
  ::fcntl(s.fd(), F_SETFL, ::fcntl(s.fd(), F_GETFL) | O_NONBLOCK);
  const std::string line = absl::StrCat("X-Filler: ", std::string(1000, 'a'), "\r\n");
  std::string pending = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  size_t offset = 0;
  const absl::Time deadline = absl::Now() + timeout;
  char buf[4096];
  while (result.bytes_sent < max_bytes) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) break;
    pollfd p{s.fd(), POLLIN | POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000))) <= 0) continue;
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::recv(s.fd(), buf, sizeof(buf), 0);
      if (n > 0) {
        result.received.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        result.closed_by_server = true;
        break;
      }
    }
    if ((p.revents & POLLOUT) == 0) continue;
    if (offset == pending.size()) {
      pending = line;
      offset = 0;
    }
    const ssize_t n =
        ::send(s.fd(), pending.data() + offset, pending.size() - offset, MSG_NOSIGNAL);
    if (n > 0) {
      offset += static_cast<size_t>(n);
      result.bytes_sent += n;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      result.closed_by_server = true;  // EPIPE or ECONNRESET
      break;
    }
  }
  return result;
}

// Clients that send a request line and then one header line every
// `interval`, never finishing the request, until destroyed; they notice
// when the server closes them. The interval paces the traffic; nothing
// waits on it.
class SlowHeaderClients {
 public:
  SlowHeaderClients(int port, int count, absl::Duration interval) : interval_(interval) {
    for (int i = 0; i < count; ++i) {
      Client c;
      c.socket = ConnectTo(port);
      c.opened = absl::Now();
      if (c.socket.valid() &&
          SendAll(c.socket.fd(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")) {
        ++connected_;
      }
      clients_.push_back(std::move(c));
    }
    thread_ = std::thread([this] { Run(); });
  }

  ~SlowHeaderClients() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  int connected() const { return connected_; }

  // For each client the server closed: how long after connecting it did.
  std::vector<absl::Duration> ClosedAfter() const {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<absl::Duration> out;
    for (const Client& c : clients_) {
      if (c.closed_after) out.push_back(*c.closed_after);
    }
    return out;
  }

 private:
  struct Client {
    Socket socket;
    absl::Time opened;
    std::optional<absl::Duration> closed_after;
  };

  void Run() {
    std::unique_lock<std::mutex> l(mu_);
    int line = 0;
    while (!stop_) {
      ++line;
      for (Client& c : clients_) {
        if (!c.socket.valid() || c.closed_after) continue;
        char buf[4096];
        ssize_t n;
        while ((n = ::recv(c.socket.fd(), buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        }
        const bool eof = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        if (eof || !SendAll(c.socket.fd(), absl::StrCat("X-Slow-", line, ": x\r\n"))) {
          c.closed_after = absl::Now() - c.opened;
        }
      }
      cv_.wait_for(l, absl::ToChronoNanoseconds(interval_), [this] { return stop_; });
    }
  }

  const absl::Duration interval_;
  int connected_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<Client> clients_;
  std::thread thread_;
};

}  // namespace kafka_sidecar::testing
