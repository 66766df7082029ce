// Fills a topic quickly with deterministic messages, so a test can check
// every record it gets back against what was produced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace kafka_sidecar::testing {

struct ProduceOptions {
  // Message indices are first_index .. first_index + count - 1, so a second
  // call can extend a topic without repeating keys.
  int64_t first_index = 0;
  size_t value_size = 100;
  // For producing and for waiting on every delivery report.
  absl::Duration timeout = absl::Seconds(120);
  // When set, message i's value is value_for(i) instead of ValueFor(i,
  // value_size): for tests whose handler parses the payload. Last, so
  // positional initialisers of the fields above keep working.
  std::function<std::string(int64_t)> value_for = nullptr;
};

// "k<i>".
std::string KeyFor(int64_t index);
// "msg-<i>" padded with '.' to value_size bytes (never truncated).
std::string ValueFor(int64_t index, size_t value_size = 100);

// Produces `count` messages; message i goes to partition i % partitions.
// Idempotent and acks=all, so each partition holds its messages in index
// order exactly once: offset o of partition p is message
// (o - base) * partitions + p for a topic that started empty. Returns OK only
// once every delivery report came back without error.
absl::Status ProduceMessages(const std::string& bootstrap,
                             const std::string& topic, int partitions,
                             int64_t count, const ProduceOptions& options = {});

}  // namespace kafka_sidecar::testing
