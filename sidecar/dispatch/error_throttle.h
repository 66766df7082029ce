// Threshold-based pausing of one partition (SPEC §3 Error threshold): every
// RETRY, ack timeout and REJECT is an error; `threshold` errors within
// `window` pause the partition for `pause`, doubled for each pause that
// follows soon after the previous one, so a handler that keeps failing is
// probed less and less often. Owned by the partition's dispatcher thread.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "sidecar/common/clock.h"

namespace kafka_sidecar {

struct ErrorThrottleOptions {
  uint32_t threshold = 10;  // 0 = never pause
  Millis window{60000};
  Millis pause{30000};
  // Repeat pauses back off up to pause × 2^max_doublings.
  uint32_t max_doublings = 5;
};

class ErrorThrottle {
 public:
  explicit ErrorThrottle(ErrorThrottleOptions options) : options_(options) {}

  // Records `n` errors at `now`. Returns the pause length when they crossed
  // the threshold and the partition was not paused already.
  std::optional<Millis> RecordErrors(uint64_t n, MonoTime now);

  bool paused(MonoTime now) const { return paused_until_ && now < *paused_until_; }
  std::optional<MonoTime> paused_until() const { return paused_until_; }
  // Ends a pause early (operator resume); a pause soon after still backs off.
  void Clear(MonoTime now);
  // Called once a pause has run out; false if there was none to end.
  bool Expire(MonoTime now);
  uint32_t consecutive_pauses() const { return consecutive_; }

 private:
  const ErrorThrottleOptions options_;
  std::deque<MonoTime> errors_;
  std::optional<MonoTime> paused_until_;
  std::optional<MonoTime> last_pause_end_;
  uint32_t consecutive_ = 0;
};

}  // namespace kafka_sidecar
