// The helper's delivery rules against an in-process fake sidecar.
#include "kafka_sidecar_client/client.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fake_sidecar.h"
#include "gtest/gtest.h"

namespace kafka_sidecar_client::testing {
namespace {

using std::chrono::milliseconds;

// A condition a handler thread waits for, with a deadline so a broken test
// fails instead of hanging.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool Wait(milliseconds timeout = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

Options TestOptions() {
  Options o;
  o.handler_name = "unit-test";
  o.backoff_initial = milliseconds(10);
  o.backoff_max = milliseconds(50);
  o.stop_timeout = milliseconds(5000);
  o.log = [](const std::string&) {};
  return o;
}

class ClientTest : public ::testing::Test {
 protected:
  void StartClient(Handler handler, Options options = TestOptions()) {
    client_ = std::make_unique<Client>(sidecar_.Channel(), std::move(handler), options);
    result_ = result_promise_.get_future();
    runner_ = std::thread([this] { result_promise_.set_value(client_->Run()); });
  }
  // Whether Run() returned within the deadline.
  bool AwaitRunReturned(milliseconds timeout = milliseconds(15000)) {
    return result_.wait_for(timeout) == std::future_status::ready;
  }
  void TearDown() override {
    if (client_) client_->Stop();
    if (runner_.joinable()) runner_.join();
  }

  FakeSidecar sidecar_;
  std::unique_ptr<Client> client_;
  std::thread runner_;
  std::promise<RunResult> result_promise_;
  std::future<RunResult> result_;
};

TEST_F(ClientTest, SubscribesByNameAndSettlesAnAllAckedBatchInOneSettlement) {
  std::atomic<int> calls{0};
  StartClient([&](const Message& m) {
    EXPECT_EQ(m.topic(), "orders");
    EXPECT_EQ(m.partition(), 2);
    ++calls;
    return true;
  });
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  std::optional<v1::ConsumeRequest> subscribe = stream->Next();
  ASSERT_TRUE(subscribe && subscribe->has_subscribe());
  EXPECT_EQ(subscribe->subscribe().handler_name(), "unit-test");

  ASSERT_TRUE(stream->SendSubscribed());
  ASSERT_TRUE(stream->SendBatch(7, "orders", 2, 100, 5));
  std::optional<v1::Settle> settle = stream->NextSettle();
  ASSERT_TRUE(settle);
  ASSERT_EQ(settle->settlements_size(), 1);
  EXPECT_EQ(settle->settlements(0).batch_id(), 7u);
  EXPECT_EQ(settle->settlements(0).outcome(), v1::OUTCOME_ACK);
  EXPECT_EQ(settle->settlements(0).offsets_size(), 0) << "all ACKed = the whole batch";
  EXPECT_EQ(calls.load(), 5);
  EXPECT_EQ(client_->counts().acked.load(), 5u);
}

TEST_F(ClientTest, FalseRetriesRejectRejectsAnExceptionRetriesWithItsText) {
  StartClient([](const Message& m) {
    switch (m.offset()) {
      case 1: return false;
      case 2: throw Reject("bad payload");
      case 3: throw std::runtime_error("database down");
      default: return true;
    }
  });
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->SendBatch(1, "t", 0, 0, 5));
  std::optional<v1::Settle> settle = stream->NextSettle();
  ASSERT_TRUE(settle);
  ASSERT_EQ(settle->settlements_size(), 4);
  // ACKs first: a RETRY rewinds the partition under ordering: partition.
  EXPECT_EQ(settle->settlements(0).outcome(), v1::OUTCOME_ACK);
  EXPECT_EQ(std::vector<int64_t>(settle->settlements(0).offsets().begin(),
                                 settle->settlements(0).offsets().end()),
            (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(settle->settlements(1).outcome(), v1::OUTCOME_REJECT);
  EXPECT_EQ(settle->settlements(1).offsets(0), 2);
  EXPECT_EQ(settle->settlements(1).reason(), "bad payload");
  EXPECT_EQ(settle->settlements(2).outcome(), v1::OUTCOME_RETRY);
  EXPECT_EQ(settle->settlements(2).offsets(0), 1);
  EXPECT_EQ(settle->settlements(2).reason(), "handler returned false");
  EXPECT_EQ(settle->settlements(3).outcome(), v1::OUTCOME_RETRY);
  EXPECT_EQ(settle->settlements(3).offsets(0), 3);
  EXPECT_EQ(settle->settlements(3).reason(), "database down");
  EXPECT_EQ(client_->counts().acked.load(), 2u);
  EXPECT_EQ(client_->counts().retried.load(), 2u);
  EXPECT_EQ(client_->counts().rejected.load(), 1u);
}

TEST_F(ClientTest, OnePartitionInOrderOneAtATimeWhilePartitionsRunConcurrently) {
  Gate partition1_handled;
  std::mutex mu;
  std::map<int32_t, std::vector<int64_t>> seen;
  std::map<int32_t, int> running;
  int max_running_one_partition = 0;
  std::atomic<bool> concurrent{true};
  StartClient([&](const Message& m) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen[m.partition()].push_back(m.offset());
      max_running_one_partition = std::max(max_running_one_partition, ++running[m.partition()]);
    }
    if (m.partition() == 1) partition1_handled.Open();
    // Partition 0's first message waits for partition 1: only possible if
    // the two run at the same time.
    if (m.partition() == 0 && m.offset() == 0 && !partition1_handled.Wait()) concurrent = false;
    std::this_thread::yield();
    std::lock_guard<std::mutex> lock(mu);
    --running[m.partition()];
    return true;
  });
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  for (int b = 0; b < 5; ++b) ASSERT_TRUE(stream->SendBatch(10 + b, "t", 0, b * 20, 20));
  ASSERT_TRUE(stream->SendBatch(99, "t", 1, 0, 3));
  std::set<uint64_t> settled;
  while (settled.size() < 6) {
    std::optional<v1::Settle> settle = stream->NextSettle();
    ASSERT_TRUE(settle) << "settled " << settled.size() << " of 6 batches";
    for (const auto& s : settle->settlements()) settled.insert(s.batch_id());
  }
  EXPECT_TRUE(concurrent) << "partition 0 never saw partition 1 handled meanwhile";
  std::lock_guard<std::mutex> lock(mu);
  std::vector<int64_t> expected(100);
  for (int i = 0; i < 100; ++i) expected[i] = i;
  EXPECT_EQ(seen[0], expected);
  EXPECT_EQ(seen[1], (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(max_running_one_partition, 1);
}

TEST_F(ClientTest, ManyPartitionsShareAFewThreads) {
  Options options = TestOptions();
  options.concurrency = 2;
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::atomic<int> handled{0};
  StartClient(
      [&](const Message&) {
        std::lock_guard<std::mutex> lock(mu);
        threads.insert(std::this_thread::get_id());
        ++handled;
        return true;
      },
      options);
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  for (int p = 0; p < 50; ++p) ASSERT_TRUE(stream->SendBatch(p + 1, "t", p, 0, 2));
  for (int n = 0; n < 50; ++n) ASSERT_TRUE(stream->NextSettle()) << "after " << n << " settles";
  EXPECT_EQ(handled.load(), 100);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_LE(threads.size(), 2u);
}

TEST_F(ClientTest, ReconnectsAfterADropAndNeverSettlesTheOldStreamsBatchesOnTheNewOne) {
  Gate release;
  std::atomic<bool> first{true};
  StartClient([&](const Message&) {
    if (first.exchange(false)) release.Wait();
    return true;
  });
  std::shared_ptr<FakeStream> one = sidecar_.NextStream();
  ASSERT_NE(one, nullptr);
  ASSERT_TRUE(one->SendSubscribed());
  ASSERT_TRUE(one->SendBatch(1, "t", 0, 0, 3));
  ASSERT_TRUE(one->Next());  // the Subscribe; the handler now holds batch 1
  one->Drop();
  release.Open();

  std::shared_ptr<FakeStream> two = sidecar_.NextStream();
  ASSERT_NE(two, nullptr) << "the client did not reconnect";
  std::optional<v1::ConsumeRequest> subscribe = two->Next();
  ASSERT_TRUE(subscribe && subscribe->has_subscribe());
  ASSERT_TRUE(two->SendBatch(2, "t", 0, 0, 3));
  std::optional<v1::Settle> settle = two->NextSettle();
  ASSERT_TRUE(settle);
  for (const auto& s : settle->settlements()) EXPECT_EQ(s.batch_id(), 2u);
  EXPECT_GE(client_->streams_opened(), 2);
}

TEST_F(ClientTest, KeepsReconnectingWhileTheSidecarIsAway) {
  StartClient([](const Message&) { return true; });
  for (int i = 0; i < 3; ++i) {
    std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
    ASSERT_NE(stream, nullptr) << "no stream " << i;
    stream->Drop();
  }
  std::shared_ptr<FakeStream> last = sidecar_.NextStream();
  ASSERT_NE(last, nullptr);
  ASSERT_TRUE(last->SendBatch(5, "t", 0, 0, 1));
  EXPECT_TRUE(last->NextSettle());
}

TEST_F(ClientTest, DrainingSettlesWhatItHoldsThenHalfClosesAndRunReturns) {
  Gate release;
  Gate holding;
  StartClient([&](const Message&) {
    holding.Open();
    return release.Wait();
  });
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->SendBatch(3, "t", 0, 0, 1));
  ASSERT_TRUE(holding.Wait());
  ASSERT_TRUE(stream->SendDraining(5000));
  release.Open();
  std::optional<v1::Settle> settle = stream->NextSettle();
  ASSERT_TRUE(settle) << "the held batch was not settled on Draining";
  EXPECT_EQ(settle->settlements(0).batch_id(), 3u);
  EXPECT_EQ(settle->settlements(0).outcome(), v1::OUTCOME_ACK);
  EXPECT_TRUE(stream->AwaitHalfClose());
  ASSERT_TRUE(AwaitRunReturned());
  EXPECT_EQ(result_.get(), RunResult::kDrained);
  EXPECT_EQ(sidecar_.streams_opened(), 1) << "no reconnect after a drain";
}

TEST_F(ClientTest, StopSettlesHeldBatchesAndStartsNoNewOnes) {
  Gate release;
  Gate holding;
  std::atomic<int> calls{0};
  StartClient([&](const Message&) {
    ++calls;
    holding.Open();
    return release.Wait();
  });
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->SendBatch(1, "t", 0, 0, 1));
  ASSERT_TRUE(holding.Wait());
  client_->Stop();
  // Arrives after Stop: must not be started (the sidecar redelivers it).
  ASSERT_TRUE(stream->SendBatch(2, "t", 1, 0, 1));
  // A batch sent after it on the same partition as batch 1 would queue
  // behind it; a later partition shows whether new work is refused.
  release.Open();
  std::optional<v1::Settle> settle = stream->NextSettle();
  ASSERT_TRUE(settle);
  EXPECT_EQ(settle->settlements(0).batch_id(), 1u);
  EXPECT_TRUE(stream->AwaitHalfClose());
  ASSERT_TRUE(AwaitRunReturned());
  EXPECT_EQ(result_.get(), RunResult::kStopped);
  EXPECT_EQ(calls.load(), 1) << "a batch that arrived after Stop was handled";
}

TEST_F(ClientTest, ExtendsABatchHeldPastHalfTheAckTimeout) {
  Gate release;
  StartClient([&](const Message&) { return release.Wait(); });
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->SendSubscribed(/*ack_timeout_ms=*/200));
  ASSERT_TRUE(stream->SendBatch(42, "t", 0, 0, 1));
  bool extended = false;
  for (;;) {
    std::optional<v1::ConsumeRequest> r = stream->Next(milliseconds(5000));
    ASSERT_TRUE(r) << "no Extend while the handler held the batch";
    if (r->has_extend()) {
      ASSERT_EQ(r->extend().batch_ids_size(), 1);
      EXPECT_EQ(r->extend().batch_ids(0), 42u);
      EXPECT_EQ(r->extend().extend_ms(), 0u) << "0 = another ack_timeout_ms";
      extended = true;
      break;
    }
  }
  EXPECT_TRUE(extended);
  release.Open();
  std::optional<v1::Settle> settle = stream->NextSettle();
  ASSERT_TRUE(settle);
  EXPECT_EQ(settle->settlements(0).batch_id(), 42u);
}

}  // namespace
}  // namespace kafka_sidecar_client::testing
