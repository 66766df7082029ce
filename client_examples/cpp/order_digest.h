// The example's "work": decode a message as UTF-8 JSON and sum the numbers
// of the top-level object. What cannot be decoded is rejected, so the
// sidecar dead-letters it with the parse error as the reason.
#pragma once

#include <cstdint>
#include <mutex>

#include "kafka_sidecar_client/message.h"

namespace example {

class OrderDigest {
 public:
  // The Handler: true, or throws kafka_sidecar_client::Reject. Thread-safe.
  bool operator()(const kafka_sidecar_client::Message& message);

  uint64_t count() const;
  double total() const;

 private:
  mutable std::mutex mu_;
  uint64_t count_ = 0;  // guarded by mu_
  double total_ = 0;    // guarded by mu_
};

}  // namespace example
