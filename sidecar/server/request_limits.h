// Limits on what a handler sends over the gRPC API, checked before anything
// else looks at a request. A name over its limit, or a list longer than any
// correct handler sends, is refused with INVALID_ARGUMENT (for Consume, the
// stream ends and its unsettled messages are redelivered); a settlement's
// reason, free text that may hold a stack trace, is cut instead. Error
// messages quote at most kQuoteBytes of the offending input, escaped, so a
// 1 MB name cannot make the status itself too large to send. README,
// "Limits on client input", lists the same numbers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "kafka_sidecar/v1/sidecar.pb.h"

namespace kafka_sidecar {

inline constexpr size_t kMaxHandlerNameBytes = 256;
// Kafka's own limit; the legal characters are [a-zA-Z0-9._-].
inline constexpr size_t kMaxTopicNameBytes = 249;
inline constexpr int kMaxSubscribeTopics = 1000;
// Settle.settlements, and offsets summed over them. A correct handler settles
// at most its window (processing.max_in_flight_messages) at once.
inline constexpr int kMaxSettlements = 100000;
inline constexpr int kMaxSettleOffsets = 1000000;
inline constexpr int kMaxExtendBatchIds = 100000;
// PausePartitions / ResumePartitions.
inline constexpr int kMaxRequestPartitions = 100000;
// Settlement.reason is cut to this many bytes, marker included.
inline constexpr size_t kMaxReasonBytes = 4096;

// OK when `topic` is a legal Kafka topic name; else INVALID_ARGUMENT whose
// message starts with `field`.
absl::Status CheckTopicName(std::string_view field, std::string_view topic);

absl::Status CheckSubscribe(const v1::Subscribe& subscribe);
// Refuses over-long lists; cuts every reason over kMaxReasonBytes in place
// (TruncateReason) and adds how many were cut to `*truncated` (if given).
absl::Status CheckSettle(v1::Settle* settle, size_t* truncated = nullptr);
absl::Status CheckExtend(const v1::Extend& extend);
absl::Status CheckPartitionsRequest(const v1::PartitionsRequest& request);

// Cuts `reason` to at most kMaxReasonBytes, ending in "…[truncated N bytes]"
// where N is the number of bytes removed, on a UTF-8 character boundary (the
// reason ends up in dead-letter headers and logs). Returns N; 0 = untouched.
size_t TruncateReason(std::string* reason);

}  // namespace kafka_sidecar
