#include "sidecar/dispatch/error_throttle.h"

#include <algorithm>

namespace kafka_sidecar {

std::optional<Millis> ErrorThrottle::RecordErrors(uint64_t n, MonoTime now) {
  // A pause that has run out is over even before the caller's Expire: it
  // is still the last pause, for the repeat-pause backoff below.
  Expire(now);
  if (options_.threshold == 0 || n == 0 || paused(now)) return std::nullopt;
  // Only the newest `threshold` errors can matter, so the deque stays small
  // however many errors a batch brings.
  const uint64_t keep = std::min<uint64_t>(n, options_.threshold);
  for (uint64_t i = 0; i < keep; ++i) errors_.push_back(now);
  while (errors_.size() > options_.threshold) errors_.pop_front();
  while (!errors_.empty() && now - errors_.front() >= options_.window) errors_.pop_front();
  if (errors_.size() < options_.threshold) return std::nullopt;

  errors_.clear();
  // A pause soon after the last one ended (within one window) means the
  // handler is still failing: back off. A quiet window resets the backoff.
  if (last_pause_end_ && now - *last_pause_end_ < options_.window) {
    consecutive_ = std::min(consecutive_ + 1, options_.max_doublings);
  } else {
    consecutive_ = 0;
  }
  const Millis length = options_.pause * (int64_t{1} << consecutive_);
  paused_until_ = now + length;
  return length;
}

void ErrorThrottle::Clear(MonoTime now) {
  if (paused_until_) last_pause_end_ = std::min(now, *paused_until_);
  paused_until_.reset();
  errors_.clear();
}

bool ErrorThrottle::Expire(MonoTime now) {
  if (!paused_until_ || now < *paused_until_) return false;
  last_pause_end_ = *paused_until_;
  paused_until_.reset();
  return true;
}

}  // namespace kafka_sidecar
