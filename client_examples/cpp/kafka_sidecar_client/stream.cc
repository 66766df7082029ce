#include "kafka_sidecar_client/stream.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "kafka_sidecar_client/batch_outcome.h"
#include "kafka_sidecar_client/log.h"

namespace kafka_sidecar_client {

Stream::Stream(v1::ConsumerSidecar::StubInterface* stub, const Handler& handler,
               const Options& options, Counts* counts)
    : stub_(stub),
      handler_(handler),
      options_(options),
      counts_(counts),
      scheduler_(options.concurrency) {}

Stream::~Stream() {
  scheduler_.Drain();
  if (extender_.joinable()) extender_.join();
  if (finisher_.joinable()) finisher_.join();
}

StreamEnd Stream::Run() {
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    call_ = stub_->Consume(&context_);
    // Stopped before the call existed: half-close at once, and the sidecar
    // ends the stream.
    if (writes_closed_) call_->WritesDone();
  }
  v1::ConsumeRequest subscribe;
  v1::Subscribe* s = subscribe.mutable_subscribe();
  s->set_handler_name(options_.handler_name);
  for (const std::string& topic : options_.topics) s->add_topics(topic);
  s->set_max_in_flight_messages(options_.max_in_flight_messages);
  s->set_max_batch_messages(options_.max_batch_messages);
  Send(subscribe);

  v1::ConsumeResponse response;
  while (call_->Read(&response)) {
    switch (response.response_case()) {
      case v1::ConsumeResponse::kSubscribed: {
        const v1::Subscribed& sub = response.subscribed();
        ordering_ = sub.ordering();
        subscribed_ = true;
        Log("subscribed: stream " + sub.stream_id() + ", group " + sub.group_id() +
            ", ack timeout " + std::to_string(sub.ack_timeout_ms()) + " ms, ordering " +
            (StopsAtFirstRetry(sub.ordering()) ? "partition" : "none"));
        if (sub.ack_timeout_ms() > 0 && !extender_.joinable()) {
          extender_ = std::thread(&Stream::RunExtender, this,
                                  std::chrono::milliseconds(sub.ack_timeout_ms()));
        }
        break;
      }
      case v1::ConsumeResponse::kBatch:
        Dispatch(std::make_shared<const v1::Batch>(std::move(*response.mutable_batch())));
        break;
      case v1::ConsumeResponse::kAssignment:
        Log("assignment: +" + std::to_string(response.assignment().assigned_size()) + " -" +
            std::to_string(response.assignment().revoked_size()) + " partitions");
        break;
      case v1::ConsumeResponse::kDraining: {
        const uint32_t deadline_ms = response.draining().deadline_ms();
        Log("sidecar draining, " + std::to_string(deadline_ms) + " ms to settle");
        // A margin, so the settlements land before the sidecar's deadline.
        Finish(StreamEnd::kDrained, deadline_ms > 0
                                        ? std::chrono::milliseconds(deadline_ms * 8 / 10)
                                        : std::chrono::milliseconds(5000));
        break;
      }
      case v1::ConsumeResponse::kPaused:
        LogPaused(response.paused());
        break;
      default:
        // A response kind newer than this helper: nothing to settle, so
        // ignoring it keeps an old handler working with a newer sidecar.
        break;
    }
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
  }
  settled_cv_.notify_all();
  ended_cv_.notify_all();
  // Whatever is still queued belongs to a stream that is gone: the sidecar
  // redelivers it. Queued work sees abandoned_ and only releases its count.
  abandoned_ = true;
  scheduler_.Drain();
  CloseWrites();
  if (extender_.joinable()) extender_.join();
  {
    // Finish() starts no finisher once ended_ is set, so this is the last.
    std::unique_lock<std::mutex> lock(mu_);
    std::thread finisher = std::move(finisher_);
    lock.unlock();
    if (finisher.joinable()) finisher.join();
  }
  const grpc::Status status = call_->Finish();
  std::optional<StreamEnd> reason;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reason = finish_reason_;
  }
  if (!reason) {
    Log("stream dropped: " + std::to_string(status.error_code()) + " " +
        (status.ok() ? std::string("ended by the sidecar") : status.error_message()));
  }
  return reason.value_or(StreamEnd::kDropped);
}

void Stream::Finish(StreamEnd reason, std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  if (finish_reason_ || ended_) return;
  finish_reason_ = reason;
  finisher_ = std::thread(&Stream::RunFinisher, this, Clock::now() + timeout);
}

void Stream::Dispatch(std::shared_ptr<const v1::Batch> batch) {
  if (writes_closed_) return;  // could never be settled
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finish_reason_ == StreamEnd::kStopped) return;
    ++outstanding_;
    held_[batch->batch_id()] = Clock::now();
  }
  const std::string& topic = batch->topic();
  const int32_t partition = batch->partition();
  const uint64_t sequence = rewinds_.Received();
  scheduler_.Submit(topic, partition, [this, batch = std::move(batch), sequence] {
    Process(*batch, sequence);
  });
}

void Stream::Process(const v1::Batch& batch, uint64_t sequence) {
  const v1::Ordering ordering = ordering_;
  BatchDecision decision;
  if (StopsAtFirstRetry(ordering) && rewinds_.TakenBack(batch, sequence)) {
    // Neither handled nor settled: the sidecar delivers it again.
  } else {
    decision = DecideBatch(handler_, batch, ordering, abandoned_);
  }
  if (decision.settle) {
    if (StopsAtFirstRetry(ordering) && !decision.outcomes.empty() &&
        decision.outcomes.back().outcome == v1::OUTCOME_RETRY) {
      // Before the Settle goes out: every batch received until now was sent
      // before the sidecar reads it, so the rewind takes back those of this
      // partition after the retried offset.
      rewinds_.Retried(batch.topic(), batch.partition(), decision.outcomes.back().offset);
    }
    uint64_t processed = 0, retried = 0, failed = 0;
    for (const MessageOutcome& o : decision.outcomes) {
      if (o.outcome == v1::OUTCOME_ACK) ++processed;
      else if (o.outcome == v1::OUTCOME_RETRY) ++retried;
      else ++failed;
    }
    counts_->processed += processed;
    counts_->retried += retried;
    counts_->failed += failed;
    // Counted first, so whoever sees the Settle sees the counts.
    Send(SettleRequest(batch, decision.outcomes));
  }
  bool none_left = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    held_.erase(batch.batch_id());
    none_left = --outstanding_ == 0;
  }
  if (none_left) settled_cv_.notify_all();
}

void Stream::Send(const v1::ConsumeRequest& request) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (writes_closed_ || call_ == nullptr) return;
  // A failed write means the stream is broken; Read() ends and says so.
  call_->Write(request);
}

void Stream::CloseWrites() {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (writes_closed_) return;
  writes_closed_ = true;
  if (call_ != nullptr) call_->WritesDone();
}

void Stream::RunFinisher(Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!settled_cv_.wait_until(lock, deadline, [this] { return outstanding_ == 0 || ended_; })) {
    Log("closing the stream with " + std::to_string(outstanding_) +
        " batches unsettled: the sidecar redelivers them");
  }
  lock.unlock();
  CloseWrites();
  lock.lock();
  // The sidecar ends the stream once the handler half-closes. A grace
  // period, then cancel, so a stuck peer cannot keep the handler forever.
  const Clock::time_point grace =
      std::max(deadline, Clock::now() + std::chrono::seconds(1)) + std::chrono::seconds(5);
  if (!ended_cv_.wait_until(lock, grace, [this] { return ended_; })) {
    Log("the sidecar did not end the stream; cancelling it");
    context_.TryCancel();
  }
}

void Stream::RunExtender(std::chrono::milliseconds ack_timeout) {
  // A batch held for half the ack timeout gets another full one, so a slow
  // handler is not redelivered what it is still working on.
  const auto half = ack_timeout / 2;
  const auto period = std::max<std::chrono::milliseconds>(ack_timeout / 4,
                                                          std::chrono::milliseconds(20));
  std::unique_lock<std::mutex> lock(mu_);
  while (!ended_cv_.wait_for(lock, period, [this] { return ended_; })) {
    const Clock::time_point now = Clock::now();
    v1::ConsumeRequest request;
    v1::Extend* extend = request.mutable_extend();
    for (auto& [batch_id, since] : held_) {
      if (now - since < half) continue;
      extend->add_batch_ids(batch_id);
      since = now;
    }
    if (extend->batch_ids_size() == 0) continue;
    lock.unlock();
    Send(request);
    lock.lock();
  }
}

void Stream::LogPaused(const v1::PartitionPaused& paused) const {
  // The handler cannot act on it, but whoever reads the handler's log
  // should learn why deliveries stopped: the sidecar's own log is elsewhere.
  Log("kafka-sidecar paused " + paused.partition().topic() + "/" +
      std::to_string(paused.partition().partition()) + " for " +
      std::to_string(paused.resume_in_ms()) + " ms: " + paused.reason());
}

void Stream::Log(const std::string& line) const { LogLine(options_, line); }

}  // namespace kafka_sidecar_client
