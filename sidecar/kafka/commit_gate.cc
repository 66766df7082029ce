#include "sidecar/kafka/commit_gate.h"

#include <algorithm>

namespace kafka_sidecar {

void CommitGate::Revoked(int32_t generation, MonoTime now) {
  // A revoke inside a hold (a third member joined mid-rebalance) moves the
  // generation to wait past, but the hold's age counts from its start.
  if (!held_generation_) held_since_ = now;
  held_generation_ = std::max(generation, held_generation_.value_or(generation));
}

bool CommitGate::Assigned(int32_t generation) {
  // The assignment that follows a revoke in the same round carries the same
  // generation; only the next round's completes the rebalance.
  if (!held_generation_ || generation <= *held_generation_) return false;
  held_generation_.reset();
  return true;
}

bool CommitGate::open(MonoTime now) const {
  return !held_generation_ || now - held_since_ >= max_hold_;
}

}  // namespace kafka_sidecar
