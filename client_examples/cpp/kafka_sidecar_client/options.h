// How a Client subscribes, how many threads run the handler, and how it
// backs off and stops.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kafka_sidecar_client {

struct Options {
  std::string handler_name = "cpp-handler";
  // Empty = every topic the sidecar consumes.
  std::vector<std::string> topics;
  // 0 = the sidecar's defaults.
  uint32_t max_in_flight_messages = 0;
  uint32_t max_batch_messages = 0;
  // Threads running the handler; partitions beyond this share them.
  int concurrency = 8;
  // Reconnect backoff: doubles from initial to max, ±20% jitter, back to
  // initial once a stream was subscribed.
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{10000};
  // How long Stop() waits for held batches before closing the stream anyway.
  std::chrono::milliseconds stop_timeout{20000};
  // One line per event worth a log line; default: stderr.
  std::function<void(const std::string&)> log;
};

// What the handler decided, over the client's life.
struct Counts {
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> rejected{0};
};

}  // namespace kafka_sidecar_client
