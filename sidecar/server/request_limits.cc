#include "sidecar/server/request_limits.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "sidecar/common/quote.h"

namespace kafka_sidecar {
namespace {

// This absl's string_view is its own type, not std::string_view.
absl::string_view View(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status TooMany(std::string_view field, int count, int limit) {
  return absl::InvalidArgumentError(
      absl::StrCat(View(field), ": ", count, " entries, over the limit of ", limit));
}

absl::Status TooLong(std::string_view field, size_t bytes, size_t limit) {
  return absl::InvalidArgumentError(
      absl::StrCat(View(field), ": ", bytes, " bytes, over the limit of ", limit));
}

bool IsTopicChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

}  // namespace

absl::Status CheckTopicName(std::string_view field, std::string_view topic) {
  if (topic.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(View(field), ": empty topic name"));
  }
  // Before anything quotes it.
  if (topic.size() > kMaxTopicNameBytes) {
    return TooLong(field, topic.size(), kMaxTopicNameBytes);
  }
  bool legal = topic != "." && topic != "..";
  for (char c : topic) legal = legal && IsTopicChar(c);
  if (!legal) {
    return absl::InvalidArgumentError(
        absl::StrCat(View(field), ": ", QuoteForLog(topic),
                     " is not a Kafka topic name (only [a-zA-Z0-9._-], not \".\" or \"..\")"));
  }
  return absl::OkStatus();
}

absl::Status CheckSubscribe(const v1::Subscribe& subscribe) {
  if (subscribe.handler_name().size() > kMaxHandlerNameBytes) {
    return TooLong("Subscribe.handler_name", subscribe.handler_name().size(),
                   kMaxHandlerNameBytes);
  }
  if (subscribe.topics_size() > kMaxSubscribeTopics) {
    return TooMany("Subscribe.topics", subscribe.topics_size(), kMaxSubscribeTopics);
  }
  for (int i = 0; i < subscribe.topics_size(); ++i) {
    if (absl::Status s = CheckTopicName(absl::StrCat("Subscribe.topics[", i, "]"),
                                        subscribe.topics(i));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSettle(v1::Settle* settle, size_t* truncated) {
  if (settle->settlements_size() > kMaxSettlements) {
    return TooMany("Settle.settlements", settle->settlements_size(), kMaxSettlements);
  }
  int64_t offsets = 0;
  for (const v1::Settlement& s : settle->settlements()) offsets += s.offsets_size();
  if (offsets > kMaxSettleOffsets) {
    return absl::InvalidArgumentError(absl::StrCat("Settle.settlements[].offsets: ", offsets,
                                                   " in one Settle, over the limit of ",
                                                   kMaxSettleOffsets));
  }
  for (v1::Settlement& s : *settle->mutable_settlements()) {
    if (TruncateReason(s.mutable_reason()) > 0 && truncated != nullptr) ++*truncated;
  }
  return absl::OkStatus();
}

absl::Status CheckExtend(const v1::Extend& extend) {
  if (extend.batch_ids_size() > kMaxExtendBatchIds) {
    return TooMany("Extend.batch_ids", extend.batch_ids_size(), kMaxExtendBatchIds);
  }
  return absl::OkStatus();
}

absl::Status CheckPartitionsRequest(const v1::PartitionsRequest& request) {
  if (request.partitions_size() > kMaxRequestPartitions) {
    return TooMany("partitions", request.partitions_size(), kMaxRequestPartitions);
  }
  for (int i = 0; i < request.partitions_size(); ++i) {
    const v1::TopicPartition& tp = request.partitions(i);
    if (absl::Status s = CheckTopicName(absl::StrCat("partitions[", i, "].topic"), tp.topic());
        !s.ok()) {
      return s;
    }
    if (tp.partition() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("partitions[", i, "].partition: must be at least 0, got ", tp.partition()));
    }
  }
  return absl::OkStatus();
}

size_t TruncateReason(std::string* reason) {
  if (reason->size() <= kMaxReasonBytes) return 0;
  // The marker's length with the most digits N can have, so what is kept
  // plus the real marker always fits.
  const size_t marker_room = absl::StrCat("…[truncated ", reason->size(), " bytes]").size();
  size_t keep = kMaxReasonBytes - marker_room;
  // Back to the start of a UTF-8 character: continuation bytes are 10xxxxxx.
  while (keep > 0 && (static_cast<unsigned char>((*reason)[keep]) & 0xC0) == 0x80) --keep;
  const size_t cut = reason->size() - keep;
  reason->resize(keep);
  absl::StrAppend(reason, "…[truncated ", cut, " bytes]");
  return cut;
}

}  // namespace kafka_sidecar
