// One handler stream as the rest of the sidecar sees it: identity, the
// subscription's effective options, the flow-control window, and an outbox
// that feeds the transport one write at a time. Shared by the reactor (gRPC
// threads), the dispatchers that send batches to it and the coordinator;
// everything mutable sits behind one mutex held only for short, non-blocking
// sections.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "sidecar/common/mutex.h"
#include "sidecar/common/clock.h"
#include "sidecar/common/wakeable.h"
#include "sidecar/flow/flow_window.h"
#include "sidecar/stream/outgoing.h"
#include "sidecar/stream/stream_writer.h"

namespace kafka_sidecar {

struct StreamOptions {
  std::string handler_name;
  std::string peer;
  std::vector<std::string> topics;  // empty = every topic
  uint32_t max_in_flight_messages = 0;
  uint64_t max_in_flight_bytes = 0;
  uint32_t max_batch_messages = 0;
};

class StreamSession {
 public:
  StreamSession(std::string id, StreamWriter* writer, MonoTime now);

  const std::string& id() const { return id_; }
  MonoTime connected_at() const { return connected_at_; }

  // Set once, by the reactor, when Subscribe is accepted.
  void Subscribe(StreamOptions options);
  bool subscribed() const { return subscribed_.load(std::memory_order_acquire); }
  // Valid after Subscribe.
  const StreamOptions& options() const { return options_; }
  bool Accepts(const std::string& topic) const;

  // Flow control. Takes as many of the next `wanted` messages as fit; when
  // none fit, `waiter` is woken once the window has room again.
  template <typename SizeFn>
  size_t AcquireWindow(size_t wanted, SizeFn size_of, Wakeable* waiter) {
    MutexLock l(&mu_);
    if (closed_ || window_ == nullptr) return 0;
    size_t n = window_->Acquire(wanted, size_of);
    if (n == 0) waiters_.insert(waiter);
    return n;
  }
  void ReleaseWindow(size_t messages, uint64_t bytes);
  uint64_t in_flight_messages() const;

  // Queues a response; false if the stream is closed (nothing was queued).
  bool Send(Outgoing out);
  // Called by the transport when the outstanding write completes.
  void OnWriteDone(bool ok);
  // Ends the stream with `status` once the outstanding write (if any) is
  // done; queued responses are dropped. Idempotent.
  void Finish(const grpc::Status& status);
  // Called by the transport in OnDone: the writer is gone.
  void Detach();
  bool closed() const;

  // Counters for StreamStats.
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> processed{0};
  std::atomic<uint64_t> failed{0};
  // Batch deadlines an Extend asked to move further than
  // processing.max_extension_ms (each cut to it); logged when the stream ends.
  std::atomic<uint64_t> extensions_cut{0};

 private:
  void WakeWaitersLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string id_;
  const MonoTime connected_at_;
  std::atomic<bool> subscribed_{false};
  StreamOptions options_;  // written once before subscribed_ is set

  mutable Mutex mu_;
  StreamWriter* writer_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<FlowWindow> window_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Wakeable*> waiters_ ABSL_GUARDED_BY(mu_);
  std::deque<Outgoing> outbox_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kafka_sidecar
