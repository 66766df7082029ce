#include "test_handler.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace kafka_sidecar::testing {
namespace {

std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& target,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  grpc::ChannelArguments args;
  // Batch size is the sidecar's business; the default 4 MB client limit
  // would turn a large batch into a confusing RESOURCE_EXHAUSTED here.
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(
      target,
      credentials != nullptr ? credentials : grpc::InsecureChannelCredentials(),
      args);
}

std::chrono::steady_clock::time_point SteadyDeadline(absl::Duration timeout) {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
             absl::ToChronoNanoseconds(timeout));
}

absl::Status ToAbsl(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

}  // namespace

SettlePolicy AckAll() {
  return [](const v1::Batch&) { return SettleAction::kAck; };
}

SettlePolicy AckAllByOffsets() {
  return [](const v1::Batch&) { return SettleAction::kAckByOffsets; };
}

SettlePolicy HoldAll() {
  return [](const v1::Batch&) { return SettleAction::kHold; };
}

SettlePolicy AckFirstNThenHold(int n) {
  // Shared so copies of the std::function count together.
  auto seen = std::make_shared<int>(0);
  return [n, seen](const v1::Batch&) {
    return (*seen)++ < n ? SettleAction::kAck : SettleAction::kHold;
  };
}

TestHandler::TestHandler(SettlePolicy policy) : policy_(std::move(policy)) {}

TestHandler::~TestHandler() {
  if (reader_.joinable()) {
    context_.TryCancel();
    reader_.join();
  }
}

absl::Status TestHandler::Open(const std::string& target) {
  if (stream_ != nullptr) {
    return absl::FailedPreconditionError("TestHandler: stream already opened");
  }
  channel_ = MakeChannel(target, credentials_);
  stub_ = v1::ConsumerSidecar::NewStub(channel_);
  stream_ = stub_->Consume(&context_);
  reader_ = std::thread([this] { ReadLoop(); });
  return absl::OkStatus();
}

absl::StatusOr<v1::Subscribed> TestHandler::Connect(const std::string& target,
                                                    v1::Subscribe subscribe,
                                                    absl::Duration timeout) {
  if (subscribe.handler_name().empty()) subscribe.set_handler_name("e2e-handler");
  absl::Status opened = Open(target);
  if (!opened.ok()) return opened;
  v1::ConsumeRequest request;
  *request.mutable_subscribe() = std::move(subscribe);
  // A failed write shows up as the stream's end below, with its status.
  Send(request);

  std::unique_lock<std::mutex> lock(mu_);
  const bool answered = cv_.wait_until(lock, SteadyDeadline(timeout), [&] {
    return state_.subscribed.has_value() || state_.stream_done;
  });
  if (state_.subscribed.has_value()) return *state_.subscribed;
  if (!answered) {
    lock.unlock();
    context_.TryCancel();
    return absl::DeadlineExceededError(absl::StrCat(
        "no Subscribed from ", target, " within ",
        absl::FormatDuration(timeout)));
  }
  absl::Status ended = ToAbsl(*state_.finish_status);
  if (ended.ok()) ended = absl::UnknownError("stream ended with OK");
  return absl::Status(ended.code(),
                      absl::StrCat("stream ended before Subscribed: ",
                                   ended.message()));
}

bool TestHandler::WriteLocked(const v1::ConsumeRequest& request) {
  if (stream_ == nullptr || writes_closed_) return false;
  return stream_->Write(request);
}

bool TestHandler::Send(const v1::ConsumeRequest& request) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return WriteLocked(request);
}

bool TestHandler::Settle(uint64_t batch_id, const std::vector<int64_t>& offsets,
                         v1::Outcome outcome, uint32_t retry_after_ms) {
  v1::ConsumeRequest request;
  v1::Settlement* s = request.mutable_settle()->add_settlements();
  s->set_batch_id(batch_id);
  for (int64_t o : offsets) s->add_offsets(o);
  s->set_outcome(outcome);
  s->set_retry_after_ms(retry_after_ms);
  return Send(request);
}

void TestHandler::SetMessagePolicy(MessagePolicy policy) {
  std::lock_guard<std::mutex> lock(policy_mu_);
  message_policy_ = std::move(policy);
}

void TestHandler::SetPolicy(SettlePolicy policy) {
  std::lock_guard<std::mutex> lock(policy_mu_);
  policy_ = std::move(policy);
}

int TestHandler::ReleaseHeld() {
  std::map<uint64_t, v1::Batch> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    held.swap(state_.held);
  }
  int acked = 0;
  for (const auto& [batch_id, batch] : held) {
    if (Settle(batch_id, {}, v1::OUTCOME_ACK)) {
      RecordAcked(batch);
      ++acked;
    }
  }
  return acked;
}

void TestHandler::Disconnect() {
  if (!reader_.joinable()) return;
  context_.TryCancel();
  reader_.join();
}

grpc::Status TestHandler::Close(absl::Duration timeout) {
  if (!reader_.joinable()) {
    std::lock_guard<std::mutex> lock(mu_);
    return state_.finish_status.value_or(
        grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "never opened"));
  }
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (!writes_closed_) {
      stream_->WritesDone();
      writes_closed_ = true;
    }
  }
  if (!WaitForFinish(timeout).has_value()) context_.TryCancel();
  reader_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return *state_.finish_status;
}

void TestHandler::ReadLoop() {
  v1::ConsumeResponse response;
  while (stream_->Read(&response)) {
    switch (response.response_case()) {
      case v1::ConsumeResponse::kSubscribed: {
        std::lock_guard<std::mutex> lock(mu_);
        state_.subscribed = response.subscribed();
        break;
      }
      case v1::ConsumeResponse::kBatch:
        OnBatch(response.batch());
        break;
      case v1::ConsumeResponse::kAssignment: {
        std::lock_guard<std::mutex> lock(mu_);
        const v1::AssignmentChange& change = response.assignment();
        state_.assignment_changes.push_back(change);
        for (const auto& tp : change.revoked()) {
          state_.assigned.erase({tp.topic(), tp.partition()});
        }
        for (const auto& tp : change.assigned()) {
          state_.assigned.insert({tp.topic(), tp.partition()});
        }
        break;
      }
      case v1::ConsumeResponse::kDraining: {
        std::lock_guard<std::mutex> lock(mu_);
        state_.draining.push_back(response.draining());
        break;
      }
      case v1::ConsumeResponse::kPaused: {
        std::lock_guard<std::mutex> lock(mu_);
        state_.paused.push_back(response.paused());
        break;
      }
      default:
        // A response kind newer than this client: ignored, as a real
        // handler would.
        break;
    }
    cv_.notify_all();
  }
  grpc::Status status;
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    writes_closed_ = true;
    status = stream_->Finish();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    state_.stream_done = true;
    state_.finish_status = status;
  }
  cv_.notify_all();
}

void TestHandler::OnBatch(const v1::Batch& batch) {
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    const TopicPartitionKey tp{batch.topic(), batch.partition()};
    auto& received = state_.received[tp];
    auto& distinct = state_.distinct[tp];
    for (const v1::Message& m : batch.messages()) {
      received.push_back(ReceivedMessage{m.offset(), m.delivery_attempt(),
                                         batch.batch_id(),
                                         m.has_key() ? m.key() : std::string()});
      if (distinct.insert(m.offset()).second) ++state_.distinct_count;
    }
    state_.received_count += batch.messages_size();
    ++state_.batches_received;
    state_.batch_ids.push_back(batch.batch_id());
    state_.batch_times.push_back(now);
    if (!state_.first_receive.has_value()) state_.first_receive = now;
    state_.last_receive = now;
  }
  cv_.notify_all();

  SettleAction action = SettleAction::kHold;
  MessagePolicy message_policy;
  {
    std::lock_guard<std::mutex> lock(policy_mu_);
    message_policy = message_policy_;
    if (!message_policy) action = policy_(batch);
  }
  if (message_policy) {
    SettleEach(batch, message_policy);
    return;
  }
  if (action == SettleAction::kHold) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      state_.held.emplace(batch.batch_id(), batch);
    }
    cv_.notify_all();
    return;
  }
  v1::ConsumeRequest request;
  v1::Settlement* s = request.mutable_settle()->add_settlements();
  s->set_batch_id(batch.batch_id());
  s->set_outcome(v1::OUTCOME_ACK);
  if (action == SettleAction::kAckByOffsets) {
    for (const v1::Message& m : batch.messages()) s->add_offsets(m.offset());
  }
  if (Send(request)) RecordAcked(batch);
}

void TestHandler::SettleEach(const v1::Batch& batch, const MessagePolicy& policy) {
  std::map<v1::Outcome, std::vector<int64_t>> by_outcome;
  for (const v1::Message& m : batch.messages()) by_outcome[policy(batch, m)].push_back(m.offset());
  v1::ConsumeRequest request;
  for (const auto& [outcome, offsets] : by_outcome) {
    if (outcome == v1::OUTCOME_UNSPECIFIED) continue;
    v1::Settlement* s = request.mutable_settle()->add_settlements();
    s->set_batch_id(batch.batch_id());
    s->set_outcome(outcome);
    s->set_reason("test handler said so");
    for (int64_t o : offsets) s->add_offsets(o);
  }
  if (request.settle().settlements_size() == 0 || !Send(request)) return;
  auto acked = by_outcome.find(v1::OUTCOME_ACK);
  if (acked != by_outcome.end()) RecordAckedOffsets(batch, acked->second);
}

void TestHandler::RecordAckedOffsets(const v1::Batch& batch, const std::vector<int64_t>& offsets) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& acked = state_.acked[{batch.topic(), batch.partition()}];
    for (int64_t o : offsets) {
      if (acked.insert(o).second) ++state_.acked_count;
    }
  }
  cv_.notify_all();
}

void TestHandler::RecordAcked(const v1::Batch& batch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& acked = state_.acked[{batch.topic(), batch.partition()}];
    for (const v1::Message& m : batch.messages()) {
      if (acked.insert(m.offset()).second) ++state_.acked_count;
    }
    ++state_.batches_acked;
  }
  cv_.notify_all();
}

bool TestHandler::WaitFor(
    const std::function<bool(const HandlerState&)>& predicate,
    absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_until(lock, SteadyDeadline(timeout),
                        [&] { return predicate(state_); });
}

std::optional<grpc::Status> TestHandler::WaitForFinish(
    absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, SteadyDeadline(timeout),
                 [&] { return state_.stream_done; });
  return state_.finish_status;
}

HandlerState TestHandler::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

uint64_t TestHandler::ReceivedCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_.received_count;
}

uint64_t TestHandler::DistinctCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_.distinct_count;
}

std::map<TopicPartitionKey, std::vector<ReceivedMessage>>
TestHandler::Received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_.received;
}

std::set<int64_t> TestHandler::DistinctOffsets(const std::string& topic,
                                               int32_t partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = state_.distinct.find({topic, partition});
  return it == state_.distinct.end() ? std::set<int64_t>() : it->second;
}

std::set<int64_t> TestHandler::AckedOffsets(const std::string& topic,
                                            int32_t partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = state_.acked.find({topic, partition});
  return it == state_.acked.end() ? std::set<int64_t>() : it->second;
}

std::optional<grpc::Status> TestHandler::finish_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_.finish_status;
}

absl::StatusOr<std::vector<TopicPartitionKey>> SetPartitionsPaused(
    const std::string& target, const std::vector<TopicPartitionKey>& partitions, bool paused,
    absl::Duration timeout, std::shared_ptr<grpc::ChannelCredentials> credentials) {
  auto stub = v1::ConsumerSidecar::NewStub(grpc::CreateChannel(
      target, credentials != nullptr ? credentials : grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::PartitionsRequest request;
  for (const auto& [topic, partition] : partitions) {
    v1::TopicPartition* tp = request.add_partitions();
    tp->set_topic(topic);
    tp->set_partition(partition);
  }
  v1::PartitionsResponse response;
  grpc::Status status = paused ? stub->PausePartitions(&ctx, request, &response)
                               : stub->ResumePartitions(&ctx, request, &response);
  if (!status.ok()) return ToAbsl(status);
  std::vector<TopicPartitionKey> acted;
  for (const v1::TopicPartition& tp : response.partitions()) {
    acted.emplace_back(tp.topic(), tp.partition());
  }
  return acted;
}

absl::StatusOr<v1::GetStatsResponse> GetStats(
    const std::string& target, absl::Duration timeout,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  auto stub = v1::ConsumerSidecar::NewStub(grpc::CreateChannel(
      target, credentials != nullptr ? credentials
                                     : grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::GetStatsRequest request;
  v1::GetStatsResponse response;
  grpc::Status status = stub->GetStats(&ctx, request, &response);
  if (!status.ok()) return ToAbsl(status);
  return response;
}

}  // namespace kafka_sidecar::testing
