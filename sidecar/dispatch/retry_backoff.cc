#include "sidecar/dispatch/retry_backoff.h"

#include <algorithm>
#include <cmath>

namespace kafka_sidecar {

Millis RetryBackoff::Delay(uint32_t retries, uint32_t retry_after_ms) const {
  if (retry_after_ms > 0) return Millis(retry_after_ms);
  // base × 2^(retries-1), computed in double so large retry counts saturate
  // at the cap instead of overflowing.
  const double exp = std::ldexp(static_cast<double>(base_.count()),
                                static_cast<int>(std::min<uint32_t>(retries, 64)) - 1);
  const double capped = std::min(exp, static_cast<double>(max_.count()));
  // ±20% jitter spreads retries of messages that failed together (a handler
  // outage) so they do not come back as one burst; the cap still holds.
  const double jittered = capped * (0.8 + 0.4 * random_->Uniform());
  return Millis(static_cast<int64_t>(std::min(jittered, static_cast<double>(max_.count()))));
}

}  // namespace kafka_sidecar
