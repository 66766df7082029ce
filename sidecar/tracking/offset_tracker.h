// Per-partition commit watermark: the lowest offset received from Kafka and
// not yet settled, or one past the last received offset when everything is
// settled. Only offsets actually received are tracked, so gaps in the log
// (compaction, transaction markers) never stall the watermark, and it never
// moves backwards. Owned by one dispatcher thread; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

namespace kafka_sidecar {

class OffsetTracker {
 public:
  // kStale: the offset is not an unsettled one (never received, or settled
  // already). The tracker keeps no history below its window, so there the
  // two cannot be told apart, and callers treat both alike.
  enum class SettleResult { kSettled, kStale };

  // Registers an offset fetched from Kafka. Returns false (and tracks
  // nothing) for an offset at or below the last one received: a refetch of a
  // record this partition already holds.
  bool Receive(int64_t offset);

  SettleResult Settle(int64_t offset);

  bool IsUnsettled(int64_t offset) const;

  // The offset to commit (next to read), or nullopt before any receipt.
  std::optional<int64_t> Watermark() const;

  // Offsets received and not yet settled.
  size_t unsettled() const { return unsettled_; }
  int64_t last_received() const { return last_received_; }

 private:
  struct Entry {
    int64_t offset;
    bool settled;
  };
  // Entries from the lowest unsettled offset up to the last received one, in
  // offset order; settled entries at the front are popped eagerly.
  std::deque<Entry> window_;
  int64_t last_received_ = -1;
  size_t unsettled_ = 0;

  Entry* Find(int64_t offset);
};

}  // namespace kafka_sidecar
