// Turning a handler's verdicts into the Settle the sidecar expects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kafka_sidecar/v1/sidecar.pb.h"
#include "kafka_sidecar_client/message.h"

namespace kafka_sidecar_client {

struct MessageOutcome {
  int64_t offset = 0;
  v1::Outcome outcome = v1::OUTCOME_ACK;
  std::string reason;  // empty for ACK
};

// Runs the handler on one message and maps what it did to an outcome. A
// handler's exception never escapes.
MessageOutcome Decide(const Handler& handler, const Message& message);

// One Settle for a batch. All ACKed is one settlement without offsets (the
// common case stays small). Otherwise ACKs come first, then REJECTs, then
// RETRYs: under `ordering: partition` a RETRY rewinds the partition and
// would make later settlements of the same batch stale.
v1::ConsumeRequest SettleRequest(uint64_t batch_id, const std::vector<MessageOutcome>& outcomes);

// Reasons travel in a dead-letter header and in logs; a long one helps
// nobody there.
inline constexpr size_t kMaxReasonBytes = 1000;

}  // namespace kafka_sidecar_client
