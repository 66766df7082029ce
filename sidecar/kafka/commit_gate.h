// Whether the periodic commit may go out, across a cooperative rebalance of
// the classic group protocol.
//
// Such a rebalance takes two rounds. The first ends with this member
// revoking the partitions that move; it then rejoins, and the second round
// hands the moved partitions to their new owners. Until the second round's
// assignment arrives the member's generation is about to change, so a commit
// sent in between is refused (ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS);
// librdkafka before 2.10 even took that refusal for a lost assignment and
// gave up the partitions it was meant to keep. The gate holds periodic
// commits from an incremental revoke until an assignment of a later
// generation, then asks for one commit at once so that the kept partitions'
// progress lands without waiting for the next interval. The revoke's own
// synchronous commit is not held: it goes out while the generation is
// still current.
//
// A rebalance that never completes must not stop commits for good: after
// `max_hold` (the slowest member's revoke plus a session timeout, by which
// time the broker has expelled whoever did not rejoin) the gate opens.
//
// The next-generation (consumer) protocol has no group-wide rounds and fences
// commits by member epoch; the gate is not used there. Not thread-safe: the
// Kafka control thread owns it.
#pragma once

#include <cstdint>
#include <optional>

#include "sidecar/common/clock.h"

namespace kafka_sidecar {

class CommitGate {
 public:
  explicit CommitGate(Millis max_hold) : max_hold_(max_hold) {}

  // An incremental revoke (not a lost assignment) at `generation`: holds
  // commits, or keeps holding them, until a later generation is assigned.
  void Revoked(int32_t generation, MonoTime now);
  // An assignment (possibly empty) at `generation`. True when it ends a
  // hold: the rebalance is complete and a commit should go out now.
  bool Assigned(int32_t generation);
  // The assignment was lost or the rebalance failed: nothing to wait for.
  void Clear() { held_generation_.reset(); }

  // Periodic commits may go out.
  bool open(MonoTime now) const;
  bool holding() const { return held_generation_.has_value(); }

 private:
  const Millis max_hold_;
  std::optional<int32_t> held_generation_;
  MonoTime held_since_;
};

}  // namespace kafka_sidecar
