// PartitionState: batching and settlement of one partition (SPEC §3).
#include "sidecar/dispatch/partition_state.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sidecar/stream/stream_session.h"
#include "sidecar/stream/stream_writer.h"

namespace kafka_sidecar {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::UnorderedElementsAre;

class NullWriter : public StreamWriter {
 public:
  void StartWrite(const v1::ConsumeResponse*) override {}
  void Finish(const grpc::Status&) override {}
};

// Counts how many record owners were released (the librdkafka message freed).
int g_released = 0;
int g_owned_token = 0;
void CountingDeleter(void*) { ++g_released; }

constexpr auto kStart = MonoTime{} + std::chrono::seconds(1000);
constexpr auto kAckTimeout = std::chrono::seconds(30);

class PartitionStateTest : public ::testing::Test {
 protected:
  PartitionStateTest() : state_(TopicPartition{"orders", 3}, 1, ErrorThrottleOptions{}) {
    g_released = 0;
    s1_ = MakeStream("s1");
    s2_ = MakeStream("s2");
  }

  std::shared_ptr<StreamSession> MakeStream(const std::string& id) {
    auto s = std::make_shared<StreamSession>(id, &writer_, kStart);
    StreamOptions o;
    o.handler_name = "test";
    o.max_in_flight_messages = 100;
    o.max_in_flight_bytes = 1 << 20;
    o.max_batch_messages = 10;
    s->Subscribe(o);
    return s;
  }

  // A record whose value ("v<offset>" padded to `size` bytes) lives in this
  // fixture; its owner counts its release.
  Record MakeRecord(int64_t offset, size_t size = 10) {
    std::string v = "v" + std::to_string(offset);
    v.resize(size, '.');
    storage_.push_back(std::move(v));
    Record r;
    r.offset = offset;
    r.timestamp_ms = 1700000000000 + offset;
    r.has_value = true;
    r.value = storage_.back();
    r.owner = Record::Owner(&g_owned_token, &CountingDeleter);
    return r;
  }

  void ReceiveRange(int64_t from, int64_t to) {
    for (int64_t o = from; o < to; ++o) {
      ASSERT_TRUE(state_.Receive(MakeRecord(o), kStart));
    }
  }

  std::vector<int64_t> PendingOffsets() const {
    std::vector<int64_t> out;
    for (size_t i = 0; i < state_.pending_count(); ++i) out.push_back(state_.pending_at(i).record.offset);
    return out;
  }
  std::vector<uint32_t> PendingAttempts() const {
    std::vector<uint32_t> out;
    for (size_t i = 0; i < state_.pending_count(); ++i) out.push_back(state_.pending_at(i).attempt);
    return out;
  }

  static v1::Settlement Settlement(uint64_t batch_id, v1::Outcome outcome,
                                   std::vector<int64_t> offsets = {}) {
    v1::Settlement s;
    s.set_batch_id(batch_id);
    s.set_outcome(outcome);
    for (int64_t o : offsets) s.add_offsets(o);
    return s;
  }

  NullWriter writer_;
  std::deque<std::string> storage_;
  PartitionState state_;
  std::shared_ptr<StreamSession> s1_;
  std::shared_ptr<StreamSession> s2_;
};

TEST_F(PartitionStateTest, ReceiveQueuesInOrderAndRefusesRefetch) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 3));
  EXPECT_FALSE(state_.Receive(MakeRecord(1), kStart));
  EXPECT_FALSE(state_.Receive(MakeRecord(2), kStart));
  EXPECT_THAT(PendingOffsets(), ElementsAre(0, 1, 2));
  EXPECT_THAT(PendingAttempts(), ElementsAre(1u, 1u, 1u));
  EXPECT_EQ(state_.pending_bytes(), 30u);
  EXPECT_EQ(state_.pending_since(), kStart);
  EXPECT_THAT(state_.Watermark(), Optional(0));
}

TEST_F(PartitionStateTest, StartBatchTakesFirstNPendingInOffsetOrder) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(5, 10));
  InFlightBatch& b = state_.StartBatch(7, s1_, 3, kStart, kStart + kAckTimeout);
  EXPECT_EQ(b.id, 7u);
  EXPECT_EQ(b.stream, s1_);
  EXPECT_EQ(b.sent_at, kStart);
  ASSERT_EQ(b.records.size(), 3u);
  EXPECT_EQ(b.records[0].record.offset, 5);
  EXPECT_EQ(b.records[1].record.offset, 6);
  EXPECT_EQ(b.records[2].record.offset, 7);
  EXPECT_EQ(b.records[1].record.value.substr(0, 2), "v6");
  EXPECT_EQ(b.unsettled, 3u);
  EXPECT_EQ(b.unsettled_bytes, 30u);
  EXPECT_THAT(b.settled, ElementsAre(false, false, false));

  EXPECT_THAT(PendingOffsets(), ElementsAre(8, 9));
  EXPECT_EQ(state_.pending_bytes(), 20u);
  EXPECT_EQ(state_.in_flight_batches(), 1u);
  EXPECT_EQ(state_.in_flight_records(), 3u);
  EXPECT_EQ(state_.delivered_upto, 8);
  EXPECT_TRUE(state_.HasInFlightOn("s1"));
  EXPECT_FALSE(state_.HasInFlightOn("s2"));
  EXPECT_THAT(state_.Watermark(), Optional(5));

  // Asking for more than is pending takes what there is.
  InFlightBatch& b2 = state_.StartBatch(8, s1_, 10, kStart, kStart + kAckTimeout);
  EXPECT_EQ(b2.records.size(), 2u);
  EXPECT_EQ(state_.pending_count(), 0u);
  EXPECT_EQ(state_.pending_bytes(), 0u);
  EXPECT_EQ(state_.in_flight_records(), 5u);
  EXPECT_EQ(state_.delivered_upto, 10);
}

TEST_F(PartitionStateTest, CancelBatchRestoresPendingAsItWas) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 4));
  state_.StartBatch(1, s1_, 2, kStart, kStart + kAckTimeout);
  state_.CancelBatch(1);
  EXPECT_THAT(PendingOffsets(), ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(PendingAttempts(), ElementsAre(1u, 1u, 1u, 1u));
  EXPECT_EQ(state_.pending_bytes(), 40u);
  EXPECT_EQ(state_.in_flight_batches(), 0u);
  EXPECT_EQ(g_released, 0);
}

TEST_F(PartitionStateTest, AckWholeBatchWithEmptyOffsets) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 5));
  state_.StartBatch(1, s1_, 3, kStart, kStart + kAckTimeout);
  const SettleEffect e =
      state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK), kStart + std::chrono::milliseconds(25));
  EXPECT_EQ(e.acked, 3u);
  EXPECT_THAT(e.retry, IsEmpty());
  EXPECT_THAT(e.rejected, IsEmpty());
  EXPECT_EQ(e.stale, 0u);
  EXPECT_EQ(e.release.messages, 3u);
  EXPECT_EQ(e.release.bytes, 30u);
  EXPECT_EQ(e.release.stream, s1_);
  EXPECT_TRUE(e.batch_done);
  EXPECT_DOUBLE_EQ(e.latency_ms, 25.0);
  EXPECT_EQ(g_released, 3);  // payloads freed on settlement

  EXPECT_EQ(state_.in_flight_batches(), 0u);
  EXPECT_EQ(state_.in_flight_records(), 0u);
  EXPECT_THAT(state_.Watermark(), Optional(3));  // 3 and 4 still pending
  EXPECT_THAT(PendingOffsets(), ElementsAre(3, 4));

  // The batch is gone: settling it again is stale.
  const SettleEffect again = state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK), kStart);
  EXPECT_EQ(again.stale, 1u);
  EXPECT_EQ(again.acked, 0u);
  EXPECT_THAT(state_.Watermark(), Optional(3));
}

TEST_F(PartitionStateTest, AckByExplicitOffsets) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 4));
  state_.StartBatch(1, s1_, 4, kStart, kStart + kAckTimeout);

  SettleEffect e = state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK, {1, 3}), kStart);
  EXPECT_EQ(e.acked, 2u);
  EXPECT_EQ(e.release.messages, 2u);
  EXPECT_EQ(e.release.bytes, 20u);
  EXPECT_FALSE(e.batch_done);
  EXPECT_EQ(state_.in_flight_records(), 2u);
  EXPECT_THAT(state_.Watermark(), Optional(0));  // 0 still unsettled

  e = state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK, {0}), kStart);
  EXPECT_EQ(e.acked, 1u);
  EXPECT_THAT(state_.Watermark(), Optional(2));

  // Empty offsets now means "the rest": only 2.
  e = state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK), kStart);
  EXPECT_EQ(e.acked, 1u);
  EXPECT_EQ(e.release.messages, 1u);
  EXPECT_TRUE(e.batch_done);
  EXPECT_THAT(state_.Watermark(), Optional(4));
  EXPECT_EQ(state_.in_flight_batches(), 0u);
}

TEST_F(PartitionStateTest, RejectHandsTheRecordBackUnsettled) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 2));
  state_.StartBatch(1, s1_, 2, kStart, kStart + kAckTimeout);
  SettleEffect e = state_.Settle("s1", Settlement(1, v1::OUTCOME_REJECT, {0}), kStart);
  ASSERT_EQ(e.rejected.size(), 1u);
  EXPECT_EQ(e.rejected[0].record.offset, 0);
  EXPECT_EQ(e.acked, 0u);
  EXPECT_EQ(e.release.messages, 1u);
  // The dispatcher decides: dead-letter (settled once Kafka has it) or skip.
  EXPECT_THAT(state_.Watermark(), Optional(0));
  state_.Skip(0);
  EXPECT_THAT(state_.Watermark(), Optional(1));
  EXPECT_EQ(state_.pending_count(), 0u);  // not redelivered
}

TEST_F(PartitionStateTest, DeadLetterSettlesOnlyWhenFinished) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 2));
  state_.StartBatch(1, s1_, 2, kStart, kStart + kAckTimeout);
  SettleEffect e = state_.Settle("s1", Settlement(1, v1::OUTCOME_REJECT, {0}), kStart);
  ASSERT_EQ(state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK, {1}), kStart).acked, 1u);
  state_.StartDeadLetter(std::move(e.rejected[0]));
  ASSERT_NE(state_.dead_letter(0), nullptr);
  EXPECT_EQ(state_.dead_letter(0)->record.value.substr(0, 2), "v0");  // payload kept
  EXPECT_THAT(state_.Watermark(), Optional(0));
  EXPECT_FALSE(state_.FinishDeadLetter(7));
  EXPECT_TRUE(state_.FinishDeadLetter(0));
  EXPECT_THAT(state_.Watermark(), Optional(2));
  EXPECT_EQ(state_.dead_letter_count(), 0u);
  EXPECT_EQ(state_.counters.dead_lettered, 1u);
}

class StaleSettlementTest : public PartitionStateTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 6));
    state_.StartBatch(1, s1_, 3, kStart, kStart + kAckTimeout);  // 0, 1, 2
    ASSERT_EQ(state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK, {1}), kStart).acked, 1u);
  }

  // Nothing but the stale count changed.
  void ExpectUnchanged(const SettleEffect& e) {
    EXPECT_EQ(e.acked, 0u);
    EXPECT_THAT(e.retry, IsEmpty());
    EXPECT_THAT(e.rejected, IsEmpty());
    EXPECT_EQ(e.release.messages, 0u);
    EXPECT_EQ(e.release.bytes, 0u);
    EXPECT_FALSE(e.batch_done);
    EXPECT_EQ(state_.in_flight_batches(), 1u);
    EXPECT_EQ(state_.in_flight_records(), 2u);
    EXPECT_THAT(PendingOffsets(), ElementsAre(3, 4, 5));
    EXPECT_THAT(state_.Watermark(), Optional(0));
    EXPECT_TRUE(state_.tracker().IsUnsettled(0));
    EXPECT_TRUE(state_.tracker().IsUnsettled(2));
  }
};

TEST_F(StaleSettlementTest, UnknownBatchId) {
  SettleEffect e = state_.Settle("s1", Settlement(99, v1::OUTCOME_ACK), kStart);
  EXPECT_EQ(e.stale, 1u);
  ExpectUnchanged(e);
  e = state_.Settle("s1", Settlement(99, v1::OUTCOME_ACK, {0, 2}), kStart);
  EXPECT_EQ(e.stale, 2u);  // one per offset named
  ExpectUnchanged(e);
}

TEST_F(StaleSettlementTest, WrongStreamId) {
  SettleEffect e = state_.Settle("s2", Settlement(1, v1::OUTCOME_ACK), kStart);
  EXPECT_EQ(e.stale, 1u);
  ExpectUnchanged(e);
  e = state_.Settle("s2", Settlement(1, v1::OUTCOME_RETRY, {0}), kStart);
  EXPECT_EQ(e.stale, 1u);
  ExpectUnchanged(e);
}

TEST_F(StaleSettlementTest, OffsetNotInBatch) {
  // 4 is pending (never sent), 7 was never received, -1 is nonsense.
  const SettleEffect e = state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK, {4, 7, -1}), kStart);
  EXPECT_EQ(e.stale, 3u);
  ExpectUnchanged(e);
}

TEST_F(StaleSettlementTest, RepeatedOffset) {
  // 1 was ACKed in SetUp.
  SettleEffect e = state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK, {1}), kStart);
  EXPECT_EQ(e.stale, 1u);
  ExpectUnchanged(e);
  e = state_.Settle("s1", Settlement(1, v1::OUTCOME_RETRY, {1}), kStart);
  EXPECT_EQ(e.stale, 1u);
  ExpectUnchanged(e);
}

TEST_F(StaleSettlementTest, StaleOffsetsDoNotSpoilTheValidOnes) {
  // 0 is valid, 1 already settled, 0 repeated within the same settlement.
  const SettleEffect e = state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK, {0, 1, 0}), kStart);
  EXPECT_EQ(e.acked, 1u);
  EXPECT_EQ(e.stale, 2u);
  EXPECT_EQ(e.release.messages, 1u);
  EXPECT_THAT(state_.Watermark(), Optional(2));
  EXPECT_EQ(state_.in_flight_records(), 1u);
}

TEST_F(PartitionStateTest, RetryHandsRecordsBackAndRedeliverRequeuesInOrder) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 5));
  state_.StartBatch(1, s1_, 3, kStart, kStart + kAckTimeout);  // 0, 1, 2; pending 3, 4
  const MonoTime later = kStart + std::chrono::milliseconds(40);
  SettleEffect e = state_.Settle("s1", Settlement(1, v1::OUTCOME_RETRY, {1}), later);
  ASSERT_EQ(e.retry.size(), 1u);
  EXPECT_EQ(e.acked, 0u);
  EXPECT_EQ(e.release.messages, 1u);  // the window is given back
  EXPECT_EQ(e.release.bytes, 10u);
  EXPECT_FALSE(e.batch_done);
  EXPECT_EQ(g_released, 0);  // a retried record keeps its payload

  state_.Redeliver(std::move(e.retry), later);
  EXPECT_THAT(PendingOffsets(), ElementsAre(1, 3, 4));
  EXPECT_THAT(PendingAttempts(), ElementsAre(2u, 1u, 1u));
  EXPECT_EQ(state_.pending_bytes(), 30u);
  EXPECT_EQ(state_.pending_at(0).record.value.substr(0, 2), "v1");  // payload intact
  EXPECT_THAT(state_.Watermark(), Optional(0));

  // ACK the rest of the batch: the watermark stops at the retried record.
  ASSERT_EQ(state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK), later).acked, 2u);
  EXPECT_EQ(state_.in_flight_batches(), 0u);
  EXPECT_THAT(state_.Watermark(), Optional(1));

  InFlightBatch& b = state_.StartBatch(2, s1_, 1, later, later + kAckTimeout);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.records[0].record.offset, 1);
  EXPECT_EQ(b.records[0].attempt, 2u);
  e = state_.Settle("s1", Settlement(2, v1::OUTCOME_RETRY), later);
  ASSERT_EQ(e.retry.size(), 1u);
  EXPECT_TRUE(e.batch_done);
  state_.Redeliver(std::move(e.retry), later);
  EXPECT_THAT(PendingOffsets(), ElementsAre(1, 3, 4));
  EXPECT_THAT(PendingAttempts(), ElementsAre(3u, 1u, 1u));
  EXPECT_EQ(state_.in_flight_batches(), 0u);
  EXPECT_THAT(state_.Watermark(), Optional(1));
}

TEST_F(PartitionStateTest, RedeliverMergesBetweenPendingRecords) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 6));
  state_.StartBatch(1, s1_, 2, kStart, kStart + kAckTimeout);  // 0, 1
  state_.StartBatch(2, s1_, 2, kStart, kStart + kAckTimeout);  // 2, 3; pending 4, 5
  SettleEffect e = state_.Settle("s1", Settlement(1, v1::OUTCOME_RETRY, {0}), kStart);
  state_.Redeliver(std::move(e.retry), kStart);
  EXPECT_THAT(PendingOffsets(), ElementsAre(0, 4, 5));
  e = state_.Settle("s1", Settlement(2, v1::OUTCOME_RETRY, {3}), kStart);
  state_.Redeliver(std::move(e.retry), kStart);
  EXPECT_THAT(PendingOffsets(), ElementsAre(0, 3, 4, 5));
  EXPECT_THAT(PendingAttempts(), ElementsAre(2u, 2u, 1u, 1u));
  EXPECT_EQ(state_.pending_bytes(), 40u);
}

TEST_F(PartitionStateTest, CancelAfterTakesBackLaterUnsettledRecords) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 8));
  state_.StartBatch(1, s1_, 4, kStart, kStart + kAckTimeout);  // 0..3
  state_.StartBatch(2, s2_, 4, kStart, kStart + kAckTimeout);  // 4..7
  ASSERT_EQ(state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK, {3}), kStart).acked, 1u);
  ASSERT_EQ(state_.Settle("s2", Settlement(2, v1::OUTCOME_ACK, {5}), kStart).acked, 1u);

  Withdrawn w = state_.CancelAfter(1);
  std::vector<int64_t> taken;
  for (const auto& r : w.records) taken.push_back(r.record.offset);
  EXPECT_THAT(taken, UnorderedElementsAre(2, 4, 6, 7));  // ACKed 3 and 5 stay settled
  EXPECT_THAT(w.finished_batches, ElementsAre(2));       // batch 1 still holds 0 and 1
  EXPECT_EQ(state_.in_flight_records(), 2u);
  uint64_t released = 0;
  for (const auto& r : w.releases) released += r.messages;
  EXPECT_EQ(released, 4u);
  // Settling a cancelled offset is stale.
  EXPECT_EQ(state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK, {2}), kStart).stale, 1u);
  state_.Redeliver(std::move(w.records), kStart);
  EXPECT_THAT(PendingOffsets(), ElementsAre(2, 4, 6, 7));
  EXPECT_THAT(PendingAttempts(), ElementsAre(2u, 2u, 2u, 2u));
}

TEST_F(PartitionStateTest, TakeExpiredAndExtend) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 4));
  state_.StartBatch(1, s1_, 2, kStart, kStart + std::chrono::seconds(1));
  state_.StartBatch(2, s1_, 2, kStart, kStart + std::chrono::seconds(2));
  EXPECT_THAT(state_.NextDeadline(), Optional(kStart + std::chrono::seconds(1)));
  EXPECT_EQ(state_.Extend(1, "s2", kStart + std::chrono::seconds(5)), nullptr);  // not its stream
  EXPECT_NE(state_.Extend(1, "s1", kStart + std::chrono::seconds(5)), nullptr);
  Withdrawn w = state_.TakeExpired(kStart + std::chrono::seconds(2));
  EXPECT_THAT(w.finished_batches, ElementsAre(2));
  ASSERT_EQ(w.records.size(), 2u);
  EXPECT_EQ(w.records[0].record.offset, 2);
  EXPECT_THAT(state_.NextDeadline(), Optional(kStart + std::chrono::seconds(5)));
  EXPECT_TRUE(state_.TakeExpired(kStart + std::chrono::seconds(4)).records.empty());
}

TEST_F(PartitionStateTest, RetryQueueHandsOutDueRecordsInOffsetOrder) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 3));
  state_.StartBatch(1, s1_, 3, kStart, kStart + kAckTimeout);
  SettleEffect e = state_.Settle("s1", Settlement(1, v1::OUTCOME_RETRY), kStart);
  ASSERT_EQ(e.retry.size(), 3u);
  state_.AddRetry(std::move(e.retry[2]), kStart + std::chrono::milliseconds(10));
  state_.AddRetry(std::move(e.retry[0]), kStart + std::chrono::milliseconds(30));
  state_.AddRetry(std::move(e.retry[1]), kStart + std::chrono::milliseconds(10));
  EXPECT_THAT(state_.NextRetryDue(), Optional(kStart + std::chrono::milliseconds(10)));
  EXPECT_TRUE(state_.TakeDueRetries(kStart, 10).empty());
  std::vector<PendingRecord> due = state_.TakeDueRetries(kStart + std::chrono::milliseconds(10), 10);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].record.offset, 1);
  EXPECT_EQ(due[1].record.offset, 2);
  EXPECT_EQ(state_.retry_count(), 1u);
}

TEST_F(PartitionStateTest, ReturnInFlightRequeuesUnsettledAndKeepsSettled) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 8));
  state_.StartBatch(1, s1_, 3, kStart, kStart + kAckTimeout);  // 0, 1, 2 on s1
  state_.StartBatch(2, s2_, 2, kStart, kStart + kAckTimeout);  // 3, 4 on s2
  state_.StartBatch(3, s1_, 1, kStart, kStart + kAckTimeout);  // 5 on s1; pending 6, 7
  ASSERT_EQ(state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK, {1}), kStart).acked, 1u);
  ASSERT_EQ(state_.Settle("s2", Settlement(2, v1::OUTCOME_ACK, {3}), kStart).acked, 1u);
  ASSERT_EQ(g_released, 2);

  uint64_t returned = 0;
  const std::vector<uint64_t> ids = state_.ReturnInFlight("s1", &returned);
  EXPECT_THAT(ids, UnorderedElementsAre(1u, 3u));
  EXPECT_EQ(returned, 3u);  // 0, 2, 5
  EXPECT_THAT(PendingOffsets(), ElementsAre(0, 2, 5, 6, 7));
  EXPECT_THAT(PendingAttempts(), ElementsAre(2u, 2u, 2u, 1u, 1u));
  EXPECT_EQ(state_.pending_bytes(), 50u);
  EXPECT_FALSE(state_.HasInFlightOn("s1"));
  EXPECT_TRUE(state_.HasInFlightOn("s2"));
  EXPECT_EQ(state_.in_flight_batches(), 1u);
  EXPECT_EQ(state_.in_flight_records(), 1u);  // 4 on s2
  EXPECT_EQ(g_released, 2);  // nothing unsettled was freed

  // 1 stays settled: the watermark waits for 0 only.
  EXPECT_THAT(state_.Watermark(), Optional(0));
  EXPECT_TRUE(state_.tracker().IsUnsettled(0));
  EXPECT_FALSE(state_.tracker().IsUnsettled(1));

  // Settlements for the returned batches are stale now.
  EXPECT_EQ(state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK), kStart).stale, 1u);
  EXPECT_EQ(state_.Settle("s1", Settlement(3, v1::OUTCOME_ACK, {5}), kStart).stale, 1u);
  EXPECT_THAT(state_.Watermark(), Optional(0));

  // Redelivered and ACKed, the watermark runs up to s2's unsettled 4.
  InFlightBatch& b = state_.StartBatch(4, s2_, 3, kStart, kStart + kAckTimeout);
  ASSERT_EQ(b.records.size(), 3u);
  EXPECT_EQ(b.records[0].attempt, 2u);
  ASSERT_EQ(state_.Settle("s2", Settlement(4, v1::OUTCOME_ACK), kStart).acked, 3u);
  EXPECT_THAT(state_.Watermark(), Optional(4));
  ASSERT_EQ(state_.Settle("s2", Settlement(2, v1::OUTCOME_ACK), kStart).acked, 1u);
  EXPECT_THAT(state_.Watermark(), Optional(6));

  // A stream with nothing in flight returns nothing.
  returned = 99;
  EXPECT_THAT(state_.ReturnInFlight("s1", &returned), IsEmpty());
  EXPECT_EQ(returned, 0u);
}

TEST_F(PartitionStateTest, DropInFlightGivesBackStreamWindows) {
  ASSERT_NO_FATAL_FAILURE(ReceiveRange(0, 4));
  // The dispatcher acquires the window before starting a batch.
  ASSERT_EQ(s1_->AcquireWindow(3, [](size_t) { return uint64_t{10}; }, nullptr), 3u);
  state_.StartBatch(1, s1_, 3, kStart, kStart + kAckTimeout);
  ASSERT_EQ(state_.Settle("s1", Settlement(1, v1::OUTCOME_ACK, {0}), kStart).acked, 1u);
  s1_->ReleaseWindow(1, 10);  // as the dispatcher does with the effect
  ASSERT_EQ(s1_->in_flight_messages(), 2u);

  uint64_t dropped = 0;
  EXPECT_THAT(state_.DropInFlight(&dropped), ElementsAre(1u));
  EXPECT_EQ(dropped, 2u);
  EXPECT_EQ(s1_->in_flight_messages(), 0u);
  EXPECT_EQ(state_.in_flight_batches(), 0u);
  EXPECT_THAT(state_.Watermark(), Optional(1));  // 1 and 2 were never settled
}

}  // namespace
}  // namespace kafka_sidecar
