// DispatcherImpl driven by RunOnce: no thread, no Kafka, a fake clock.
#include "sidecar/dispatch/dispatcher_impl.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <limits>
#include <stdexcept>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sidecar/deadletter/dead_letter_producer.h"
#include "sidecar/dispatch/batch_id.h"
#include "sidecar/stream/stream_session.h"
#include "tests/support/fake_clock.h"
#include "sidecar/stream/stream_writer.h"

namespace kafka_sidecar {

// Readable gMock failure messages (found by argument-dependent lookup).
static void PrintTo(const TopicPartition& tp, std::ostream* os) { *os << tp.ToString(); }
static void PrintTo(const Record& r, std::ostream* os) {
  *os << "Record{offset " << r.offset << ", value \"" << r.value << "\"}";
}
static void PrintTo(const DeadLetterInfo& i, std::ostream* os) {
  *os << "DeadLetterInfo{" << i.source.ToString() << ", attempts " << i.attempts << ", reason \""
      << i.reason << "\"}";
}

namespace {

using ::testing::_;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::InSequence;
using ::testing::Optional;
using ::testing::IsEmpty;
using ::testing::Return;
using ::testing::SaveArg;
using ::testing::StrictMock;

constexpr int kIndex = 3;

// Jitter factor 1.0 by default: backoffs are exactly base × 2^(n-1).
class FixedRandom : public Random {
 public:
  double Uniform() override { return value; }
  double value = 0.5;
};

// Hands out the records queued on it; never blocks.
class FakeQueue : public DispatchQueue {
 public:
  // Idle when it hands out fewer than `max`: as if the records arrived
  // while the dispatcher waited.
  bool Consume(std::chrono::milliseconds timeout, size_t max,
               std::vector<FetchedRecord>* out) override {
    timeouts.push_back(timeout);
    if (throw_next) {
      throw_next = false;
      throw std::runtime_error("boom");
    }
    size_t handed = 0;
    while (handed < max && !records.empty()) {
      out->push_back(std::move(records.front()));
      records.pop_front();
      ++handed;
    }
    if (throw_after_handing) {
      throw_after_handing = false;
      throw std::runtime_error("boom after handing out records");
    }
    return handed < max;
  }
  void Wake() override { ++wakes; }

  std::deque<FetchedRecord> records;
  std::vector<std::chrono::milliseconds> timeouts;
  int wakes = 0;
  bool throw_next = false;
  // Throws once the records are in `out`: taken from Kafka, never ingested.
  bool throw_after_handing = false;
};

class MockPartitionControl : public PartitionControl {
 public:
  MOCK_METHOD(absl::Status, StoreOffset, (const TopicPartition& tp, int64_t next_offset),
              (override));
  MOCK_METHOD(absl::Status, Pause, (const TopicPartition& tp), (override));
  MOCK_METHOD(absl::Status, Resume, (const TopicPartition& tp, std::optional<int64_t> from),
              (override));
};

class MockDeadLetterProducer : public DeadLetterProducer {
 public:
  MOCK_METHOD(void, Produce, (const Record& record, const DeadLetterInfo& info, Done done),
              (override));
  MOCK_METHOD(absl::Status, Flush, (std::chrono::milliseconds timeout), (override));
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
  // PartitionPaused notices, collected by TakeBatches.
  std::vector<v1::PartitionPaused> paused;

  // Completes every write (queued ones start as earlier ones complete) and
  // returns the batches written since the last call.
  std::vector<v1::Batch> TakeBatches() {
    while (writer.outstanding) {
      writer.outstanding = false;
      session->OnWriteDone(true);
    }
    std::vector<v1::Batch> out;
    for (const auto& r : writer.written) {
      if (r.has_paused()) {
        paused.push_back(r.paused());
        continue;
      }
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

v1::Settlement RetryOf(uint64_t batch_id, std::vector<int64_t> offsets = {},
                       uint32_t retry_after_ms = 0, const std::string& reason = "") {
  v1::Settlement s;
  s.set_batch_id(batch_id);
  s.set_outcome(v1::OUTCOME_RETRY);
  for (int64_t o : offsets) s.add_offsets(o);
  s.set_retry_after_ms(retry_after_ms);
  s.set_reason(reason);
  return s;
}

v1::Settlement RejectOf(uint64_t batch_id, std::vector<int64_t> offsets = {},
                        const std::string& reason = "") {
  v1::Settlement s;
  s.set_batch_id(batch_id);
  s.set_outcome(v1::OUTCOME_REJECT);
  for (int64_t o : offsets) s.add_offsets(o);
  s.set_reason(reason);
  return s;
}

// The record at `offset` as the fixture feeds it.
auto IsRecord(int64_t offset) {
  return AllOf(Field(&Record::offset, offset),
               Field(&Record::value, Eq("value-" + std::to_string(offset))));
}

template <typename ReasonMatcher>
auto IsInfo(const TopicPartition& tp, uint32_t attempts, ReasonMatcher reason) {
  return AllOf(Field(&DeadLetterInfo::source, Eq(tp)),
               Field(&DeadLetterInfo::attempts, attempts),
               Field(&DeadLetterInfo::reason, reason));
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

  v1::GetStatsResponse Stats() const {
    v1::GetStatsResponse r;
    stats_.Fill(&r);
    return r;
  }

  // The partition's stats as last published. The dispatcher publishes at
  // most every 100 ms: advance the clock by that much and run first.
  v1::PartitionStats Published(const TopicPartition& tp) const {
    for (const v1::PartitionStats& s : dispatcher_->PartitionStatsSnapshot()) {
      if (s.topic() == tp.topic && s.partition() == tp.partition) return s;
    }
    ADD_FAILURE() << "no published stats for " << tp.ToString();
    return {};
  }

  // Assigns tp_, binds it to a new stream "s1", feeds [from, to) and runs
  // once (expecting the first StoreOffset). Returns the handler.
  std::unique_ptr<Handler> StartWith(int64_t from, int64_t to) {
    auto h = Connect("s1");
    dispatcher_->Post(cmd::Assign{tp_});
    dispatcher_->Post(cmd::Bind{tp_, h->session});
    Feed(from, to);
    EXPECT_CALL(control_, StoreOffset(Eq(tp_), from));
    Run();
    ::testing::Mock::VerifyAndClearExpectations(&control_);
    return h;
  }

  // Settles on "s1" and runs once.
  void Settle(std::vector<v1::Settlement> settlements) {
    dispatcher_->Post(cmd::Settle{"s1", std::move(settlements)});
    Run();
  }

  // RETRYs every message of `batch` (on "s1") and expects it back in one
  // new batch exactly `wait` later, not a millisecond sooner.
  v1::Batch RetryAndWait(Handler& h, const v1::Batch& batch, Millis wait) {
    Settle({RetryOf(batch.batch_id())});
    EXPECT_THAT(h.TakeBatches(), IsEmpty()) << "redelivered before its backoff";
    clock_.Advance(wait - Millis(1));
    Run();
    EXPECT_THAT(h.TakeBatches(), IsEmpty()) << "redelivered before its backoff";
    clock_.Advance(Millis(1));
    Run();
    std::vector<v1::Batch> again = h.TakeBatches();
    if (again.size() != 1) {
      ADD_FAILURE() << "expected one redelivered batch, got " << again.size();
      return {};
    }
    EXPECT_NE(again[0].batch_id(), batch.batch_id());
    EXPECT_THAT(Offsets(again[0]), ::testing::ElementsAreArray(Offsets(batch)));
    return again[0];
  }

  // Expects one Produce of the record at `offset` and keeps its `done`.
  template <typename InfoMatcher>
  void ExpectDeadLetter(int64_t offset, InfoMatcher info, DeadLetterProducer::Done* done) {
    EXPECT_CALL(dead_letters_, Produce(IsRecord(offset), info, _)).WillOnce(SaveArg<2>(done));
  }

  const std::string topic_ = "orders";
  const TopicPartition tp_{"orders", 7};
  FakeClock clock_;
  FakeQueue queue_;
  StrictMock<MockPartitionControl> control_;
  SidecarStats stats_;
  std::deque<std::string> storage_;
  FixedRandom random_;
  StrictMock<MockDeadLetterProducer> dead_letters_;
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
  // Fetching restarts right after the last record received (5), whatever
  // librdkafka's own position says.
  EXPECT_CALL(control_, Resume(Eq(tp_), ::testing::Optional(6))).WillOnce(Return(absl::OkStatus()));
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

  const v1::GetStatsResponse st = Stats();
  EXPECT_EQ(st.messages_delivered(), 7u);
  EXPECT_EQ(st.messages_first_delivered(), 5u);
  EXPECT_EQ(st.redeliveries().stream_lost(), 2u);
  EXPECT_EQ(st.redeliveries().retry(), 0u);
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
  // Its next owner delivers the three again; they are counted here.
  EXPECT_EQ(Stats().redeliveries().rebalance(), 3u);
  EXPECT_EQ(Stats().messages_first_delivered(), 3u);
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


// ---------------------------------------------------------------------------
// SPEC §3 delivery semantics: retries, dead letters, ack timeouts, pausing.
// Unless a test says otherwise: backoff 100 ms × 2^(n-1) (jitter × 1.0), cap
// 10 s, max_retries 3, ack timeout 30 s, no error threshold, dead-letter
// produce retried after 500 ms.

template <typename Fn>
DispatcherOptions Semantics(size_t batch_size, size_t partition_workers, Fn more) {
  DispatcherOptions o = Options(batch_size, Millis(5), partition_workers);
  o.retry_backoff = Millis(100);
  o.retry_backoff_max = Millis(10000);
  o.max_retries = 3;
  o.ack_timeout = Millis(30000);
  o.throttle.threshold = 0;
  o.dead_letter_retry = Millis(500);
  more(o);
  return o;
}
DispatcherOptions Semantics(size_t batch_size, size_t partition_workers) {
  return Semantics(batch_size, partition_workers, [](DispatcherOptions&) {});
}

// 3 errors within 10 s pause the partition for 5 s.
void Threshold3(DispatcherOptions& o) {
  o.throttle.threshold = 3;
  o.throttle.window = Millis(10000);
  o.throttle.pause = Millis(5000);
  o.throttle.max_doublings = 5;
}

const std::string kPartitionKey = "orders/7";

class DispatcherRetryTest : public DispatcherTest {};

TEST_F(DispatcherRetryTest, PartitionOrderingRewindsToTheRetriedOffsetAfterItsBackoff) {
  Make(Semantics(3, 2));
  auto h = StartWith(0, 8);
  std::vector<v1::Batch> first = h->TakeBatches();
  ASSERT_EQ(first.size(), 2u);
  ASSERT_THAT(Offsets(first[0]), ElementsAre(0, 1, 2));
  ASSERT_THAT(Offsets(first[1]), ElementsAre(3, 4, 5));
  const uint64_t a = first[0].batch_id();
  const uint64_t b = first[1].batch_id();

  // 0 and 4 ACKed, 1 retried: the unsettled 2, 3 and 5 are taken back.
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  Settle({Ack(a, {0}), Ack(b, {4}), RetryOf(a, {1})});
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  EXPECT_EQ(h->session->in_flight_messages(), 0u);  // windows given back
  EXPECT_EQ(stats_.in_flight(), 0);
  EXPECT_EQ(Stats().messages_retried(), 1u);
  EXPECT_EQ(Stale(), 0u);

  // Settlements of the cancelled deliveries are stale and move nothing.
  Settle({Ack(b, {3, 5}), Ack(a, {2})});
  EXPECT_EQ(Stale(), 3u);

  // Nothing goes out before the backoff, not even records fetched since.
  Feed(8, 9);
  clock_.Advance(Millis(99));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());

  clock_.Advance(Millis(1));
  Run();
  std::vector<v1::Batch> again = h->TakeBatches();
  ASSERT_EQ(again.size(), 2u);
  EXPECT_THAT(Offsets(again[0]), ElementsAre(1, 2, 3));
  EXPECT_THAT(Attempts(again[0]), ElementsAre(2u, 2u, 2u));
  EXPECT_THAT(Offsets(again[1]), ElementsAre(5, 6, 7));  // 4 was ACKed: skipped
  EXPECT_THAT(Attempts(again[1]), ElementsAre(2u, 1u, 1u));
  for (const v1::Batch& batch : again) {
    EXPECT_NE(batch.batch_id(), a);
    EXPECT_NE(batch.batch_id(), b);
  }
  EXPECT_NE(again[0].batch_id(), again[1].batch_id());

  // Everything after 1 ACKed: the commit still waits for 1 (StrictMock:
  // no StoreOffset) ...
  Settle({Ack(again[0].batch_id(), {2, 3}), Ack(again[1].batch_id())});
  std::vector<v1::Batch> rest = h->TakeBatches();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_THAT(Offsets(rest[0]), ElementsAre(8));
  EXPECT_THAT(Attempts(rest[0]), ElementsAre(1u));
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  // ... and moves past everything settled once 1 is ACKed.
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 8));
  Settle({Ack(again[0].batch_id(), {1})});
  EXPECT_EQ(Stale(), 3u);

  // One RETRY made four redeliveries: itself and the three rewound.
  const v1::GetStatsResponse st = Stats();
  EXPECT_EQ(st.messages_first_delivered(), 9u);
  EXPECT_EQ(st.redeliveries().retry(), 1u);
  EXPECT_EQ(st.redeliveries().rewind(), 3u);
  EXPECT_EQ(st.messages_delivered(), 13u);
}

TEST_F(DispatcherRetryTest, SuccessiveRetriesBackOffExponentially) {
  Make(Semantics(1, 1));
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> first = h->TakeBatches();
  ASSERT_EQ(first.size(), 1u);
  v1::Batch b = first[0];
  b = RetryAndWait(*h, b, Millis(100));
  EXPECT_THAT(Attempts(b), ElementsAre(2u));
  b = RetryAndWait(*h, b, Millis(200));
  EXPECT_THAT(Attempts(b), ElementsAre(3u));
  b = RetryAndWait(*h, b, Millis(400));
  EXPECT_THAT(Attempts(b), ElementsAre(4u));
  EXPECT_EQ(Stats().messages_retried(), 3u);
}

TEST_F(DispatcherRetryTest, RetryAfterMsIsHonouredExactlyWithoutJitter) {
  Make(Semantics(1, 1));
  random_.value = 0.999;  // the sidecar's own backoff would be ×1.2
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);

  Settle({RetryOf(b[0].batch_id(), {}, /*retry_after_ms=*/250)});
  clock_.Advance(Millis(249));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  clock_.Advance(Millis(1));
  Run();
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Attempts(b[0]), ElementsAre(2u));

  // Also when it is shorter than the exponential backoff (200 ms here).
  Settle({RetryOf(b[0].batch_id(), {}, /*retry_after_ms=*/30)});
  clock_.Advance(Millis(29));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  clock_.Advance(Millis(1));
  Run();
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Attempts(b[0]), ElementsAre(3u));
}

TEST_F(DispatcherRetryTest, SidecarBackoffIsJittered) {
  Make(Semantics(1, 1));
  random_.value = 0.0;  // jitter × 0.8: 80 ms instead of 100 ms
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  const v1::Batch again = RetryAndWait(*h, b[0], Millis(80));
  EXPECT_THAT(Attempts(again), ElementsAre(2u));
}

TEST_F(DispatcherRetryTest, NoOrderingRedeliversTheRetriedMessageAloneWhileThePartitionFlows) {
  Make(Semantics(3, 2, [](DispatcherOptions& o) { o.ordering = OrderingMode::kNone; }));
  auto h = StartWith(0, 6);
  std::vector<v1::Batch> first = h->TakeBatches();
  ASSERT_EQ(first.size(), 2u);
  const uint64_t a = first[0].batch_id();
  const uint64_t b = first[1].batch_id();
  ASSERT_THAT(Offsets(first[0]), ElementsAre(0, 1, 2));

  // 1 is retried; later records go out at once, nothing is taken back.
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  Feed(6, 9);
  Settle({Ack(a, {0, 2}), RetryOf(a, {1})});
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  std::vector<v1::Batch> next = h->TakeBatches();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_THAT(Offsets(next[0]), ElementsAre(6, 7, 8));
  EXPECT_THAT(Attempts(next[0]), ElementsAre(1u, 1u, 1u));

  // The second batch is still valid; the commit stays at 1.
  Settle({Ack(b)});
  EXPECT_EQ(Stale(), 0u);
  EXPECT_EQ(stats_.processed(), 5u);

  clock_.Advance(Millis(99));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  clock_.Advance(Millis(1));
  Run();
  std::vector<v1::Batch> retried = h->TakeBatches();
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_THAT(Offsets(retried[0]), ElementsAre(1));
  EXPECT_THAT(Attempts(retried[0]), ElementsAre(2u));
  EXPECT_NE(retried[0].batch_id(), a);
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 6));  // 6..8 still in flight
  Settle({Ack(retried[0].batch_id())});
}

TEST_F(DispatcherRetryTest, NoOrderingHonoursRetryAfterMsToo) {
  Make(Semantics(1, 1, [](DispatcherOptions& o) { o.ordering = OrderingMode::kNone; }));
  random_.value = 0.999;
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  Settle({RetryOf(b[0].batch_id(), {}, /*retry_after_ms=*/250)});
  clock_.Advance(Millis(249));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  clock_.Advance(Millis(1));
  Run();
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Attempts(b[0]), ElementsAre(2u));
}

TEST_F(DispatcherRetryTest, ExhaustedRetriesWithoutDeadLettersAreSkipped) {
  Make(Semantics(1, 1, [](DispatcherOptions& o) { o.max_retries = 2; }));
  auto h = StartWith(0, 2);
  std::vector<v1::Batch> first = h->TakeBatches();
  ASSERT_EQ(first.size(), 1u);
  v1::Batch b = RetryAndWait(*h, first[0], Millis(100));
  b = RetryAndWait(*h, b, Millis(200));
  ASSERT_THAT(Attempts(b), ElementsAre(3u));

  // The third RETRY gives up: the commit moves past 0 and 1 goes out.
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  Settle({RetryOf(b.batch_id(), {}, 0, "db down")});
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  std::vector<v1::Batch> next = h->TakeBatches();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_THAT(Offsets(next[0]), ElementsAre(1));
  EXPECT_THAT(Attempts(next[0]), ElementsAre(1u));

  const v1::GetStatsResponse stats = Stats();
  EXPECT_EQ(stats.messages_failed(), 1u);
  EXPECT_EQ(stats.messages_retried(), 2u);
  EXPECT_EQ(stats.messages_dead_lettered(), 0u);
  EXPECT_EQ(stats.partition_errors().at(kPartitionKey), 3u);

  // 0 never comes back.
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 2));
  Settle({Ack(next[0].batch_id())});
  clock_.Advance(Millis(10000));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());

  const v1::PartitionStats p = Published(tp_);
  EXPECT_EQ(p.failed(), 1u);
  EXPECT_EQ(p.retried(), 2u);
  EXPECT_EQ(p.errors(), 3u);
  EXPECT_EQ(p.processed(), 1u);
  EXPECT_EQ(p.committed_offset(), 2);
}

TEST_F(DispatcherRetryTest, MaxRetriesZeroGivesUpOnTheFirstRetry) {
  Make(Semantics(1, 1, [](DispatcherOptions& o) { o.max_retries = 0; }));
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  Settle({RetryOf(b[0].batch_id())});
  clock_.Advance(Millis(1000));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  EXPECT_EQ(Stats().messages_failed(), 1u);
  EXPECT_EQ(Stats().messages_retried(), 0u);
}

TEST_F(DispatcherRetryTest, RejectWithoutDeadLettersIsSkippedAtOnce) {
  Make(Semantics(3, 1));
  auto h = StartWith(0, 3);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 3));
  Settle({Ack(b[0].batch_id(), {0, 2}), RejectOf(b[0].batch_id(), {1}, "bad")});
  clock_.Advance(Millis(10000));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());  // never redelivered
  const v1::GetStatsResponse stats = Stats();
  EXPECT_EQ(stats.messages_failed(), 1u);
  EXPECT_EQ(stats.messages_processed(), 2u);
  EXPECT_EQ(stats.messages_retried(), 0u);
  EXPECT_EQ(stats.partition_errors().at(kPartitionKey), 1u);
}

// StreamStats.failed has the SPEC §2 meaning too: rejected, or retries
// exhausted.
TEST_F(DispatcherRetryTest, ExhaustedRetriesCountAsFailedOnTheStream) {
  Make(Semantics(2, 1, [](DispatcherOptions& o) { o.max_retries = 0; }));
  auto h = StartWith(0, 2);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 2));
  Settle({Ack(b[0].batch_id(), {0}), RetryOf(b[0].batch_id(), {1})});
  EXPECT_EQ(Stats().messages_failed(), 1u);
  EXPECT_EQ(h->session->processed.load(), 1u);
  EXPECT_EQ(h->session->failed.load(), 1u);
}

// Like LoopSleepsWhileBlockedOnAFullStreamWindow: a retry that is due but
// cannot go out (the partition's one batch slot is taken) waits for the
// settlement that frees the slot; the loop must not spin meanwhile.
TEST_F(DispatcherRetryTest, LoopSleepsWhileADueRetryWaitsForABatchSlot) {
  Make(Semantics(1, 1, [](DispatcherOptions& o) { o.ordering = OrderingMode::kNone; }));
  auto h = StartWith(0, 2);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  Settle({RetryOf(b[0].batch_id())});
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  ASSERT_THAT(Offsets(b[0]), ElementsAre(1));  // holds the only slot

  clock_.Advance(Millis(100));  // 0 is due again
  dispatcher_->RunOnce(Millis(100));
  dispatcher_->RunOnce(Millis(100));
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  ASSERT_FALSE(queue_.timeouts.empty());
  EXPECT_EQ(queue_.timeouts.back().count(), 100) << "the dispatcher loop busy-waits";

  // The settlement that frees the slot sends the retry.
  Settle({Ack(b[0].batch_id())});
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(0));
  EXPECT_THAT(Attempts(b[0]), ElementsAre(2u));
}

// SPEC §3 Flow control: memory stays bounded. Records waiting out a retry
// backoff (ordering: none) are held undelivered like pending ones and must
// count towards max_pending_messages, or a handler that RETRYs everything
// makes the sidecar buffer without end while fetching goes on.
TEST_F(DispatcherRetryTest, RetriesWaitingOutTheirBackoffCountTowardsTheFetchLimit) {
  Make(Semantics(2, 1, [](DispatcherOptions& o) {
    o.ordering = OrderingMode::kNone;
    o.max_pending_messages = 4;
    o.retry_backoff = Millis(60000);
  }));
  auto h = StartWith(0, 2);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  Feed(2, 4);
  Settle({RetryOf(b[0].batch_id())});  // 2 waiting: below the limit
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  ASSERT_THAT(Offsets(b[0]), ElementsAre(2, 3));

  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  Settle({RetryOf(b[0].batch_id())});  // 4 waiting: at the limit
}

class DispatcherDeadLetterTest : public DispatcherTest {};

TEST_F(DispatcherDeadLetterTest, ExhaustedMessageIsDeadLetteredAndCommittedOnceKafkaHasIt) {
  Make(Semantics(1, 1, [this](DispatcherOptions& o) {
    o.max_retries = 2;
    o.dead_letters = &dead_letters_;
  }));
  auto h = StartWith(0, 2);
  std::vector<v1::Batch> first = h->TakeBatches();
  ASSERT_EQ(first.size(), 1u);
  v1::Batch b = RetryAndWait(*h, first[0], Millis(100));
  b = RetryAndWait(*h, b, Millis(200));

  DeadLetterProducer::Done done;
  ExpectDeadLetter(0, IsInfo(tp_, 3, HasSubstr("db down")), &done);
  Settle({RetryOf(b.batch_id(), {}, 0, "db down")});
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);
  ASSERT_TRUE(done);

  // The partition moves on, but the commit waits for Kafka's answer.
  std::vector<v1::Batch> next = h->TakeBatches();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_THAT(Offsets(next[0]), ElementsAre(1));
  Settle({Ack(next[0].batch_id())});
  clock_.Advance(Millis(10000));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  EXPECT_EQ(Stats().messages_dead_lettered(), 0u);
  EXPECT_EQ(Stats().messages_failed(), 1u);
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 2));
  done(absl::OkStatus());
  Run();
  EXPECT_EQ(Stats().messages_dead_lettered(), 1u);
}

TEST_F(DispatcherDeadLetterTest, RejectIsDeadLetteredAtOnceWithoutRetry) {
  Make(Semantics(3, 1, [this](DispatcherOptions& o) { o.dead_letters = &dead_letters_; }));
  auto h = StartWith(0, 3);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);

  DeadLetterProducer::Done done;
  ExpectDeadLetter(1, IsInfo(tp_, 1, HasSubstr("schema mismatch")), &done);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  Settle({Ack(b[0].batch_id(), {0, 2}), RejectOf(b[0].batch_id(), {1}, "schema mismatch")});
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  // Never redelivered; the partition goes on.
  clock_.Advance(Millis(60000));
  Feed(3, 4);
  Run();
  std::vector<v1::Batch> next = h->TakeBatches();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_THAT(Offsets(next[0]), ElementsAre(3));
  EXPECT_EQ(Stats().messages_retried(), 0u);
  EXPECT_EQ(Stats().messages_failed(), 1u);

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 3));  // 3 is in flight
  ASSERT_TRUE(done);
  done(absl::OkStatus());
  Run();
  EXPECT_EQ(Stats().messages_dead_lettered(), 1u);
}

TEST_F(DispatcherDeadLetterTest, FailedProduceIsRetriedAfterTheWaitNotBefore) {
  Make(Semantics(1, 1, [this](DispatcherOptions& o) { o.dead_letters = &dead_letters_; }));
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);

  DeadLetterProducer::Done first;
  ExpectDeadLetter(0, IsInfo(tp_, 1, HasSubstr("bad payload")), &first);
  Settle({RejectOf(b[0].batch_id(), {}, "bad payload")});
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);
  ASSERT_TRUE(first);

  first(absl::UnavailableError("broker down"));
  Run();
  clock_.Advance(Millis(499));
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);  // not produced again yet

  DeadLetterProducer::Done second;
  ExpectDeadLetter(0, IsInfo(tp_, 1, HasSubstr("bad payload")), &second);
  clock_.Advance(Millis(1));
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);
  EXPECT_EQ(Stats().messages_dead_lettered(), 0u);
  ASSERT_TRUE(second);

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  second(absl::OkStatus());
  Run();
  EXPECT_EQ(Stats().messages_dead_lettered(), 1u);
}

TEST_F(DispatcherDeadLetterTest, ProduceThatFailsAtOnceIsRetriedAfterTheWait) {
  Make(Semantics(1, 1, [this](DispatcherOptions& o) { o.dead_letters = &dead_letters_; }));
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);

  // `done` may run inside Produce (the record could not even be queued).
  EXPECT_CALL(dead_letters_, Produce(IsRecord(0), _, _))
      .WillOnce([](const Record&, const DeadLetterInfo&, DeadLetterProducer::Done done) {
        done(absl::ResourceExhaustedError("queue full"));
      });
  Settle({RejectOf(b[0].batch_id())});
  clock_.Advance(Millis(499));
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);

  DeadLetterProducer::Done second;
  ExpectDeadLetter(0, IsInfo(tp_, 1, _), &second);
  clock_.Advance(Millis(1));
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);
  ASSERT_TRUE(second);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  second(absl::OkStatus());
  Run();
}

TEST_F(DispatcherDeadLetterTest, TransientFailuresBackOffDoublingUpToTheMax) {
  Make(Semantics(1, 1, [this](DispatcherOptions& o) {
    o.dead_letters = &dead_letters_;
    o.dead_letter_retry = Millis(500);
    o.dead_letter_retry_max = Millis(1500);
  }));
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  DeadLetterProducer::Done done;
  ExpectDeadLetter(0, _, &done);
  Settle({RejectOf(b[0].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);

  // 500, 1000, then capped at 1500, 1500.
  for (int wait : {500, 1000, 1500, 1500}) {
    ASSERT_TRUE(done);
    DeadLetterProducer::Done failing = std::move(done);
    done = nullptr;
    failing(absl::DeadlineExceededError("dead-letter topic dlt: Local: Message timed out"));
    Run();
    clock_.Advance(Millis(wait - 1));
    Run();
    ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);  // not yet
    ExpectDeadLetter(0, _, &done);
    clock_.Advance(Millis(1));
    Run();
    ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);
  }
  // Transient failures neither pause the partition nor fail readiness.
  clock_.Advance(Millis(100));
  Run();
  const v1::PartitionStats s = Published(tp_);
  EXPECT_FALSE(s.paused());
  EXPECT_EQ(s.dead_letter_pending(), 1u);
  EXPECT_EQ(Stats().dead_letter_transient_failures(), 4u);
  EXPECT_EQ(Stats().dead_letter_permanent_failures(), 0u);

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  done(absl::OkStatus());
  Run();
  EXPECT_EQ(Stats().messages_dead_lettered(), 1u);
}

TEST_F(DispatcherDeadLetterTest, PermanentFailurePausesThePartitionUntilTheProduceSucceeds) {
  Make(Semantics(1, 1, [this](DispatcherOptions& o) {
    o.dead_letters = &dead_letters_;
    o.dead_letter_permanent_retry = Millis(60000);
  }));
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  DeadLetterProducer::Done done;
  ExpectDeadLetter(0, _, &done);
  Settle({RejectOf(b[0].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);

  // Refused for good: the partition stops fetching and delivering.
  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  done(absl::InvalidArgumentError("dead-letter topic dlt: Broker: Message size too large"));
  Feed(1, 3);
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  ASSERT_EQ(h->paused.size(), 1u);
  EXPECT_THAT(h->paused[0].reason(), HasSubstr("Message size too large"));
  EXPECT_EQ(h->paused[0].resume_in_ms(), 0u);
  clock_.Advance(Millis(100));
  Run();
  v1::PartitionStats s = Published(tp_);
  EXPECT_TRUE(s.paused());
  EXPECT_EQ(s.pause_cause(), v1::PAUSE_CAUSE_DEAD_LETTER);
  EXPECT_THAT(s.pause_reason(), HasSubstr("Message size too large (offset 0)"));
  EXPECT_EQ(s.committed_offset(), 0);
  EXPECT_EQ(Stats().dead_letter_permanent_failures(), 1u);

  // Tried again slowly, not every second.
  clock_.Advance(Millis(59000));
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);
  ExpectDeadLetter(0, _, &done);
  clock_.Advance(Millis(1000));
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);

  // The topic was fixed: committed past it, and the partition resumes.
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  EXPECT_CALL(control_, Resume(Eq(tp_), _)).WillOnce(Return(absl::OkStatus()));
  ASSERT_TRUE(done);
  done(absl::OkStatus());
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(1));
  EXPECT_EQ(Stats().messages_dead_lettered(), 1u);
}

TEST_F(DispatcherDeadLetterTest, ResumeByRequestRetriesARefusedDeadLetterAtOnce) {
  Make(Semantics(1, 1, [this](DispatcherOptions& o) {
    o.dead_letters = &dead_letters_;
    o.dead_letter_permanent_retry = Millis(60000);
  }));
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  DeadLetterProducer::Done done;
  ExpectDeadLetter(0, _, &done);
  Settle({RejectOf(b[0].batch_id())});
  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  done(absl::PermissionDeniedError("dead-letter topic dlt: Broker: Topic authorization failed"));
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);

  // Resume tries the produce now; refused again, the partition stays paused.
  ExpectDeadLetter(0, _, &done);
  dispatcher_->Post(cmd::SetPaused{{tp_}, false});
  Run();
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);
  ASSERT_TRUE(done);
  done(absl::NotFoundError("dead-letter topic dlt: Broker: Unknown topic or partition"));
  clock_.Advance(Millis(100));
  Run();
  const v1::PartitionStats s = Published(tp_);
  EXPECT_EQ(s.pause_cause(), v1::PAUSE_CAUSE_DEAD_LETTER);
  EXPECT_THAT(s.pause_reason(), HasSubstr("Unknown topic"));
  EXPECT_EQ(Stats().dead_letter_permanent_failures(), 2u);
}

TEST_F(DispatcherDeadLetterTest, PermanentFailureSkipsTheMessageWhenConfiguredTo) {
  Make(Semantics(1, 1, [this](DispatcherOptions& o) {
    o.dead_letters = &dead_letters_;
    o.skip_undeliverable_dead_letters = true;
  }));
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  DeadLetterProducer::Done done;
  ExpectDeadLetter(0, _, &done);
  Settle({RejectOf(b[0].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);

  // No Pause (StrictMock): committed past it, never produced again.
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  done(absl::InvalidArgumentError("dead-letter topic dlt: Broker: Message size too large"));
  Feed(1, 2);
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(1));
  clock_.Advance(Millis(120000));
  Run();
  EXPECT_EQ(Stats().messages_dead_letter_skipped(), 1u);
  EXPECT_EQ(Stats().messages_dead_lettered(), 0u);
  EXPECT_FALSE(Published(tp_).paused());
}

TEST_F(DispatcherDeadLetterTest, ResultForAnEarlierLifeOfThePartitionIsIgnored) {
  Make(Semantics(1, 1, [this](DispatcherOptions& o) { o.dead_letters = &dead_letters_; }));
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  DeadLetterProducer::Done old_done;
  ExpectDeadLetter(0, _, &old_done);
  Settle({RejectOf(b[0].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);

  // Revoked before Kafka answered: the offset before the dead letter.
  auto result = std::make_shared<RevokeResult>(1);
  dispatcher_->Post(cmd::Revoke{tp_, result, Millis(0)});
  Run();
  ASSERT_TRUE(result->WaitFor(absl::ZeroDuration()));
  EXPECT_EQ(result->offsets()[0].second, std::optional<int64_t>(0));

  // Assigned again: 0 is fetched again, and rejected again.
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Feed(0, 1);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  DeadLetterProducer::Done new_done;
  ExpectDeadLetter(0, _, &new_done);
  Settle({RejectOf(b[0].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);

  // The first life's answer settles nothing in the second (no StoreOffset).
  ASSERT_TRUE(old_done);
  old_done(absl::OkStatus());
  Run();
  EXPECT_EQ(Stats().messages_dead_lettered(), 0u);
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  ASSERT_TRUE(new_done);
  new_done(absl::OkStatus());
  Run();
  EXPECT_EQ(Stats().messages_dead_lettered(), 1u);
}

TEST_F(DispatcherDeadLetterTest, RevokeWaitsForAnInFlightDeadLetter) {
  Make(Semantics(3, 1, [this](DispatcherOptions& o) { o.dead_letters = &dead_letters_; }));
  auto h = StartWith(0, 3);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  DeadLetterProducer::Done done;
  ExpectDeadLetter(1, _, &done);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  Settle({Ack(b[0].batch_id(), {0, 2}), RejectOf(b[0].batch_id(), {1})});
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  auto result = std::make_shared<RevokeResult>(1);
  dispatcher_->Post(cmd::Revoke{tp_, result, Millis(50)});
  Run();
  clock_.Advance(Millis(49));
  Run();
  EXPECT_FALSE(result->WaitFor(absl::ZeroDuration()));
  EXPECT_EQ(dispatcher_->partition_count(), 1u);

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 3));
  ASSERT_TRUE(done);
  done(absl::OkStatus());
  Run();
  ASSERT_TRUE(result->WaitFor(absl::ZeroDuration()));
  EXPECT_EQ(result->offsets()[0].second, std::optional<int64_t>(3));
  EXPECT_EQ(dispatcher_->partition_count(), 0u);
}

TEST_F(DispatcherDeadLetterTest, RevokeReportsTheOffsetBeforeADeadLetterThatNeverFinishes) {
  Make(Semantics(3, 1, [this](DispatcherOptions& o) { o.dead_letters = &dead_letters_; }));
  auto h = StartWith(0, 3);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  DeadLetterProducer::Done done;
  ExpectDeadLetter(1, _, &done);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  Settle({Ack(b[0].batch_id(), {0, 2}), RejectOf(b[0].batch_id(), {1})});
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  auto result = std::make_shared<RevokeResult>(1);
  dispatcher_->Post(cmd::Revoke{tp_, result, Millis(50)});
  Run();
  clock_.Advance(Millis(49));
  Run();
  EXPECT_FALSE(result->WaitFor(absl::ZeroDuration()));
  clock_.Advance(Millis(1));
  Run();
  ASSERT_TRUE(result->WaitFor(absl::ZeroDuration()));
  EXPECT_EQ(result->offsets()[0].second, std::optional<int64_t>(1));
  EXPECT_EQ(dispatcher_->partition_count(), 0u);

  // Kafka's late answer finds the partition gone (no StoreOffset).
  ASSERT_TRUE(done);
  done(absl::OkStatus());
  Run();
  EXPECT_EQ(Stats().messages_dead_lettered(), 0u);
}

class DispatcherAckTimeoutTest : public DispatcherTest {};

void AckTimeout1s(DispatcherOptions& o) { o.ack_timeout = Millis(1000); }

TEST_F(DispatcherAckTimeoutTest, UnsettledBatchIsRedeliveredAndItsSettlementIsStale) {
  Make(Semantics(2, 1, AckTimeout1s));
  auto h = StartWith(0, 2);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  const uint64_t old_id = b[0].batch_id();

  clock_.Advance(Millis(999));
  Run();
  EXPECT_EQ(Stats().messages_retried(), 0u);
  clock_.Advance(Millis(1));
  Run();
  EXPECT_EQ(Stats().messages_retried(), 2u);  // a timeout counts as RETRY
  EXPECT_EQ(h->session->in_flight_messages(), 0u);
  EXPECT_EQ(stats_.in_flight(), 0);
  EXPECT_THAT(h->TakeBatches(), IsEmpty());  // the retry backoff first

  clock_.Advance(Millis(100));
  Run();
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NE(b[0].batch_id(), old_id);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(0, 1));
  EXPECT_THAT(Attempts(b[0]), ElementsAre(2u, 2u));

  Settle({Ack(old_id)});  // too late: stale, moves nothing
  EXPECT_EQ(Stale(), 1u);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 2));
  Settle({Ack(b[0].batch_id())});
}

TEST_F(DispatcherAckTimeoutTest, ExtendPostponesTheTimeoutToTheExtendedDeadline) {
  Make(Semantics(2, 1, AckTimeout1s));
  auto h = StartWith(0, 2);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);

  clock_.Advance(Millis(500));
  dispatcher_->Post(cmd::Extend{"s1", {b[0].batch_id()}, 2000});  // until 2500
  Run();
  clock_.Advance(Millis(500));  // the original deadline
  Run();
  clock_.Advance(Millis(1499));
  Run();
  EXPECT_EQ(Stats().messages_retried(), 0u);
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  clock_.Advance(Millis(1));
  Run();
  EXPECT_EQ(Stats().messages_retried(), 2u);
  clock_.Advance(Millis(100));
  Run();
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Attempts(b[0]), ElementsAre(2u, 2u));
}

// processing.max_extension_ms: an Extend asking for more than the cap moves
// the deadline to now + cap (cut, not refused), and each batch cut is counted
// on its stream; an Extend of exactly the cap is not cut.
TEST_F(DispatcherAckTimeoutTest, ExtendBeyondTheCapIsCutToTheCapFromNow) {
  Make(Semantics(2, 1, [](DispatcherOptions& o) {
    o.ack_timeout = Millis(1000);
    o.max_extension = Millis(5000);
  }));
  auto h = StartWith(0, 2);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);

  clock_.Advance(Millis(500));
  dispatcher_->Post(cmd::Extend{"s1", {b[0].batch_id()}, 3600000});  // an hour: until 5500
  Run();
  EXPECT_EQ(h->session->extensions_cut.load(), 1u);
  clock_.Advance(Millis(2000));  // 2500
  dispatcher_->Post(cmd::Extend{"s1", {b[0].batch_id()}, 5000});  // the cap: until 7500
  Run();
  EXPECT_EQ(h->session->extensions_cut.load(), 1u);
  clock_.Advance(Millis(1000));  // 3500
  dispatcher_->Post(
      cmd::Extend{"s1", {b[0].batch_id()}, std::numeric_limits<uint32_t>::max()});  // until 8500
  Run();
  EXPECT_EQ(h->session->extensions_cut.load(), 2u);

  clock_.Advance(Millis(4999));  // 8499
  Run();
  EXPECT_EQ(Stats().messages_retried(), 0u);
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  clock_.Advance(Millis(1));  // 8500: the capped deadline, not 49 days later
  Run();
  EXPECT_EQ(Stats().messages_retried(), 2u);
}

TEST_F(DispatcherAckTimeoutTest, ExtendWithoutALengthGrantsAnotherAckTimeout) {
  Make(Semantics(2, 1, AckTimeout1s));
  auto h = StartWith(0, 2);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  clock_.Advance(Millis(500));
  dispatcher_->Post(cmd::Extend{"s1", {b[0].batch_id()}, 0});  // until 1500
  Run();
  clock_.Advance(Millis(999));
  Run();
  EXPECT_EQ(Stats().messages_retried(), 0u);
  clock_.Advance(Millis(1));
  Run();
  EXPECT_EQ(Stats().messages_retried(), 2u);
}

TEST_F(DispatcherAckTimeoutTest, ExtendOfUnknownOrForeignBatchesIsHarmless) {
  Make(Semantics(2, 1, AckTimeout1s));
  auto h = StartWith(0, 2);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  clock_.Advance(Millis(500));
  dispatcher_->Post(cmd::Extend{"s1", {MakeBatchId(12345, kIndex), MakeBatchId(1, kIndex + 1)}, 0});
  dispatcher_->Post(cmd::Extend{"intruder", {b[0].batch_id()}, 60000});
  Run();
  EXPECT_EQ(Stale(), 0u);
  // The batch still times out at its own deadline.
  clock_.Advance(Millis(499));
  Run();
  EXPECT_EQ(Stats().messages_retried(), 0u);
  clock_.Advance(Millis(1));
  Run();
  EXPECT_EQ(Stats().messages_retried(), 2u);
  // Extending a batch that is no longer in flight changes nothing either.
  dispatcher_->Post(cmd::Extend{"s1", {b[0].batch_id()}, 60000});
  clock_.Advance(Millis(100));
  Run();
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Attempts(b[0]), ElementsAre(2u, 2u));
}

// SPEC §3: "Extend pushes the deadline out". A short extend_ms sent early
// must not make the batch time out sooner than it would have anyway.
TEST_F(DispatcherAckTimeoutTest, ExtendNeverBringsTheDeadlineForward) {
  Make(Semantics(2, 1, AckTimeout1s));
  auto h = StartWith(0, 2);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  clock_.Advance(Millis(100));
  dispatcher_->Post(cmd::Extend{"s1", {b[0].batch_id()}, 200});  // 300 < 1000
  Run();
  clock_.Advance(Millis(899));  // 999 ms after sending
  Run();
  EXPECT_EQ(Stats().messages_retried(), 0u) << "Extend shortened the ack deadline";
  clock_.Advance(Millis(1));
  Run();
  EXPECT_EQ(Stats().messages_retried(), 2u);
}

// A revoking partition takes no ack timeouts; a deadline that passes while
// the revoke waits must not make the loop spin until the revoke's own end.
TEST_F(DispatcherAckTimeoutTest, LoopSleepsWhileARevokeOutlastsAnAckDeadline) {
  Make(Semantics(1, 1, AckTimeout1s));
  auto h = StartWith(0, 1);
  ASSERT_EQ(h->TakeBatches().size(), 1u);
  auto result = std::make_shared<RevokeResult>(1);
  dispatcher_->Post(cmd::Revoke{tp_, result, Millis(5000)});
  Run();

  clock_.Advance(Millis(1000));  // the batch's ack deadline
  dispatcher_->RunOnce(Millis(100));
  dispatcher_->RunOnce(Millis(100));
  ASSERT_FALSE(queue_.timeouts.empty());
  EXPECT_EQ(queue_.timeouts.back().count(), 100) << "the dispatcher loop busy-waits";
  EXPECT_FALSE(result->WaitFor(absl::ZeroDuration()));

  clock_.Advance(Millis(4000));
  Run();
  ASSERT_TRUE(result->WaitFor(absl::ZeroDuration()));
  EXPECT_EQ(result->offsets()[0].second, std::optional<int64_t>(0));
}

TEST_F(DispatcherAckTimeoutTest, TimeoutsCountTowardsMaxRetries) {
  Make(Semantics(1, 1, [this](DispatcherOptions& o) {
    o.ack_timeout = Millis(1000);
    o.max_retries = 1;
    o.dead_letters = &dead_letters_;
  }));
  auto h = StartWith(0, 1);
  ASSERT_EQ(h->TakeBatches().size(), 1u);
  clock_.Advance(Millis(1000));
  Run();
  clock_.Advance(Millis(100));
  Run();
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Attempts(b[0]), ElementsAre(2u));

  DeadLetterProducer::Done done;
  ExpectDeadLetter(0, IsInfo(tp_, 2, HasSubstr("ack timeout")), &done);
  clock_.Advance(Millis(1000));
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&dead_letters_);
  EXPECT_EQ(Stats().messages_failed(), 1u);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 1));
  ASSERT_TRUE(done);
  done(absl::OkStatus());
  Run();
}

class DispatcherErrorThresholdTest : public DispatcherTest {};

TEST_F(DispatcherErrorThresholdTest, ThresholdPausesThePartitionUntilThePauseRunsOut) {
  Make(Semantics(3, 1, Threshold3));
  auto h = StartWith(0, 3);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);

  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  Settle({RetryOf(b[0].batch_id())});  // three errors at once
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  // The handler is told, so the pause shows in its own log.
  ASSERT_EQ(h->paused.size(), 1u);
  EXPECT_EQ(h->paused[0].partition().topic(), tp_.topic);
  EXPECT_EQ(h->paused[0].partition().partition(), tp_.partition);
  EXPECT_EQ(h->paused[0].resume_in_ms(), 5000u);
  EXPECT_THAT(h->paused[0].reason(), HasSubstr("3 errors within 10000 ms"));

  // The retry backoff (100 ms) runs out; the pause does not. Records
  // fetched meanwhile wait.
  Feed(3, 5);
  clock_.Advance(Millis(100));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  const v1::PartitionStats paused = Published(tp_);
  EXPECT_TRUE(paused.paused());
  EXPECT_THAT(paused.pause_reason(), HasSubstr("error threshold"));
  EXPECT_EQ(paused.errors(), 3u);

  clock_.Advance(Millis(4899));  // 4999 ms into the pause
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  EXPECT_CALL(control_, Resume(Eq(tp_), _)).WillOnce(Return(absl::OkStatus()));
  clock_.Advance(Millis(1));
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(0, 1, 2));
  EXPECT_THAT(Attempts(b[0]), ElementsAre(2u, 2u, 2u));

  clock_.Advance(Millis(100));
  Run();
  const v1::PartitionStats resumed = Published(tp_);
  EXPECT_FALSE(resumed.paused());
  EXPECT_EQ(resumed.pause_reason(), "");

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 3));
  Settle({Ack(b[0].batch_id())});
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(3, 4));
}

TEST_F(DispatcherErrorThresholdTest, RetryRejectAndAckTimeoutAllCountWhenRejectsAreCounted) {
  Make(Semantics(1, 3, [](DispatcherOptions& o) {
    Threshold3(o);
    o.rejects_count_toward_threshold = true;
    o.ordering = OrderingMode::kNone;
    o.ack_timeout = Millis(1000);
  }));
  auto h = StartWith(0, 3);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 3u);
  // Two errors: below the threshold (StrictMock: no Pause yet).
  Settle({RetryOf(b[0].batch_id(), {}, /*retry_after_ms=*/60000), RejectOf(b[1].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  clock_.Advance(Millis(1000));  // the third batch times out
  Run();
  EXPECT_EQ(Stats().partition_errors().at(kPartitionKey), 3u);
}

// A REJECT is the handler's verdict on one message, settled by the dead-letter
// path; by default it says nothing about the handler's health.
TEST_F(DispatcherErrorThresholdTest, RejectsDoNotPauseByDefault) {
  Make(Semantics(1, 3, [](DispatcherOptions& o) {
    Threshold3(o);
    o.ordering = OrderingMode::kNone;
  }));
  auto h = StartWith(0, 6);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 3u);
  // Three rejects: no Pause (StrictMock), the partition flows on.
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 3));
  Settle({RejectOf(b[0].batch_id()), RejectOf(b[1].batch_id()), RejectOf(b[2].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(3));
  EXPECT_TRUE(h->paused.empty());
  clock_.Advance(Millis(100));
  Run();
  EXPECT_FALSE(Published(tp_).paused());
  EXPECT_EQ(Published(tp_).errors(), 3u);

  // Retries still count: the third error pauses.
  Settle({RetryOf(b[0].batch_id(), {}, 60000), RetryOf(b[1].batch_id(), {}, 60000)});
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  Settle({RetryOf(b[2].batch_id(), {}, 60000)});
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  h->TakeBatches();
  EXPECT_EQ(h->paused.size(), 1u);
}

TEST_F(DispatcherErrorThresholdTest, APauseSoonAfterTheLastOneLastsTwiceAsLong) {
  Make(Semantics(3, 1, Threshold3));
  auto h = StartWith(0, 3);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);

  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  Settle({RetryOf(b[0].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  EXPECT_CALL(control_, Resume(Eq(tp_), _)).WillOnce(Return(absl::OkStatus()));
  clock_.Advance(Millis(5000));
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);

  // Failing again right away: 10 s this time.
  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  Settle({RetryOf(b[0].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  clock_.Advance(Millis(9999));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  EXPECT_CALL(control_, Resume(Eq(tp_), _)).WillOnce(Return(absl::OkStatus()));
  clock_.Advance(Millis(1));
  Run();
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Attempts(b[0]), ElementsAre(3u, 3u, 3u));
}

// The second pause starts in the same loop in which the first runs out (a
// batch's ack timeout falls due with the pause's end): it is a repeat and
// must back off like any other.
TEST_F(DispatcherErrorThresholdTest, ErrorsAsAPauseRunsOutStartADoubledPause) {
  Make(Semantics(2, 2, [](DispatcherOptions& o) {
    o.ordering = OrderingMode::kNone;
    o.ack_timeout = Millis(1000);
    o.throttle.threshold = 2;
    o.throttle.window = Millis(60000);
    o.throttle.pause = Millis(1000);
  }));
  auto h = StartWith(0, 4);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 2u);

  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  Settle({RetryOf(b[0].batch_id())});  // paused 0 .. 1000
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  clock_.Advance(Millis(1000));  // the second batch times out: paused again
  Run();
  EXPECT_EQ(Stats().messages_retried(), 4u);
  clock_.Advance(Millis(1999));  // a doubled pause lasts until 3000
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty()) << "the repeat pause did not back off";
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  EXPECT_CALL(control_, Resume(Eq(tp_), _)).WillOnce(Return(absl::OkStatus()));
  clock_.Advance(Millis(1));
  Run();
  EXPECT_EQ(h->TakeBatches().size(), 2u);
}

TEST_F(DispatcherErrorThresholdTest, OtherPartitionsKeepFlowingWhileOneIsPaused) {
  Make(Semantics(3, 1, Threshold3));
  auto h = Connect("s1");
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
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 2u);
  const v1::Batch b7 = b[0].partition() == 7 ? b[0] : b[1];
  const v1::Batch b8 = b[0].partition() == 7 ? b[1] : b[0];
  ASSERT_EQ(b7.partition(), 7);
  ASSERT_EQ(b8.partition(), 8);
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  Settle({RetryOf(b7.batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  EXPECT_CALL(control_, StoreOffset(Eq(tp8), 3));
  Feed(8, 3, 5);
  Feed(7, 3, 5);
  clock_.Advance(Millis(1000));
  Settle({Ack(b8.batch_id())});
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].partition(), 8);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(3, 4));
  Run();
  clock_.Advance(Millis(100));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  EXPECT_TRUE(Published(tp_).paused());
  EXPECT_FALSE(Published(tp8).paused());
}

class DispatcherPauseTest : public DispatcherTest {};

TEST_F(DispatcherPauseTest, ManualPauseStopsDeliveriesButInFlightSettlementsStillCommit) {
  Make(Semantics(3, 1));
  auto h = StartWith(0, 3);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);

  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  dispatcher_->Post(cmd::SetPaused{{tp_}, true});
  Feed(3, 6);
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 3));
  Settle({Ack(b[0].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  clock_.Advance(Millis(60000));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  const v1::PartitionStats s = Published(tp_);
  EXPECT_TRUE(s.paused());
  EXPECT_THAT(s.pause_reason(), HasSubstr("by request"));
  EXPECT_EQ(s.committed_offset(), 3);

  EXPECT_CALL(control_, Resume(Eq(tp_), _)).WillOnce(Return(absl::OkStatus()));
  dispatcher_->Post(cmd::SetPaused{{tp_}, false});
  Run();
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(3, 4, 5));
}

TEST_F(DispatcherPauseTest, ResumeByRequestEndsAThresholdPause) {
  Make(Semantics(3, 1, [](DispatcherOptions& o) {
    Threshold3(o);
    o.throttle.pause = Millis(600000);
  }));
  auto h = StartWith(0, 3);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  Settle({RetryOf(b[0].batch_id())});
  clock_.Advance(Millis(1000));
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  EXPECT_CALL(control_, Resume(Eq(tp_), _)).WillOnce(Return(absl::OkStatus()));
  dispatcher_->Post(cmd::SetPaused{{tp_}, false});
  Run();
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Attempts(b[0]), ElementsAre(2u, 2u, 2u));
  clock_.Advance(Millis(100));
  Run();
  EXPECT_FALSE(Published(tp_).paused());
}

TEST_F(DispatcherPauseTest, ManualPauseOutlastsAThresholdPause) {
  Make(Semantics(3, 1, Threshold3));
  auto h = StartWith(0, 3);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  Settle({RetryOf(b[0].batch_id())});
  dispatcher_->Post(cmd::SetPaused{{tp_}, true});  // already fetch-paused
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  clock_.Advance(Millis(5000));  // the threshold pause is over
  Run();
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  clock_.Advance(Millis(100));
  Run();
  EXPECT_THAT(Published(tp_).pause_reason(), HasSubstr("by request"));

  EXPECT_CALL(control_, Resume(Eq(tp_), _)).WillOnce(Return(absl::OkStatus()));
  dispatcher_->Post(cmd::SetPaused{{tp_}, false});
  Run();
  EXPECT_EQ(h->TakeBatches().size(), 1u);
}

// ordering: none. A retry that falls due while its partition is paused
// waits for the resume; the loop must not spin for the length of the pause.
TEST_F(DispatcherPauseTest, LoopSleepsWhileAPausedPartitionHasADueRetry) {
  Make(Semantics(1, 1, [](DispatcherOptions& o) { o.ordering = OrderingMode::kNone; }));
  auto h = StartWith(0, 1);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  dispatcher_->Post(cmd::SetPaused{{tp_}, true});
  Settle({RetryOf(b[0].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  clock_.Advance(Millis(100));  // due, but paused
  dispatcher_->RunOnce(Millis(100));
  dispatcher_->RunOnce(Millis(100));
  EXPECT_THAT(h->TakeBatches(), IsEmpty());
  ASSERT_FALSE(queue_.timeouts.empty());
  EXPECT_EQ(queue_.timeouts.back().count(), 100) << "the dispatcher loop busy-waits";

  EXPECT_CALL(control_, Resume(Eq(tp_), _)).WillOnce(Return(absl::OkStatus()));
  dispatcher_->Post(cmd::SetPaused{{tp_}, false});
  Run();
  b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Attempts(b[0]), ElementsAre(2u));
}

TEST_F(DispatcherPauseTest, PauseNamingNoPartitionAppliesToAll) {
  Make(Semantics(3, 1));
  const TopicPartition tp8{"orders", 8};
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Assign{tp8});
  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  EXPECT_CALL(control_, Pause(Eq(tp8))).WillOnce(Return(absl::OkStatus()));
  dispatcher_->Post(cmd::SetPaused{{}, true});
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  EXPECT_CALL(control_, Resume(Eq(tp_), _)).WillOnce(Return(absl::OkStatus()));
  EXPECT_CALL(control_, Resume(Eq(tp8), _)).WillOnce(Return(absl::OkStatus()));
  dispatcher_->Post(cmd::SetPaused{{}, false});
  Run();
}

TEST_F(DispatcherPauseTest, ResumeKeepsFetchPausedWhileTooMuchIsWaiting) {
  Make(Semantics(10, 1, [](DispatcherOptions& o) { o.max_pending_messages = 4; }));
  dispatcher_->Post(cmd::Assign{tp_});  // no stream yet: records wait
  EXPECT_CALL(control_, Pause(Eq(tp_))).WillOnce(Return(absl::OkStatus()));
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  dispatcher_->Post(cmd::SetPaused{{tp_}, true});
  Feed(0, 6);
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  dispatcher_->Post(cmd::SetPaused{{tp_}, false});  // still 6 waiting: no Resume
  Run();
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  auto h = Connect("s1");
  EXPECT_CALL(control_, Resume(Eq(tp_), _)).WillOnce(Return(absl::OkStatus()));
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Run();
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(0, 1, 2, 3, 4, 5));
}

class DispatcherSupervisionTest : public DispatcherTest {};

TEST_F(DispatcherSupervisionTest, FailedLoopIsRecordedNotRethrown) {
  Make(Options(3, Millis(5), 1));
  EXPECT_EQ(dispatcher_->failure(), std::nullopt);
  queue_.throw_next = true;
  EXPECT_FALSE(dispatcher_->RunOnceGuarded(Millis(0)));
  EXPECT_THAT(dispatcher_->failure(), Optional(HasSubstr("boom")));
  EXPECT_TRUE(dispatcher_->RunOnceGuarded(Millis(0)));
}

TEST_F(DispatcherSupervisionTest, RestartOfAHealthyDispatcherIsRefused) {
  Make(Options(3, Millis(5), 1));
  EXPECT_EQ(dispatcher_->Restart().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DispatcherSupervisionTest, ProgressIsTheStartOfTheLastIteration) {
  Make(Options(3, Millis(5), 1));
  Run();
  const MonoTime first = dispatcher_->last_progress();
  EXPECT_EQ(first, clock_.Now());
  clock_.Advance(Millis(250));
  Run();
  EXPECT_EQ(dispatcher_->last_progress() - first, Millis(250));
}

TEST_F(DispatcherSupervisionTest, RecoveryRefetchesFromTheFirstUnsettledOffset) {
  Make(Options(3, Millis(5), 2));
  auto h = StartWith(0, 6);
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 2u);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 3));
  Settle({Ack(b[0].batch_id())});
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  EXPECT_EQ(stats_.in_flight(), 3);

  queue_.throw_next = true;
  ASSERT_FALSE(dispatcher_->RunOnceGuarded(Millis(0)));
  // 3..5 were in flight: fetched again from 3, nothing skipped.
  EXPECT_CALL(control_, Resume(Eq(tp_), Optional(3))).WillOnce(Return(absl::OkStatus()));
  dispatcher_->Recover();
  ::testing::Mock::VerifyAndClearExpectations(&control_);
  EXPECT_EQ(dispatcher_->failure(), std::nullopt);
  EXPECT_EQ(stats_.in_flight(), 0);
  EXPECT_EQ(h->session->in_flight_messages(), 0u) << "the stream's window was not given back";

  // The old batch's settlement is stale now.
  Settle({Ack(b[1].batch_id())});
  EXPECT_EQ(Stale(), 1u);

  Feed(3, 6);
  Run();
  std::vector<v1::Batch> again = h->TakeBatches();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_THAT(Offsets(again[0]), ElementsAre(3, 4, 5));
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 6));
  Settle({Ack(again[0].batch_id())});
}

TEST_F(DispatcherSupervisionTest, RecoveryRefetchesRecordsTakenFromKafkaButNeverHandedOver) {
  Make(Options(3, Millis(5), 1));
  auto h = Connect("s1");
  dispatcher_->Post(cmd::Assign{tp_});
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  Run();
  // The partition has never received anything (no watermark), and the loop
  // fails with 0..3 already taken from the queue.
  Feed(0, 4);
  queue_.throw_after_handing = true;
  ASSERT_FALSE(dispatcher_->RunOnceGuarded(Millis(0)));
  EXPECT_CALL(control_, Resume(Eq(tp_), Optional(0))).WillOnce(Return(absl::OkStatus()));
  dispatcher_->Recover();
  ::testing::Mock::VerifyAndClearExpectations(&control_);

  Feed(0, 4);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(0, 1, 2));
}

TEST_F(DispatcherSupervisionTest, CommandsQueuedBehindTheFailureSurvive) {
  Make(Options(3, Millis(5), 1));
  auto h = Connect("s1");
  queue_.throw_next = true;
  dispatcher_->Post(cmd::Assign{tp_});
  ASSERT_FALSE(dispatcher_->RunOnceGuarded(Millis(0)));  // commands applied, then Consume threw
  dispatcher_->Post(cmd::Bind{tp_, h->session});
  dispatcher_->Recover();
  Feed(0, 2);
  EXPECT_CALL(control_, StoreOffset(Eq(tp_), 0));
  Run();
  std::vector<v1::Batch> b = h->TakeBatches();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_THAT(Offsets(b[0]), ElementsAre(0, 1));
}

}  // namespace
}  // namespace kafka_sidecar
