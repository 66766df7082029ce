// Why a message goes out to a handler: for the first time, or again and
// because of what. Carried by each record the dispatcher holds, counted when
// its batch is sent, so GetStats can split messages_delivered by cause.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace kafka_sidecar {

enum class DeliveryCause : uint8_t {
  kFirst = 0,   // never delivered by this sidecar before
  kRetry,       // the handler settled it RETRY
  kAckTimeout,  // not settled within the ack timeout
  kRewind,      // ordering: partition; taken back when an earlier one was retried
  kStreamLost,  // out on a stream that closed before settling it
  kCount,
};

using DeliveryCauseCounts = std::array<uint64_t, static_cast<size_t>(DeliveryCause::kCount)>;

}  // namespace kafka_sidecar
