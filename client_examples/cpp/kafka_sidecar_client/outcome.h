// What a handler decides for one message.
//
//   return Outcome::Ack();                      done; the offset may be committed
//   return Outcome::Reject("why");              poison: dead-lettered, never retried
//   return Outcome::Retry("why");               again, after the sidecar's backoff
//   return Outcome::Retry("why", 50ms);         again, after 50 ms
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "kafka_sidecar/v1/sidecar.pb.h"

namespace kafka_sidecar_client {

namespace v1 = ::kafka_sidecar::v1;

class Outcome {
 public:
  static Outcome Ack() { return Outcome(v1::OUTCOME_ACK, {}, std::chrono::milliseconds(0)); }
  static Outcome Reject(std::string reason) {
    return Outcome(v1::OUTCOME_REJECT, std::move(reason), std::chrono::milliseconds(0));
  }
  // `after` 0 leaves the delay to the sidecar (retry_backoff_ms, doubling).
  static Outcome Retry(std::string reason,
                       std::chrono::milliseconds after = std::chrono::milliseconds(0)) {
    return Outcome(v1::OUTCOME_RETRY, std::move(reason), after);
  }

  v1::Outcome kind() const { return kind_; }
  const std::string& reason() const { return reason_; }
  // RETRY only; 0 = the sidecar's backoff.
  std::chrono::milliseconds retry_after() const { return retry_after_; }

 private:
  Outcome(v1::Outcome kind, std::string reason, std::chrono::milliseconds retry_after)
      : kind_(kind), reason_(std::move(reason)), retry_after_(retry_after) {}

  v1::Outcome kind_;
  std::string reason_;
  std::chrono::milliseconds retry_after_;
};

}  // namespace kafka_sidecar_client
