// How long a retried message waits before it is delivered again (SPEC §3
// Retries): the handler's retry_after_ms if it gave one, else exponential
// backoff with jitter, capped.
#pragma once

#include <cstdint>

#include "sidecar/common/clock.h"
#include "sidecar/common/random.h"

namespace kafka_sidecar {

class RetryBackoff {
 public:
  RetryBackoff(Millis base, Millis max, Random* random) : base_(base), max_(max), random_(random) {}

  // `retries` counts this message's RETRYs and timeouts, this one included
  // (so the first retry waits about `base`).
  Millis Delay(uint32_t retries, uint32_t retry_after_ms) const;

 private:
  const Millis base_;
  const Millis max_;
  Random* const random_;
};

}  // namespace kafka_sidecar
