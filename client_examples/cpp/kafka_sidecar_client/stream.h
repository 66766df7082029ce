// One Consume stream: subscribes, hands batches to the partition scheduler,
// writes settlements and extensions, and ends by draining, stopping or
// dropping. The Client opens a new one after a drop; nothing of an old
// stream's batches is ever settled on a new one (batch ids are per stream).
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "kafka_sidecar/v1/sidecar.grpc.pb.h"
#include "kafka_sidecar_client/message.h"
#include "kafka_sidecar_client/options.h"
#include "kafka_sidecar_client/partition_scheduler.h"
#include "kafka_sidecar_client/rewind_tracker.h"

namespace kafka_sidecar_client {

enum class StreamEnd { kDropped, kDrained, kStopped };

class Stream {
 public:
  Stream(v1::ConsumerSidecar::StubInterface* stub, const Handler& handler,
         const Options& options, Counts* counts);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Blocks until the stream ends. Call once.
  StreamEnd Run();

  // Settle what is held (at most `timeout`), then close the stream. Any
  // thread; the first call wins. kStopped also refuses batches that arrive
  // from now on: the sidecar gets them back when the stream closes.
  void Finish(StreamEnd reason, std::chrono::milliseconds timeout);

  bool subscribed() const { return subscribed_.load(); }

 private:
  using Clock = std::chrono::steady_clock;

  void Dispatch(std::shared_ptr<const v1::Batch> batch);
  void Process(const v1::Batch& batch, uint64_t sequence);
  void Send(const v1::ConsumeRequest& request);
  void CloseWrites();
  void RunFinisher(Clock::time_point deadline);
  void RunExtender(std::chrono::milliseconds ack_timeout);
  void LogPaused(const v1::PartitionPaused& paused) const;
  void Log(const std::string& line) const;

  v1::ConsumerSidecar::StubInterface* const stub_;
  const Handler& handler_;
  const Options& options_;
  Counts* const counts_;

  grpc::ClientContext context_;
  // Serialises writes: gRPC allows one Write at a time per stream.
  std::mutex write_mu_;
  // Set once under write_mu_ by the reading thread, which then reads
  // through it without the lock; writers take write_mu_.
  std::unique_ptr<grpc::ClientReaderWriterInterface<v1::ConsumeRequest, v1::ConsumeResponse>>
      call_;
  // Set under write_mu_; read without it to refuse new batches early.
  std::atomic<bool> writes_closed_{false};

  std::mutex mu_;
  std::condition_variable settled_cv_;  // outstanding_ reached 0, or ended_
  std::condition_variable ended_cv_;    // ended_
  int outstanding_ = 0;                                // guarded by mu_
  std::map<uint64_t, Clock::time_point> held_;         // guarded by mu_; last (re)start
  std::optional<StreamEnd> finish_reason_;             // guarded by mu_
  bool ended_ = false;                                 // guarded by mu_
  std::thread finisher_;                               // started under mu_
  std::thread extender_;

  // From Subscribed; UNSPECIFIED (an older sidecar, or none yet) is read
  // as PARTITION.
  std::atomic<v1::Ordering> ordering_{v1::ORDERING_UNSPECIFIED};
  RewindTracker rewinds_;
  std::atomic<bool> abandoned_{false};
  std::atomic<bool> subscribed_{false};
  PartitionScheduler scheduler_;
};

}  // namespace kafka_sidecar_client
