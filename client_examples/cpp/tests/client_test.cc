// The helper's delivery rules against an in-process fake sidecar.
#include "kafka_sidecar_client/client.h"

#include <stdlib.h>

#include <algorithm>
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
#include "kafka_sidecar_client/env.h"
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

// ACK once the gate opens; a gate that never opens fails the test as a
// RETRY nobody expects.
Outcome AckWhen(Gate& gate) {
  return gate.Wait() ? Outcome::Ack() : Outcome::Retry("gate never opened");
}

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
    return Outcome::Ack();
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
  EXPECT_EQ(client_->counts().processed.load(), 5u);
}

// A settlement's offsets, in the order written.
std::vector<int64_t> Offsets(const v1::Settlement& s) {
  return std::vector<int64_t>(s.offsets().begin(), s.offsets().end());
}

// Offset 0 ACK, 1 REJECT, 2 RETRY after 50 ms, the rest ACK: what the
// ordering tests below feed a 6-message batch.
Outcome MixedOutcomes(const Message& m) {
  switch (m.offset()) {
    case 1: return Outcome::Reject("bad payload");
    case 2: return Outcome::Retry("database down", milliseconds(50));
    default: return Outcome::Ack();
  }
}

class OrderingTest : public ClientTest,
                     public ::testing::WithParamInterface<v1::Ordering> {};

// PARTITION, and UNSPECIFIED (an older sidecar) read as PARTITION.
TEST_P(OrderingTest, StopsAtTheFirstRetryAndLeavesTheRestUnsettled) {
  std::mutex mu;
  std::vector<int64_t> handled;
  StartClient([&](const Message& m) {
    std::lock_guard<std::mutex> lock(mu);
    handled.push_back(m.offset());
    return MixedOutcomes(m);
  });
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->SendSubscribed(0, GetParam()));
  ASSERT_TRUE(stream->SendBatch(1, "t", 0, 0, 6));
  std::optional<v1::Settle> settle = stream->NextSettle();
  ASSERT_TRUE(settle);
  ASSERT_EQ(settle->settlements_size(), 3);
  // ACKs and REJECTs before the RETRY: the RETRY rewinds the partition.
  EXPECT_EQ(settle->settlements(0).outcome(), v1::OUTCOME_ACK);
  EXPECT_EQ(Offsets(settle->settlements(0)), (std::vector<int64_t>{0}));
  EXPECT_EQ(settle->settlements(1).outcome(), v1::OUTCOME_REJECT);
  EXPECT_EQ(Offsets(settle->settlements(1)), (std::vector<int64_t>{1}));
  EXPECT_EQ(settle->settlements(1).reason(), "bad payload");
  EXPECT_EQ(settle->settlements(2).outcome(), v1::OUTCOME_RETRY);
  EXPECT_EQ(Offsets(settle->settlements(2)), (std::vector<int64_t>{2}));
  EXPECT_EQ(settle->settlements(2).reason(), "database down");
  EXPECT_EQ(settle->settlements(2).retry_after_ms(), 50u);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(handled, (std::vector<int64_t>{0, 1, 2})) << "nothing after the RETRY is handled";
  }
  EXPECT_EQ(client_->counts().processed.load(), 1u);
  EXPECT_EQ(client_->counts().failed.load(), 1u);
  EXPECT_EQ(client_->counts().retried.load(), 1u) << "the unsettled rest is not retried";
}

INSTANTIATE_TEST_SUITE_P(PartitionAndOlderSidecars, OrderingTest,
                         ::testing::Values(v1::ORDERING_PARTITION, v1::ORDERING_UNSPECIFIED));

// partition_workers > 1: the next batch of the partition is already here
// when a RETRY rewinds the partition.
TEST_F(ClientTest, OrderingPartitionSkipsQueuedBatchesTheRewindTakesBack) {
  Gate queued;
  std::mutex mu;
  std::vector<int64_t> handled;
  StartClient([&](const Message& m) {
    if (m.partition() == 1) {
      queued.Open();
      return Outcome::Ack();
    }
    // Holds the partition until batch 2 is surely queued behind batch 1.
    if (m.offset() == 0 && !queued.Wait()) return Outcome::Retry("gate never opened");
    std::lock_guard<std::mutex> lock(mu);
    handled.push_back(m.offset());
    return m.offset() == 1 && m.delivery_attempt() == 1 ? Outcome::Retry("later")
                                                        : Outcome::Ack();
  });
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->SendSubscribed(0, v1::ORDERING_PARTITION));
  ASSERT_TRUE(stream->SendBatch(1, "t", 0, 0, 3));
  ASSERT_TRUE(stream->SendBatch(2, "t", 0, 3, 3));
  // Received after batch 2, so handling it means batch 2 was dispatched.
  ASSERT_TRUE(stream->SendBatch(3, "t", 1, 0, 1));
  std::set<uint64_t> settled;
  for (int i = 0; i < 2; ++i) {
    std::optional<v1::Settle> settle = stream->NextSettle();
    ASSERT_TRUE(settle);
    for (const auto& s : settle->settlements()) settled.insert(s.batch_id());
  }
  EXPECT_EQ(settled, (std::set<uint64_t>{1, 3}));
  // The redelivery from offset 1, then a batch after it: both handled.
  std::vector<v1::Message> again(2);
  again[0].set_offset(1);
  again[0].set_delivery_attempt(2);
  again[1].set_offset(2);
  again[1].set_delivery_attempt(2);
  ASSERT_TRUE(stream->SendBatch(4, "t", 0, again));
  ASSERT_TRUE(stream->SendBatch(5, "t", 0, 3, 3));
  for (uint64_t expected : {4u, 5u}) {
    std::optional<v1::Settle> settle = stream->NextSettle();
    ASSERT_TRUE(settle);
    EXPECT_EQ(settle->settlements(0).batch_id(), expected);
    EXPECT_EQ(settle->settlements(0).outcome(), v1::OUTCOME_ACK);
  }
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(handled, (std::vector<int64_t>{0, 1, 1, 2, 3, 4, 5}))
      << "batch 2 (offsets 3-5) was handled before the redelivery";
}

// A batch received after the RETRY that starts past the retried offset (it
// was dead-lettered, say) is the sidecar's next delivery, not a stale one.
TEST_F(ClientTest, OrderingPartitionHandlesBatchesSentAfterTheRetry) {
  std::atomic<int> calls{0};
  StartClient([&](const Message& m) {
    ++calls;
    return m.offset() == 0 ? Outcome::Retry("later") : Outcome::Ack();
  });
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->SendSubscribed(0, v1::ORDERING_PARTITION));
  ASSERT_TRUE(stream->SendBatch(1, "t", 0, 0, 2));
  ASSERT_TRUE(stream->NextSettle());
  ASSERT_TRUE(stream->SendBatch(2, "t", 0, 1, 2));
  std::optional<v1::Settle> settle = stream->NextSettle();
  ASSERT_TRUE(settle) << "a batch sent after the RETRY was skipped";
  EXPECT_EQ(settle->settlements(0).batch_id(), 2u);
  EXPECT_EQ(calls.load(), 3);
}

TEST_F(ClientTest, OrderingNoneHandlesEveryMessageAndSettlesEachOnItsOwn) {
  std::atomic<int> calls{0};
  StartClient([&](const Message& m) -> Outcome {
    ++calls;
    switch (m.offset()) {
      case 3: throw std::runtime_error("socket closed");
      case 4: return Outcome::Retry("database down", milliseconds(50));
      case 5: return Outcome::Retry("database down", milliseconds(100));
      default: return MixedOutcomes(m);
    }
  });
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->SendSubscribed(0, v1::ORDERING_NONE));
  ASSERT_TRUE(stream->SendBatch(1, "t", 0, 0, 7));
  std::optional<v1::Settle> settle = stream->NextSettle();
  ASSERT_TRUE(settle);
  EXPECT_EQ(calls.load(), 7);
  ASSERT_EQ(settle->settlements_size(), 5);
  EXPECT_EQ(settle->settlements(0).outcome(), v1::OUTCOME_ACK);
  EXPECT_EQ(Offsets(settle->settlements(0)), (std::vector<int64_t>{0, 6}));
  EXPECT_EQ(settle->settlements(1).outcome(), v1::OUTCOME_REJECT);
  EXPECT_EQ(Offsets(settle->settlements(1)), (std::vector<int64_t>{1}));
  // Same reason and delay share a settlement; a different delay cannot.
  EXPECT_EQ(settle->settlements(2).outcome(), v1::OUTCOME_RETRY);
  EXPECT_EQ(Offsets(settle->settlements(2)), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(settle->settlements(2).retry_after_ms(), 50u);
  EXPECT_EQ(settle->settlements(3).outcome(), v1::OUTCOME_RETRY);
  EXPECT_EQ(Offsets(settle->settlements(3)), (std::vector<int64_t>{3}));
  EXPECT_EQ(settle->settlements(3).reason(), "socket closed");
  EXPECT_EQ(settle->settlements(3).retry_after_ms(), 0u) << "0 = the sidecar's backoff";
  EXPECT_EQ(settle->settlements(4).outcome(), v1::OUTCOME_RETRY);
  EXPECT_EQ(Offsets(settle->settlements(4)), (std::vector<int64_t>{5}));
  EXPECT_EQ(settle->settlements(4).retry_after_ms(), 100u);
  EXPECT_EQ(client_->counts().processed.load(), 2u);
  EXPECT_EQ(client_->counts().failed.load(), 1u);
  EXPECT_EQ(client_->counts().retried.load(), 4u);
}

TEST_F(ClientTest, NullKeyAndTombstoneReachTheHandlerAsNullopt) {
  std::mutex mu;
  std::vector<std::string> seen;
  StartClient([&](const Message& m) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(std::string(m.key() ? "key=" + std::string(*m.key()) : "null-key") + " " +
                   (m.value() ? "value=" + std::string(*m.value()) : "tombstone") +
                   (m.is_tombstone() ? " is_tombstone" : ""));
    return Outcome::Ack();
  });
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->SendSubscribed());
  std::vector<v1::Message> messages(3);
  messages[0].set_offset(0);  // null key, tombstone
  messages[1].set_offset(1);  // empty key, empty value: not null
  messages[1].set_key("");
  messages[1].set_value("");
  messages[2].set_offset(2);
  messages[2].set_key("k");
  messages[2].set_value("v");
  ASSERT_TRUE(stream->SendBatch(1, "t", 0, messages));
  std::optional<v1::Settle> settle = stream->NextSettle();
  ASSERT_TRUE(settle);
  EXPECT_EQ(settle->settlements(0).outcome(), v1::OUTCOME_ACK);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"null-key tombstone is_tombstone", "key= value=",
                                            "key=k value=v"}));
}

TEST_F(ClientTest, LogsAPartitionPauseAndIgnoresResponsesItDoesNotKnow) {
  std::mutex mu;
  std::vector<std::string> lines;
  Options options = TestOptions();
  options.log = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(line);
  };
  StartClient([](const Message&) { return Outcome::Ack(); }, options);
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->SendSubscribed());
  ASSERT_TRUE(stream->SendPaused("orders", 2, "error threshold: 10 errors within 60000 ms", 30000));
  // No response kind set: what a newer sidecar's kind looks like to this one.
  ASSERT_TRUE(stream->Send(v1::ConsumeResponse()));
  ASSERT_TRUE(stream->SendBatch(1, "orders", 0, 0, 1));
  std::optional<v1::Settle> settle = stream->NextSettle();
  ASSERT_TRUE(settle) << "the stream did not survive the pause or the unknown response";
  EXPECT_EQ(sidecar_.streams_opened(), 1);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(std::count(lines.begin(), lines.end(),
                       "kafka-sidecar paused orders/2 for 30000 ms: "
                       "error threshold: 10 errors within 60000 ms"),
            1);
}

TEST_F(ClientTest, AnEmptyHandlerNameComesFromTheEnvironment) {
  ASSERT_EQ(::setenv("HANDLER_NAME", "from-env", 1), 0);
  Options options = TestOptions();
  options.handler_name.clear();
  // The name is settled when the Client is made.
  StartClient([](const Message&) { return Outcome::Ack(); }, options);
  ::unsetenv("HANDLER_NAME");
  std::shared_ptr<FakeStream> stream = sidecar_.NextStream();
  ASSERT_NE(stream, nullptr);
  std::optional<v1::ConsumeRequest> subscribe = stream->Next();
  ASSERT_TRUE(subscribe && subscribe->has_subscribe());
  EXPECT_EQ(subscribe->subscribe().handler_name(), "from-env");
}

TEST(EnvTest, DefaultsWhenUnsetOrEmpty) {
  ::unsetenv("SIDECAR_ADDRESS");
  ::unsetenv("HANDLER_NAME");
  EXPECT_EQ(SidecarAddressFromEnv(), "127.0.0.1:50051");
  EXPECT_EQ(HandlerNameFromEnv(), "cpp-handler");
  EXPECT_EQ(HandlerNameFromEnv("cpp-example"), "cpp-example");
  ASSERT_EQ(::setenv("SIDECAR_ADDRESS", "", 1), 0);
  EXPECT_EQ(SidecarAddressFromEnv(), "127.0.0.1:50051");
  ASSERT_EQ(::setenv("SIDECAR_ADDRESS", "unix:/run/sidecar.sock", 1), 0);
  EXPECT_EQ(SidecarAddressFromEnv(), "unix:/run/sidecar.sock");
  ::unsetenv("SIDECAR_ADDRESS");
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
    return Outcome::Ack();
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
        return Outcome::Ack();
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
    return Outcome::Ack();
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
  StartClient([](const Message&) { return Outcome::Ack(); });
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
    return AckWhen(release);
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
    return AckWhen(release);
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
  StartClient([&](const Message&) { return AckWhen(release); });
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
