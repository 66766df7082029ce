// The example's "work": decode a message as UTF-8 JSON and sum the numbers
// of the top-level object. What cannot be decoded is rejected, so the
// sidecar dead-letters it with the parse error as the reason. An object with
// "fail_once": true stands for a transient failure (a dependency that is
// briefly down): its first delivery is retried after 50 ms.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "kafka_sidecar_client/message.h"

namespace example {

inline constexpr char kFailOnceReason[] = "transient failure (fail_once)";
inline constexpr std::chrono::milliseconds kFailOnceRetryAfter{50};

class OrderDigest {
 public:
  // The Handler. Thread-safe.
  kafka_sidecar_client::Outcome operator()(const kafka_sidecar_client::Message& message);

  // Messages ACKed, and the sum of their numbers.
  uint64_t count() const;
  double total() const;

 private:
  mutable std::mutex mu_;
  uint64_t count_ = 0;  // guarded by mu_
  double total_ = 0;    // guarded by mu_
};

}  // namespace example
