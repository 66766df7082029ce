// Turning a handler's verdicts on a batch into the Settle the sidecar
// expects, under the stream's ordering mode.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "kafka_sidecar/v1/sidecar.pb.h"
#include "kafka_sidecar_client/message.h"

namespace kafka_sidecar_client {

struct MessageOutcome {
  int64_t offset = 0;
  v1::Outcome outcome = v1::OUTCOME_ACK;
  std::string reason;            // empty for ACK
  uint32_t retry_after_ms = 0;  // RETRY only; 0 = the sidecar's backoff
};

// Runs the handler on one message and maps what it did to an outcome. A
// handler's exception never escapes.
MessageOutcome Decide(const Handler& handler, const Message& message);

// The ordering rule. ORDERING_NONE: every message is handled and settled on
// its own. Anything else (PARTITION, or UNSPECIFIED from an older sidecar):
// messages are handled in offset order up to the first RETRY and nothing
// after it, because that RETRY makes the sidecar take back and redeliver the
// rest of the partition; handling or settling them now would only repeat the
// work and produce stale settlements.
bool StopsAtFirstRetry(v1::Ordering ordering);

struct BatchDecision {
  // In offset order; under StopsAtFirstRetry a prefix of the batch ending at
  // its first RETRY.
  std::vector<MessageOutcome> outcomes;
  // False when `abandoned` cut the batch short: nothing is to be settled.
  bool settle = false;
};

// Handles a batch's messages one at a time. `abandoned` is checked before
// each message: once the stream is gone, nothing more is started.
BatchDecision DecideBatch(const Handler& handler, const v1::Batch& batch, v1::Ordering ordering,
                          const std::atomic<bool>& abandoned);

// One Settle for a batch. Every message ACKed is one settlement without
// offsets (the common case stays small). Otherwise one settlement per
// (outcome, reason, retry delay), offsets in order: ACKs first, then
// REJECTs, then RETRYs, since under `ordering: partition` a RETRY rewinds
// the partition and would make later settlements of the same batch stale.
v1::ConsumeRequest SettleRequest(const v1::Batch& batch,
                                 const std::vector<MessageOutcome>& outcomes);

// Reasons travel in a dead-letter header and in logs; a long one helps
// nobody there.
inline constexpr size_t kMaxReasonBytes = 1000;

}  // namespace kafka_sidecar_client
