#include "kafka_sidecar_client/client.h"

#include <algorithm>
#include <random>
#include <string>
#include <utility>

#include "kafka_sidecar_client/env.h"
#include "kafka_sidecar_client/log.h"
#include "kafka_sidecar_client/stream.h"

namespace kafka_sidecar_client {
namespace {

Options WithDefaults(Options options) {
  if (options.handler_name.empty()) options.handler_name = HandlerNameFromEnv();
  return options;
}

}  // namespace

Client::Client(std::shared_ptr<grpc::ChannelInterface> channel, Handler handler, Options options)
    : Client(v1::ConsumerSidecar::NewStub(std::move(channel)), std::move(handler),
             std::move(options)) {}

Client::Client(std::unique_ptr<v1::ConsumerSidecar::StubInterface> stub, Handler handler,
               Options options)
    : stub_(std::move(stub)),
      handler_(std::move(handler)),
      options_(WithDefaults(std::move(options))) {}

Client::~Client() = default;

RunResult Client::Run() {
  std::mt19937 random(std::random_device{}());
  // ±20%, so many handlers do not reconnect in lockstep.
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  std::chrono::milliseconds backoff = options_.backoff_initial;
  for (;;) {
    Stream stream(stub_.get(), handler_, options_, &counts_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return RunResult::kStopped;
      current_ = &stream;
      ++streams_opened_;
    }
    const StreamEnd end = stream.Run();
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ = nullptr;
    }
    if (end == StreamEnd::kDrained) return RunResult::kDrained;
    if (end == StreamEnd::kStopped) return RunResult::kStopped;
    if (stream.subscribed()) backoff = options_.backoff_initial;
    const auto delay = std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(backoff.count()) * jitter(random)));
    LogLine(options_, "reconnecting in " + std::to_string(delay.count()) + " ms");
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopped_cv_.wait_for(lock, delay, [this] { return stopped_; })) {
        return RunResult::kStopped;
      }
    }
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

void Client::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  stopped_cv_.notify_all();
  // Under mu_: Run() clears current_ under it before the stream is gone.
  if (current_ != nullptr) current_->Finish(StreamEnd::kStopped, options_.stop_timeout);
}

int Client::streams_opened() const {
  std::lock_guard<std::mutex> lock(mu_);
  return streams_opened_;
}

}  // namespace kafka_sidecar_client
