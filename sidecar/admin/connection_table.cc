#include "sidecar/admin/connection_table.h"

#include <utility>

namespace kafka_sidecar {

std::optional<int> ConnectionTable::Add(const void* id, int fd, std::string peer,
                                        Clock::time_point now) {
  Entry& added = entries_[id];
  added = Entry{fd, std::move(peer), now, false, false};

  size_t live = 0;
  absl::flat_hash_map<std::string, size_t> per_peer;
  for (const auto& [key, e] : entries_) {
    if (e.cut) continue;
    ++live;
    ++per_peer[e.peer];
  }
  if (live < limits_.max_connections) return std::nullopt;

  // The oldest connection of the busiest peer; between equally busy peers,
  // the one holding the oldest connection.
  Entry* victim = nullptr;
  size_t victim_peer_count = 0;
  for (auto& [key, e] : entries_) {
    if (e.cut || key == id) continue;
    const size_t count = per_peer[e.peer];
    if (victim == nullptr || count > victim_peer_count ||
        (count == victim_peer_count && e.accepted < victim->accepted)) {
      victim = &e;
      victim_peer_count = count;
    }
  }
  if (victim == nullptr) return std::nullopt;
  victim->cut = true;
  return victim->fd;
}

void ConnectionTable::RequestComplete(const void* id) {
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second.request_complete = true;
}

void ConnectionTable::Remove(const void* id) { entries_.erase(id); }

std::vector<int> ConnectionTable::TakeOverdue(Clock::time_point now) {
  std::vector<int> fds;
  for (auto& [key, e] : entries_) {
    if (e.cut || now < Deadline(e)) continue;
    e.cut = true;
    fds.push_back(e.fd);
  }
  return fds;
}

std::optional<ConnectionTable::Clock::time_point> ConnectionTable::NextDeadline() const {
  std::optional<Clock::time_point> next;
  for (const auto& [key, e] : entries_) {
    if (e.cut) continue;
    const Clock::time_point d = Deadline(e);
    if (!next || d < *next) next = d;
  }
  return next;
}

}  // namespace kafka_sidecar
