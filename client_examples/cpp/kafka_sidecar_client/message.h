// What a handler sees and returns: the C++ side of the helper's contract.
//
//   Outcome handler(const Message&)   ACK, REJECT or RETRY (outcome.h)
//   throw Reject("why")               REJECT, from deep inside the handler
//   throw anything else               RETRY after the sidecar's backoff, with
//                                     the exception's what() as the reason
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kafka_sidecar/v1/sidecar.pb.h"
#include "kafka_sidecar_client/outcome.h"

namespace kafka_sidecar_client {

// One delivered message. A view into the batch the sidecar sent: nothing is
// copied, and it is valid only during the handler call.
class Message {
 public:
  Message(const v1::Batch& batch, const v1::Message& message)
      : batch_(batch), message_(message) {}

  const std::string& topic() const { return batch_.topic(); }
  int32_t partition() const { return batch_.partition(); }
  int64_t offset() const { return message_.offset(); }
  // nullopt = null key; an empty key is an empty string_view.
  std::optional<std::string_view> key() const {
    if (!message_.has_key()) return std::nullopt;
    return std::string_view(message_.key());
  }
  // nullopt = tombstone (a null value); an empty value is an empty
  // string_view. Check before dereferencing: Kafka delivers tombstones to
  // compacted topics and to anyone who produces a null.
  std::optional<std::string_view> value() const {
    if (!message_.has_value()) return std::nullopt;
    return std::string_view(message_.value());
  }
  const google::protobuf::RepeatedPtrField<v1::Header>& headers() const {
    return message_.headers();
  }
  bool is_tombstone() const { return !message_.has_value(); }
  int64_t timestamp_ms() const { return message_.timestamp_ms(); }
  // 1 on first delivery.
  uint32_t delivery_attempt() const { return message_.delivery_attempt(); }

 private:
  const v1::Batch& batch_;
  const v1::Message& message_;
};

// Thrown by a handler for a message that can never succeed.
class Reject : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Called concurrently for different partitions, one call at a time for each
// partition: it must be thread-safe across partitions.
using Handler = std::function<Outcome(const Message&)>;

}  // namespace kafka_sidecar_client
