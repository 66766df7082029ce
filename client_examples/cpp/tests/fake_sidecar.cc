#include "fake_sidecar.h"

#include <utility>

namespace kafka_sidecar_client::testing {

bool FakeStream::Send(const v1::ConsumeResponse& response) {
  std::lock_guard<std::mutex> lock(mu_);
  // After MarkDone the service method has returned and stream_ is gone.
  if (done_) return false;
  return stream_->Write(response);
}

bool FakeStream::SendSubscribed(uint32_t ack_timeout_ms, v1::Ordering ordering) {
  v1::ConsumeResponse r;
  r.mutable_subscribed()->set_stream_id("fake-stream");
  r.mutable_subscribed()->set_group_id("fake-group");
  r.mutable_subscribed()->set_ack_timeout_ms(ack_timeout_ms);
  r.mutable_subscribed()->set_ordering(ordering);
  return Send(r);
}

bool FakeStream::SendBatch(uint64_t batch_id, const std::string& topic, int32_t partition,
                           int64_t first_offset, int count) {
  std::vector<v1::Message> messages(count);
  for (int i = 0; i < count; ++i) {
    messages[i].set_offset(first_offset + i);
    messages[i].set_value("v" + std::to_string(first_offset + i));
    messages[i].set_delivery_attempt(1);
  }
  return SendBatch(batch_id, topic, partition, messages);
}

bool FakeStream::SendBatch(uint64_t batch_id, const std::string& topic, int32_t partition,
                           const std::vector<v1::Message>& messages) {
  v1::ConsumeResponse r;
  v1::Batch* b = r.mutable_batch();
  b->set_batch_id(batch_id);
  b->set_topic(topic);
  b->set_partition(partition);
  for (const v1::Message& m : messages) *b->add_messages() = m;
  return Send(r);
}

bool FakeStream::SendPaused(const std::string& topic, int32_t partition,
                            const std::string& reason, uint32_t resume_in_ms) {
  v1::ConsumeResponse r;
  v1::PartitionPaused* p = r.mutable_paused();
  p->mutable_partition()->set_topic(topic);
  p->mutable_partition()->set_partition(partition);
  p->set_reason(reason);
  p->set_resume_in_ms(resume_in_ms);
  return Send(r);
}

bool FakeStream::SendDraining(uint32_t deadline_ms) {
  v1::ConsumeResponse r;
  r.mutable_draining()->set_deadline_ms(deadline_ms);
  return Send(r);
}

std::optional<v1::ConsumeRequest> FakeStream::Next(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [this] { return !received_.empty() || half_closed_; })) {
    return std::nullopt;
  }
  if (received_.empty()) return std::nullopt;
  v1::ConsumeRequest r = std::move(received_.front());
  received_.pop_front();
  return r;
}

std::optional<v1::Settle> FakeStream::NextSettle(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    std::optional<v1::ConsumeRequest> r = Next(left);
    if (!r) return std::nullopt;
    if (r->has_settle()) return r->settle();
  }
}

bool FakeStream::AwaitHalfClose(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return half_closed_; });
}

void FakeStream::Drop() {
  // Under mu_: MarkDone needs it too, so the context outlives this call.
  std::lock_guard<std::mutex> lock(mu_);
  if (!done_) context_->TryCancel();
}

void FakeStream::Push(v1::ConsumeRequest request) {
  std::lock_guard<std::mutex> lock(mu_);
  received_.push_back(std::move(request));
  cv_.notify_all();
}

void FakeStream::MarkHalfClosed() {
  std::lock_guard<std::mutex> lock(mu_);
  half_closed_ = true;
  cv_.notify_all();
}

void FakeStream::MarkDone() {
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
}

FakeSidecar::FakeSidecar() {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
}

FakeSidecar::~FakeSidecar() {
  // Cancel what is still open so Shutdown does not wait on the tests' peers.
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& s : streams_) s->Drop();
  }
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

std::shared_ptr<grpc::Channel> FakeSidecar::Channel() const {
  return grpc::CreateChannel(target(), grpc::InsecureChannelCredentials());
}

std::string FakeSidecar::target() const { return "127.0.0.1:" + std::to_string(port_); }

std::shared_ptr<FakeStream> FakeSidecar::NextStream(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [this] { return next_ < streams_.size(); })) return nullptr;
  return streams_[next_++];
}

int FakeSidecar::streams_opened() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(streams_.size());
}

grpc::Status FakeSidecar::Consume(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::ConsumeResponse, v1::ConsumeRequest>* stream) {
  auto fake = std::make_shared<FakeStream>(context, stream);
  {
    std::lock_guard<std::mutex> lock(mu_);
    streams_.push_back(fake);
    cv_.notify_all();
  }
  v1::ConsumeRequest request;
  while (stream->Read(&request)) fake->Push(std::move(request));
  fake->MarkHalfClosed();
  fake->MarkDone();
  return grpc::Status::OK;
}

}  // namespace kafka_sidecar_client::testing
