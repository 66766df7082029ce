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
  // Shown in the sidecar's stats. Empty = $HANDLER_NAME, else "cpp-handler"
  // (env.h).
  std::string handler_name;
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
  // RunHandler only: SIGTERM and SIGINT stop the client (settle what is
  // held, close the stream, return). Off: the process keeps its own
  // signal handling and calls Client::Stop() itself.
  bool handle_signals = true;
  // One line per event worth a log line; default: stderr.
  std::function<void(const std::string&)> log;
};

// What the handler's settlements were, over the client's life, in the
// sidecar's terms (GetStats): a message counts once it is settled.
struct Counts {
  std::atomic<uint64_t> processed{0};  // settled ACK (messages_processed)
  std::atomic<uint64_t> failed{0};     // settled REJECT (messages_failed)
  // Settled RETRY by the handler (Redeliveries.retry). The rest of a batch
  // left unsettled after a RETRY under `ordering: partition`, and batches
  // abandoned with a dropped stream, are not counted anywhere.
  std::atomic<uint64_t> retried{0};
};

}  // namespace kafka_sidecar_client
