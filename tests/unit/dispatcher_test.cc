// DispatcherImpl driven by RunOnce: no thread, no Kafka, a fake clock.
#include "sidecar/dispatch/dispatcher_impl.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/time.h"
#include "sidecar/dispatch/batch_id.h"
#include "sidecar/stream/stream_session.h"
#include "sidecar/stream/stream_writer.h"

namespace kafka_sidecar {
namespace {

using ::testing::_;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::InSequence;
using ::testing::IsEmpty;
using ::testing::Return;
using ::testing::StrictMock;

constexpr int kIndex = 3;

class FakeClock : public Clock {
 public:
  MonoTime Now() const override { return now_; }
  void Advance(Millis d) { now_ += d; }

 private:
  MonoTime now_ = MonoTime{} + std::chrono::hours(1);
};

// Jitter factor 1.0: backoffs are exactly base × 2^(n-1).
class FixedRandom : public Random {
 public:
  double Uniform() override { return 0.5; }
};

// Hands out the records queued on it; never blocks.
class FakeQueue : public DispatchQueue {
 public:
  void Consume(std::chrono::milliseconds timeout, size_t max,
               std::vector<FetchedRecord>* out) override {
    timeouts.push_back(timeout);
    while (max-- > 0 && !records.empty()) {
      out->push_back(std::move(records.front()));
      records.pop_front();
    }
  }
  void Wake() override { ++wakes; }

  std::deque<FetchedRecord> records;
  std::vector<std::chrono::milliseconds> timeouts;
  int wakes = 0;
};

class MockPartitionControl : public PartitionControl {
 public:
  MOCK_METHOD(absl::Status, StoreOffset, (const TopicPartition& tp, int64_t next_offset),
              (override));
  MOCK_METHOD(absl::Status, Pause, (const TopicPartition& tp), (override));
  MOCK_METHOD(absl::Status, Resume, (const TopicPartition& tp), (override));
};

// Captures every response the session asks it to write; the test completes
// writes with Complete().
class CapturingWriter : public StreamWriter {
 public:
  void StartWrite(const v1::ConsumeResponse* response) override {
    EXPECT_FALSE(outstanding) << "two writes outstanding";
    written.push_back(*response);
    outstanding = true;
  }
  void Finish(const grpc::Status&) override { finished = true; }

  std::vector<v1::ConsumeResponse> written;
  bool outstanding = false;
  bool finished = false;
};

struct Handler {
  CapturingWriter writer;
  std::shared_ptr<StreamSession> session;

  // Completes every write (queued ones start as earlier ones complete) and
  // returns the batches written since the last call.
  std::vector<v1::Batch> TakeBatches() {
    while (writer.outstanding) {
      writer.outstanding = false;
      session->OnWriteDone(true);
    }
    std::vector<v1::Batch> out;
    for (const auto& r : writer.written) {
      EXPECT_TRUE(r.has_batch());
      out.push_back(r.batch());
    }
    writer.written.clear();
    return out;
  }
};

std::vector<int64_t> Offsets(const v1::Batch& b) {
  std::vector<int64_t> out;
  for (const auto& m : b.messages()) out.push_back(m.offset());
  return out;
}
std::vector<uint32_t> Attempts(const v1::Batch& b) {
  std::vector<uint32_t> out;
  for (const auto& m : b.messages()) out.push_back(m.delivery_attempt());
  return out;
}

v1::Settlement Ack(uint64_t batch_id, std::vector<int64_t> offsets = {}) {
  v1::Settlement s;
  s.set_batch_id(batch_id);
  s.set_outcome(v1::OUTCOME_ACK);
  for (int64_t o : offsets) s.add_offsets(o);
  return s;
}

DispatcherOptions Options(size_t batch_size, Millis batch_timeout, size_t partition_workers) {
  DispatcherOptions o;
  o.batch_size = batch_size;
  o.batch_timeout = batch_timeout;
  o.partition_workers = partition_workers;
  return o;
}
template <typename Fn>
DispatcherOptions Options(size_t batch_size, Millis batch_timeout, size_t partition_workers,
                          Fn more) {
  DispatcherOptions o = Options(batch_size, batch_timeout, partition_workers);
  more(o);
  return o;
}

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : stats_(clock_) {}

  void Make(DispatcherOptions o) {
    o.index = kIndex;
    dispatcher_ =
        std::make_unique<DispatcherImpl>(o, &queue_, &control_, &stats_, clock_, &random_);
  }

  std::unique_ptr<Handler> Connect(const std::string& id, uint32_t max_in_flight = 1000) {
    auto h = std::make_unique<Handler>();
    h->session = std::make_shared<StreamSession>(id, &h->writer, clock_.Now());
    StreamOptions o;
    o.handler_name = "test-" + id;
    o.max_in_flight_messages = max_in_flight;
    o.max_in_flight_bytes = 1 << 20;
    o.max_batch_messages = 1000;
    h->session->Subscribe(o);
    return h;
  }

  // Queues records [from, to) of tp_ (or of partition `partition` of the
  // same topic) for the next Consume.
  void Feed(int64_t from, int64_t to) { Feed(tp_.partition, from, to); }
  void Feed(int32_t partition, int64_t from, int64_t to) {
    for (int64_t o = from; o < to; ++o) {
      storage_.push_back("value-" + std::to_string(o));
      FetchedRecord f;
      f.topic = topic_;
      f.partition = partition;
      f.record.offset = o;
      f.record.timestamp_ms = 1000 + o;
      f.record.has_value = true;
      f.record.value = storage_.back();
      queue_.records.push_back(std::move(f));
    }
  }

  void Run() { dispatcher_->RunOnce(Millis(0)); }

  uint64_t Stale() const {
    v1::GetStatsResponse r;
    stats_.Fill(&r);
    return r.stale_settlements();
  }

  const std::string topic_ = "orders";
  const TopicPartition tp_{"orders", 7};
  FakeClock clock_;
  FakeQueue queue_;
  StrictMock<MockPartitionControl> control_;
  SidecarStats stats_;
  std::deque<std::string> storage_;
  FixedRandom random_;
  std::unique_ptr<DispatcherImpl> dispatcher_;
};

TEST_F(DispatcherTest, DeliversBatchesInOffsetOrderRespectingBatchSize) {
  Make(Options(3, Millis(5), 2));
  auto h = Connect("s1");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Feed(10, 15);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 10));  // nothing settled yet
  Run();

  const std::vector<v1::Batch> batches = h->TakeBatches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_THAT(Offsets(batches[0]), ElementsAre(10, 11, 12));
  EXPECT_THAT(Offsets(batches[1]), ElementsAre(13, 14));
  for (const v1::Batch& b : batches) {
    EXPECT_EQ(b.topic(), "orders");
    EXPECT_EQ(b.partition(), 7);
    EXPECT_EQ(DispatcherOfBatch(b.batch_id()), kIndex);
    EXPECT_THAT(Attempts(b), ::testing::Each(1u));
  }
  EXPECT_NE(batches[0].batch_id(), batches[1].batch_id());
  EXPECT_EQ(batches[0].messages(1).value(), "value-11");
  EXPECT_EQ(batches[0].messages(1).timestamp_ms(), 1011);
  EXPECT_FALSE(batches[0].messages(1).has_key());
  EXPECT_EQ(h->session->delivered.load(), 5u);
  EXPECT_EQ(h->session->in_flight_messages(), 5u);
  EXPECT_EQ(stats_.in_flight(), 5);
  EXPECT_EQ(dispatcher_->partition_count(), 1u);

  // Nothing more to send.
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
}

TEST_F(DispatcherTest, OneWorkerMeansOneBatchInFlightPerPartition) {
  Make(Options(2, Millis(5), 1));
  auto h = Connect("s1");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Feed(0, 5);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  std::vector<v1::Batch> batches = h->TakeBatches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_THAT(Offsets(batches[0]), ElementsAre(0, 1));

  // However long we wait, the second batch waits for the first's settlement.
  clock_.Advance(Millis(1000));
  Run();
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());

  // Partly settled is not enough.
  dispatcher_->Post(cmd::Settle{"s1", {Ack(batches[0].batch_id(), {1})}});
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 2));
  dispatcher_->Post(cmd::Settle{"s1", {Ack(batches[0].batch_id(), {0})}});
  Run();
  batches = h->TakeBatches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_THAT(Offsets(batches[0]), ElementsAre(2, 3));
}

TEST_F(DispatcherTest, PartialBatchWaitsForBatchTimeoutWhileTheQueueIsNotDrained) {
  Make(Options(10, Millis(5), 1, [](DispatcherOptions& o) { o.consume_batch = 2; }));
  auto h = Connect("s1");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});

  // Each loop reads a full consume_batch, so the queue never looks drained.
  Feed(0, 2);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());

  clock_.Advance(Millis(4));
  Feed(2, 4);
  dispatcher_->RunOnce(Millis(100));  // may wait, but only until the batch is due
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  // The loop waited only until the batch deadline (5 ms after the first
  // record arrived, 1 ms from now).
  ASSERT_FALSE(queue_.timeouts.empty());
  EXPECT_EQ(queue_.timeouts.back().count(), 1);

  clock_.Advance(Millis(1));
  Feed(4, 6);
  Run();
  const std::vector<v1::Batch> batches = h->TakeBatches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_THAT(Offsets(batches[0]), ElementsAre(0, 1, 2, 3, 4, 5));
}

TEST_F(DispatcherTest, DrainedQueueSendsAPartialBatchAtOnce) {
  Make(Options(10, Millis(1000), 1, [](DispatcherOptions& o) { o.consume_batch = 100; }));
  auto h = Connect("s1");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Feed(0, 3);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  const std::vector<v1::Batch> batches = h->TakeBatches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_THAT(Offsets(batches[0]), ElementsAre(0, 1, 2));
}

TEST_F(DispatcherTest, SettlementsStoreTheWatermark) {
  Make(Options(10, Millis(5), 1));
  auto h = Connect("s1");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Feed(100, 105);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 100));
  Run();
  const std::vector<v1::Batch> batches = h->TakeBatches();
  ASSERT_EQ(batches.size(), 1u);
  const uint64_t id = batches[0].batch_id();
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  {
    InSequence s;
    // Out of order: 101 and 103 settled, 100 not yet: nothing to store.
    EXPECT_CALL(control_, StoreOffset(Eq(tp_), 102));
    EXPECT_CALL(control_, StoreOffset(Eq(tp_), 105));
  }
  dispatcher_->Post(cmd::Settle{"s1", {Ack(id, {101, 103})}});
  Run();
  dispatcher_->Post(cmd::Settle{"s1", {Ack(id, {100})}});
  Run();  // -> 102
  // A stale settlement (wrong stream) moves nothing.
  dispatcher_->Post(cmd::Settle{"intruder", {Ack(id)}});
  Run();
  EXPECT_EQ(Stale(), 1u);
  dispatcher_->Post(cmd::Settle{"s1", {Ack(id)}});
  Run();  // -> 105
  EXPECT_EQ(stats_.processed(), 5u);
  EXPECT_EQ(stats_.in_flight(), 0);
  EXPECT_EQ(h->session->in_flight_messages(), 0u);
  EXPECT_EQ(h->session->processed.load(), 5u);

  // Settling a finished batch again is stale and stores nothing.
  dispatcher_->Post(cmd::Settle{"s1", {Ack(id)}});
  Run();
  EXPECT_EQ(Stale(), 2u);
}

TEST_F(DispatcherTest, PausesFetchWhenTooMuchIsPendingAndResumesOnceDelivered) {
  Make(Options(100, Millis(5), 1, [](DispatcherOptions& o) { o.max_pending_messages = 4; }));
  dispatcher_->Post(cmd::Assign{tp_});
  // No stream bound yet: everything stays pending.
  Feed(0, 3);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();  // 3 pending: below the limit, no Pause
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  Feed(3, 6);
  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  Run();  // 6 pending > 4
  Run();  // paused once, not again
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  auto h = Connect("s1");
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  EXPECT_CALL(control_, Resume(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  Run();
  const std::vector<v1::Batch> batches = h->TakeBatches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_THAT(Offsets(batches[0]), ElementsAre(0, 1, 2, 3, 4, 5));
}

TEST_F(DispatcherTest, FailedPauseIsRetriedOnTheNextLoop) {
  Make(Options(100, Millis(5), 1, [](DispatcherOptions& o) { o.max_pending_messages = 2; }));
  dispatcher_->Post(cmd::Assign{tp_});
  Feed(0, 5);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  {
    InSequence s;
    EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::InternalError("boom")));
    EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  }
  Run();
  Run();
  Run();
}

TEST_F(DispatcherTest, ClosedStreamsMessagesAreRedeliveredWithTheNextAttempt) {
  Make(Options(3, Millis(5), 1));
  auto h1 = Connect("s1");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h1->session});
  Feed(0, 5);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  std::vector<v1::Batch> first = h1->TakeBatches();
  ASSERT_EQ(first.size(), 1u);
  ASSERT_THAT(Offsets(first[0]), ElementsAre(0, 1, 2));
  const uint64_t old_id = first[0].batch_id();

  // 1 is ACKed, then the handler dies holding 0 and 2.
  dispatcher_->Post(cmd::Settle{"s1", {Ack(old_id, {1})}});
  Run();
  h1->session->Detach();
  dispatcher_->Post(cmd::StreamClosed{"s1"});
  Run();
  EXPECT_EQ(stats_.in_flight(), 0);

  // Nothing goes anywhere until a stream is bound again.
  clock_.Advance(Millis(100));
  Run();

  auto h2 = Connect("s2");
  dispatcher_->Post(cmd::Bind{tp_, h2->session});
  Run();
  std::vector<v1::Batch> again = h2->TakeBatches();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0].batch_id(), old_id);  // a redelivery gets a new batch id
  EXPECT_THAT(Offsets(again[0]), ElementsAre(0, 2, 3));
  EXPECT_THAT(Attempts(again[0]), ElementsAre(2u, 2u, 1u));

  // The dead stream's late settlement is stale.
  dispatcher_->Post(cmd::Settle{"s1", {Ack(old_id)}});
  Run();
  EXPECT_EQ(Stale(), 1u);

  // The new stream's ACK moves the commit past the already-ACKed 1.
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 4));
  dispatcher_->Post(cmd::Settle{"s2", {Ack(again[0].batch_id())}});
  Run();
  std::vector<v1::Batch> rest = h2->TakeBatches();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_THAT(Offsets(rest[0]), ElementsAre(4));
  EXPECT_THAT(Attempts(rest[0]), ElementsAre(1u));
}

TEST_F(DispatcherTest, RebindWaitsForInFlightSettlements) {
  Make(Options(2, Millis(5), 1));
  auto h1 = Connect("s1");
  auto h2 = Connect("s2");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h1->session});
  Feed(0, 4);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  std::vector<v1::Batch> b1 = h1->TakeBatches();
  ASSERT_EQ(b1.size(), 1u);

  dispatcher_->Post(cmd::Bind{tp_, h2->session});
  Run();
  EXPECT_THAT(h1->TakeBatches(), IsEmpty());
  EXPECT_THAT(h2->TakeBatches(), IsEmpty());  // s1 still holds 0, 1

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 2));
  dispatcher_->Post(cmd::Settle{"s1", {Ack(b1[0].batch_id())}});
  Run();
  EXPECT_THAT(h1->TakeBatches(), IsEmpty());
  std::vector<v1::Batch> b2 = h2->TakeBatches();
  ASSERT_EQ(b2.size(), 1u);
  EXPECT_THAT(Offsets(b2[0]), ElementsAre(2, 3));
}

TEST_F(DispatcherTest, StreamWindowLimitsWhatIsInFlight) {
  Make(Options(10, Millis(5), 4));
  auto h = Connect("s1", /*max_in_flight=*/3);
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Feed(0, 5);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(0, 1, 2));
  const int wakes = queue_.wakes;

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  dispatcher_->Post(cmd::Settle{"s1", {Ack(b[0].batch_id(), {0})}});
  Run();
  EXPECT_GT(queue_.wakes, wakes);  // the released window woke the dispatcher
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(3));
  EXPECT_EQ(h->session->in_flight_messages(), 3u);
}

// A partition that cannot send because its stream's window is full has
// registered the dispatcher as a window waiter: the loop must sleep until
// woken (or until something else is due), not spin.
TEST_F(DispatcherTest, LoopSleepsWhileBlockedOnAFullStreamWindow) {
  Make(Options(3, Millis(5), 1));
  auto h = Connect("s1", /*max_in_flight=*/3);
  const TopicPartition tp8{"orders", 8};
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Assign{tp8});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  dispatcher_->Post(cmd::Bind{tp8, h->session});
  Feed(7, 0, 3);
  Feed(8, 0, 3);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  EXPECT_CALL(control_, StoreOffset(Eq(tp8), 0));
  Run();
  ASSERT_EQ(h->TakeBatches().size(), 1u);  // one partition filled the window
  ASSERT_EQ(h->session->in_flight_messages(), 3u);

  clock_.Advance(Millis(10));  // the other partition's batch is overdue
  dispatcher_->RunOnce(Millis(100));
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  ASSERT_FALSE(queue_.timeouts.empty());
  EXPECT_EQ(queue_.timeouts.back().count(), 100) << "the dispatcher loop busy-waits";
}

// Likewise while a revoke waits for settlements: the partition delivers
// nothing, so its pending records set no deadline.
TEST_F(DispatcherTest, LoopSleepsWhileARevokeWaits) {
  // ordering: none, so the retry of the first batch leaves the second in
  // flight (a rewind would take it back).
  Make(Options(2, Millis(5), 2, [](DispatcherOptions& o) { o.ordering = OrderingMode::kNone; }));
  auto h = Connect("s1");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Feed(0, 4);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 2u);

  auto result = std::make_shared<RevokeResult>(1);
  dispatcher_->Post(cmd::Revoke{tp_, result, Millis(1000)});
  v1::Settlement retry;
  retry.set_batch_id(b[0].batch_id());
  retry.set_outcome(v1::OUTCOME_RETRY);
  dispatcher_->Post(cmd::Settle{"s1", {retry}});
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  ASSERT_FALSE(result->WaitFor(absl::ZeroDuration()));

  clock_.Advance(Millis(10));
  dispatcher_->RunOnce(Millis(100));
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  EXPECT_EQ(queue_.timeouts.back().count(), 100) << "the dispatcher loop busy-waits";
}

TEST_F(DispatcherTest, RevokeWithoutWaitReportsTheWatermark) {
  Make(Options(3, Millis(5), 1));
  auto h = Connect("s1");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Feed(0, 5);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  dispatcher_->Post(cmd::Settle{"s1", {Ack(b[0].batch_id(), {0})}});
  Run();

  auto result = std::make_shared<RevokeResult>(1);
  dispatcher_->Post(cmd::Revoke{tp_, result, Millis(0)});
  Run();
  ASSERT_TRUE(result->WaitFor(absl::ZeroDuration()));
  const auto offsets = result->offsets();
  ASSERT_EQ(offsets.size(), 1u);
  EXPECT_EQ(offsets[0].first, tp_);
  EXPECT_EQ(offsets[0].second, std::optional<int64_t>(1));
  EXPECT_EQ(dispatcher_->partition_count(), 0u);
  EXPECT_EQ(h->session->in_flight_messages(), 0u);  // window given back
  EXPECT_EQ(stats_.in_flight(), 0);

  // The partition is gone: late settlements are stale, records are dropped.
  dispatcher_->Post(cmd::Settle{"s1", {Ack(b[0].batch_id())}});
  Feed(5, 6);
  Run();
  EXPECT_EQ(Stale(), 1u);
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
}

TEST_F(DispatcherTest, RevokeWaitsForSettlementsUntilItsDeadline) {
  Make(Options(3, Millis(5), 1));
  auto h = Connect("s1");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Feed(0, 5);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);

  auto result = std::make_shared<RevokeResult>(1);
  dispatcher_->Post(cmd::Revoke{tp_, result, Millis(50)});
  Run();
  EXPECT_FALSE(result->WaitFor(absl::ZeroDuration()));
  EXPECT_THAT(h->TakeBatches(), IsEmpty());  // nothing new while revoking

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 3));
  dispatcher_->Post(cmd::Settle{"s1", {Ack(b[0].batch_id())}});
  Run();
  ASSERT_TRUE(result->WaitFor(absl::ZeroDuration()));
  EXPECT_EQ(result->offsets()[0].second, std::optional<int64_t>(3));
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
}

TEST_F(DispatcherTest, RevokeGivesUpAtItsDeadline) {
  Make(Options(3, Millis(5), 1));
  auto h = Connect("s1");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Feed(0, 5);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  ASSERT_EQ(h->TakeBatches().size(), 1u);

  auto result = std::make_shared<RevokeResult>(1);
  dispatcher_->Post(cmd::Revoke{tp_, result, Millis(50)});
  Run();
  EXPECT_FALSE(result->WaitFor(absl::ZeroDuration()));
  clock_.Advance(Millis(49));
  Run();
  EXPECT_FALSE(result->WaitFor(absl::ZeroDuration()));
  clock_.Advance(Millis(1));
  Run();
  ASSERT_TRUE(result->WaitFor(absl::ZeroDuration()));
  EXPECT_EQ(result->offsets()[0].second, std::optional<int64_t>(0));
  EXPECT_EQ(h->session->in_flight_messages(), 0u);
}

TEST_F(DispatcherTest, RevokeOfAnUnknownPartitionAnswersAtOnce) {
  Make(DispatcherOptions{});
  auto result = std::make_shared<RevokeResult>(1);
  dispatcher_->Post(cmd::Revoke{tp_, result, Millis(1000)});
  Run();
  ASSERT_TRUE(result->WaitFor(absl::ZeroDuration()));
  EXPECT_EQ(result->offsets()[0].second, std::nullopt);
}

TEST_F(DispatcherTest, RecordsOfUnassignedPartitionsAreDropped) {
  Make(DispatcherOptions{});
  auto h = Connect("s1");
  Feed(0, 3);  // tp_ was never assigned
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
}

}  // namespace
}  // namespace kafka_sidecar
