// An in-process ConsumerSidecar for the helper's tests: each Consume stream
// the client opens becomes a FakeStream the test drives (send responses,
// read what the client wrote, drop it). Like the real sidecar, a stream
// ends once the client half-closes it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kafka_sidecar/v1/sidecar.grpc.pb.h"

namespace kafka_sidecar_client::testing {

namespace v1 = ::kafka_sidecar::v1;
using std::chrono::milliseconds;

class FakeStream {
 public:
  FakeStream(grpc::ServerContext* context,
             grpc::ServerReaderWriter<v1::ConsumeResponse, v1::ConsumeRequest>* stream)
      : context_(context), stream_(stream) {}

  // False once the stream is over.
  bool Send(const v1::ConsumeResponse& response);
  // Like a current sidecar, announces an ordering; UNSPECIFIED is what an
  // older sidecar sends.
  bool SendSubscribed(uint32_t ack_timeout_ms = 0,
                      v1::Ordering ordering = v1::ORDERING_PARTITION);
  // `count` messages from `first_offset`, values "v<offset>", first delivery.
  bool SendBatch(uint64_t batch_id, const std::string& topic, int32_t partition,
                 int64_t first_offset, int count);
  bool SendBatch(uint64_t batch_id, const std::string& topic, int32_t partition,
                 const std::vector<v1::Message>& messages);
  bool SendPaused(const std::string& topic, int32_t partition, const std::string& reason,
                  uint32_t resume_in_ms);
  bool SendDraining(uint32_t deadline_ms);

  // The next request the client wrote; nullopt at the deadline or once the
  // client half-closed and everything was read.
  std::optional<v1::ConsumeRequest> Next(milliseconds timeout = milliseconds(10000));
  // The next Settle, skipping Extends.
  std::optional<v1::Settle> NextSettle(milliseconds timeout = milliseconds(10000));
  // Whether the client half-closed within the timeout.
  bool AwaitHalfClose(milliseconds timeout = milliseconds(10000));
  // Ends the stream as a sidecar crash would: the client sees CANCELLED.
  void Drop();

  // Called by the service.
  void Push(v1::ConsumeRequest request);
  void MarkHalfClosed();
  void MarkDone();

 private:
  grpc::ServerContext* const context_;
  grpc::ServerReaderWriter<v1::ConsumeResponse, v1::ConsumeRequest>* const stream_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::ConsumeRequest> received_;  // guarded by mu_
  bool half_closed_ = false;                 // guarded by mu_
  bool done_ = false;                        // guarded by mu_
};

class FakeSidecar final : public v1::ConsumerSidecar::Service {
 public:
  FakeSidecar();
  ~FakeSidecar() override;

  std::shared_ptr<grpc::Channel> Channel() const;
  // "127.0.0.1:<port>", for a handler in another process.
  std::string target() const;
  // The next stream a client opened, in order of opening.
  std::shared_ptr<FakeStream> NextStream(milliseconds timeout = milliseconds(10000));
  int streams_opened() const;

  grpc::Status Consume(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ConsumeResponse, v1::ConsumeRequest>* stream) override;

 private:
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<FakeStream>> streams_;  // guarded by mu_
  size_t next_ = 0;                                   // guarded by mu_
};

}  // namespace kafka_sidecar_client::testing
