// Reads a topic back from the beginning, independently of the sidecar: a
// group-less librdkafka consumer (nothing joined, nothing committed), so a
// test can check exactly what landed in Kafka.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kafka_sidecar::testing {

struct ReadHeader {
  std::string key;
  std::optional<std::string> value;  // nullopt = null header value

  friend bool operator==(const ReadHeader& a, const ReadHeader& b) {
    return a.key == b.key && a.value == b.value;
  }
  friend bool operator!=(const ReadHeader& a, const ReadHeader& b) { return !(a == b); }
  friend std::ostream& operator<<(std::ostream& os, const ReadHeader& h);
};

struct ReadRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;    // nullopt = null key
  std::optional<std::string> value;  // nullopt = tombstone
  std::vector<ReadHeader> headers;   // in record order, duplicates kept
  int64_t timestamp_ms = -1;
};

// Reads `topic` from the beginning until `expected` records arrived; fails
// with the count read so far if fewer arrived within `timeout`, and with
// NotFound if the topic does not exist. Records come sorted by partition,
// then offset. Stops at `expected`: use ReadAllOfTopic to see that nothing
// more is there.
absl::StatusOr<std::vector<ReadRecord>> ReadTopic(const std::string& bootstrap,
                                                  const std::string& topic, size_t expected,
                                                  absl::Duration timeout);

// Reads everything `topic` holds now: each partition up to the high
// watermark it had when the call began. NotFound if the topic does not exist.
absl::StatusOr<std::vector<ReadRecord>> ReadAllOfTopic(const std::string& bootstrap,
                                                       const std::string& topic,
                                                       absl::Duration timeout);

}  // namespace kafka_sidecar::testing
