// Caps the rate at which test handlers sharing a Pacer settle messages, so a
// run lasts long enough for faults or membership changes to happen while
// work remains, whatever the machine's speed. A throttle (a slow handler),
// not a synchronisation: nothing waits for it to finish.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/support/test_handler.h"

namespace kafka_sidecar::testing {

class Pacer {
 public:
  // 0 = unlimited.
  explicit Pacer(double messages_per_second) : rate_(messages_per_second) {}

  // Blocks the caller (a handler's reader thread) until `n` more messages
  // fit the rate.
  void Take(size_t n) {
    absl::Time slot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (rate_ <= 0) return;
      const absl::Time now = absl::Now();
      slot = std::max(now, next_);
      next_ = slot + absl::Seconds(static_cast<double>(n) / rate_);
    }
    const absl::Duration wait = slot - absl::Now();
    if (wait > absl::ZeroDuration()) {
      std::this_thread::sleep_for(absl::ToChronoNanoseconds(wait));
    }
  }

  // 0 = unlimited; applies to the next Take.
  void SetRate(double messages_per_second) {
    std::lock_guard<std::mutex> lock(mu_);
    rate_ = messages_per_second;
    next_ = absl::InfinitePast();
  }

 private:
  std::mutex mu_;
  double rate_;
  absl::Time next_ = absl::InfinitePast();
};

// ACKs every batch once the pacer lets it.
inline SettlePolicy PacedAck(std::shared_ptr<Pacer> pacer) {
  return [pacer](const v1::Batch& batch) {
    pacer->Take(static_cast<size_t>(batch.messages_size()));
    return SettleAction::kAck;
  };
}

}  // namespace kafka_sidecar::testing
