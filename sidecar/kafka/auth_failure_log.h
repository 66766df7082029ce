// Turns librdkafka's authentication failures into log lines an operator can
// act on, and remembers the last one for health reporting.
//
// librdkafka retries a failed authentication for ever (credentials mounted
// from a secret may be rotated under a running sidecar), reporting each
// failure as an error event, so the sidecar keeps running and says once what
// is wrong; the same failure again is counted and summarised at most once per
// repeat interval.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <librdkafka/rdkafka.h>

#include "sidecar/common/clock.h"
#include "sidecar/common/mutex.h"

namespace kafka_sidecar {

// librdkafka's reason without what varies between two reports of the same
// failure: the broker prefix ("sasl_plaintext://host:9093/1: ") and the
// timing suffix ("(after 306ms in state AUTH_REQ, 3 identical error(s)
// suppressed)"). `suppressed` gets the count of that suffix (0 if none).
std::string NormalizeAuthFailure(std::string_view reason, uint64_t* suppressed);

// librdkafka before this version answers a SCRAM challenge in a way Apache
// Kafka 4.0 and later reject as invalid credentials, whatever the password.
inline constexpr int kScramFixedInLibrdkafka = 0x020601ff;  // 2.6.1

class AuthFailureLog {
 public:
  // `librdkafka_version` as rd_kafka_version() gives it: the hints name the
  // SCRAM incompatibility above when it applies.
  explicit AuthFailureLog(const Clock& clock, int librdkafka_version = rd_kafka_version(),
                          Millis repeat_interval = std::chrono::seconds(30))
      : clock_(clock),
        librdkafka_version_(librdkafka_version),
        repeat_interval_(repeat_interval) {}

  // One failure as librdkafka's error callback reported it. Returns the line
  // to log at error level: for a failure not seen before (since the last
  // success) at once, for a repeat once the repeat interval has passed since
  // it was last logged, with the count of repeats; otherwise nullopt.
  std::optional<std::string> OnFailure(std::string_view reason);

  // Authentication evidently works (the group assigned partitions). Returns
  // a line to log at info level if failures were outstanding.
  std::optional<std::string> OnSuccess();

  // The outstanding failure, normalised; empty when there is none. Any
  // thread.
  std::string last_error() const;

 private:
  std::string Line(std::string_view prefix, std::string_view failure) const;

  const Clock& clock_;
  const int librdkafka_version_;
  const Millis repeat_interval_;

  struct Seen {
    MonoTime logged_at;
    uint64_t unlogged = 0;  // failures since logged_at
  };
  static constexpr size_t kMaxDistinct = 16;

  mutable Mutex mu_;
  std::string current_ ABSL_GUARDED_BY(mu_);  // the latest failure
  std::map<std::string, Seen> seen_ ABSL_GUARDED_BY(mu_);
  uint64_t total_ ABSL_GUARDED_BY(mu_) = 0;  // since the last success
};

}  // namespace kafka_sidecar
