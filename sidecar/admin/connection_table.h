// The admin endpoint's own bookkeeping of its open connections, to enforce
// what libmicrohttpd does not: a deadline for the whole request (its timeout
// restarts on every byte, so a client trickling one header line a second
// would never hit it), a deadline for the whole connection, and room for a
// new connection when all are taken. Decides only; the server cuts the
// sockets it names. Not thread-safe: the server uses it from its one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace kafka_sidecar {

class ConnectionTable {
 public:
  using Clock = std::chrono::steady_clock;

  struct Limits {
    // From accept until the request line and every header are in.
    Clock::duration request_deadline;
    // From accept until the connection is gone, answer sent or not.
    Clock::duration connection_deadline;
    // Open connections at once (at least 2).
    size_t max_connections;
  };

  explicit ConnectionTable(const Limits& limits) : limits_(limits) {}

  // A connection was accepted from `peer` (its address without the port).
  // When this one takes the last slot, returns the socket of the connection
  // to cut so the next client finds room: the oldest one of the peer that
  // holds the most. A flood from one address then only ever displaces
  // itself, and a probe from elsewhere is not refused; a probe that shares
  // the flood's address sends its request at once and is answered long
  // before it becomes the oldest.
  std::optional<int> Add(const void* id, int fd, std::string peer, Clock::time_point now);
  // Its request line and headers are all in: the request deadline is met.
  void RequestComplete(const void* id);
  // The server closed it (for whatever reason).
  void Remove(const void* id);
  // Sockets of connections past their deadline, each returned once.
  std::vector<int> TakeOverdue(Clock::time_point now);
  // When TakeOverdue() will next have something, if ever.
  std::optional<Clock::time_point> NextDeadline() const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    int fd = -1;
    std::string peer;
    Clock::time_point accepted;
    bool request_complete = false;
    // Already returned to be cut; it stays until the server reports it closed.
    bool cut = false;
  };

  Clock::time_point Deadline(const Entry& e) const {
    return e.accepted +
           (e.request_complete ? limits_.connection_deadline : limits_.request_deadline);
  }

  const Limits limits_;
  absl::flat_hash_map<const void*, Entry> entries_;
};

}  // namespace kafka_sidecar
