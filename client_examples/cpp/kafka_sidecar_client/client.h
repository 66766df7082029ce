// The handler side of kafka-sidecar: runs a Handler against the sidecar's
// Consume stream until the sidecar drains or Stop() is called.
//
//   kafka_sidecar_client::Client client(
//       grpc::CreateChannel("127.0.0.1:50051", grpc::InsecureChannelCredentials()),
//       [](const kafka_sidecar_client::Message& m) { return Process(m.value()); });
//   client.Run();
//
// Delivery rules it keeps:
// * Partitions are handled concurrently (Options::concurrency threads), the
//   messages of one partition one at a time, in the order sent.
// * The ordering rule the sidecar announces in Subscribed: under
//   `ordering: partition` a batch is handled up to its first RETRY and the
//   rest left to the sidecar's redelivery; under `ordering: none` every
//   message is handled (batch_outcome.h).
// * A batch is settled with one Settle once its messages are decided.
// * Batches held for half the sidecar's ack timeout are extended.
// * When the stream drops, that stream's work is abandoned (the sidecar
//   redelivers it) and the client reconnects with exponential backoff.
// * On Draining, and on Stop(), it settles what it holds, closes the stream
//   and Run() returns.
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "kafka_sidecar/v1/sidecar.grpc.pb.h"
#include "kafka_sidecar_client/message.h"
#include "kafka_sidecar_client/options.h"
#include "kafka_sidecar_client/outcome.h"

namespace kafka_sidecar_client {

class Stream;

enum class RunResult { kDrained, kStopped };

class Client {
 public:
  Client(std::shared_ptr<grpc::ChannelInterface> channel, Handler handler,
         Options options = {});
  // For tests: a stub of their own.
  Client(std::unique_ptr<v1::ConsumerSidecar::StubInterface> stub, Handler handler,
         Options options = {});
  ~Client();

  // Blocks. Call once.
  RunResult Run();

  // Stop taking work, settle what is held, make Run() return. Any thread,
  // not a signal handler (see run_handler.h for signals).
  void Stop();

  const Counts& counts() const { return counts_; }
  int streams_opened() const;

 private:
  std::unique_ptr<v1::ConsumerSidecar::StubInterface> stub_;
  const Handler handler_;
  const Options options_;
  Counts counts_;

  mutable std::mutex mu_;
  std::condition_variable stopped_cv_;
  bool stopped_ = false;       // guarded by mu_
  Stream* current_ = nullptr;  // guarded by mu_
  int streams_opened_ = 0;     // guarded by mu_
};

}  // namespace kafka_sidecar_client
