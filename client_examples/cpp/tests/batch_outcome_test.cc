#include "kafka_sidecar_client/batch_outcome.h"

#include <stdexcept>
#include <string>

#include "gtest/gtest.h"

namespace kafka_sidecar_client {
namespace {

using std::chrono::milliseconds;

class BatchOutcomeTest : public ::testing::Test {
 protected:
  BatchOutcomeTest() {
    batch_.set_topic("t");
    message_ = batch_.add_messages();
    message_->set_offset(9);
  }
  MessageOutcome DecideWith(const Handler& h) { return Decide(h, Message(batch_, *message_)); }

  v1::Batch batch_;
  v1::Message* message_;
};

TEST_F(BatchOutcomeTest, AckHasNoReason) {
  MessageOutcome o = DecideWith([](const Message&) { return Outcome::Ack(); });
  EXPECT_EQ(o.offset, 9);
  EXPECT_EQ(o.outcome, v1::OUTCOME_ACK);
  EXPECT_TRUE(o.reason.empty());
}

TEST_F(BatchOutcomeTest, RetryCarriesItsDelay) {
  MessageOutcome o = DecideWith([](const Message&) { return Outcome::Retry("later", milliseconds(250)); });
  EXPECT_EQ(o.outcome, v1::OUTCOME_RETRY);
  EXPECT_EQ(o.reason, "later");
  EXPECT_EQ(o.retry_after_ms, 250u);
}

TEST_F(BatchOutcomeTest, ANegativeDelayIsTheSidecarsBackoffAndAHugeOneIsCapped) {
  EXPECT_EQ(DecideWith([](const Message&) { return Outcome::Retry("x", milliseconds(-5)); })
                .retry_after_ms,
            0u);
  EXPECT_EQ(DecideWith([](const Message&) {
              return Outcome::Retry("x", milliseconds(int64_t{1} << 40));
            }).retry_after_ms,
            UINT32_MAX);
}

TEST_F(BatchOutcomeTest, EmptyReasonsStillSaySomething) {
  EXPECT_EQ(DecideWith([](const Message&) { return Outcome::Reject(""); }).reason, "rejected");
  EXPECT_EQ(DecideWith([](const Message&) -> Outcome { throw Reject(""); }).reason, "rejected");
  EXPECT_EQ(DecideWith([](const Message&) { return Outcome::Retry(""); }).reason, "retry");
}

TEST_F(BatchOutcomeTest, ARejectExceptionRejectsAnythingElseThrownRetries) {
  MessageOutcome rejected = DecideWith([](const Message&) -> Outcome { throw Reject("bad"); });
  EXPECT_EQ(rejected.outcome, v1::OUTCOME_REJECT);
  EXPECT_EQ(rejected.reason, "bad");
  MessageOutcome thrown =
      DecideWith([](const Message&) -> Outcome { throw std::runtime_error("db down"); });
  EXPECT_EQ(thrown.outcome, v1::OUTCOME_RETRY);
  EXPECT_EQ(thrown.reason, "db down");
  EXPECT_EQ(thrown.retry_after_ms, 0u);
  MessageOutcome odd = DecideWith([](const Message&) -> Outcome { throw 42; });
  EXPECT_EQ(odd.outcome, v1::OUTCOME_RETRY);
  EXPECT_FALSE(odd.reason.empty());
}

TEST_F(BatchOutcomeTest, LongReasonsAreCutAtACharacterBoundary) {
  std::string reason(kMaxReasonBytes - 1, 'x');
  reason += "\xc3\xa9\xc3\xa9";  // "éé": the cut falls inside the first one
  MessageOutcome o = DecideWith([&](const Message&) { return Outcome::Reject(reason); });
  EXPECT_EQ(o.reason, std::string(kMaxReasonBytes - 1, 'x'));
}

TEST_F(BatchOutcomeTest, NullKeyAndTombstoneAreNotEmptyStrings) {
  DecideWith([](const Message& m) {
    EXPECT_FALSE(m.key().has_value());
    EXPECT_FALSE(m.value().has_value());
    EXPECT_TRUE(m.is_tombstone());
    return Outcome::Ack();
  });
  message_->set_key("");
  message_->set_value("");
  DecideWith([](const Message& m) {
    EXPECT_EQ(m.key(), std::string_view(""));
    EXPECT_EQ(m.value(), std::string_view(""));
    EXPECT_FALSE(m.is_tombstone());
    return Outcome::Ack();
  });
}

// Offsets 0..4; the handler retries offset 1.
class DecideBatchTest : public ::testing::Test {
 protected:
  DecideBatchTest() {
    batch_.set_batch_id(3);
    for (int i = 0; i < 5; ++i) batch_.add_messages()->set_offset(i);
  }
  BatchDecision Run(v1::Ordering ordering) {
    return DecideBatch(
        [this](const Message& m) {
          ++calls_;
          return m.offset() == 1 ? Outcome::Retry("r") : Outcome::Ack();
        },
        batch_, ordering, abandoned_);
  }
  v1::Batch batch_;
  std::atomic<bool> abandoned_{false};
  int calls_ = 0;
};

TEST_F(DecideBatchTest, PartitionOrderingStopsAtTheFirstRetry) {
  BatchDecision d = Run(v1::ORDERING_PARTITION);
  EXPECT_TRUE(d.settle);
  ASSERT_EQ(d.outcomes.size(), 2u);
  EXPECT_EQ(d.outcomes[1].outcome, v1::OUTCOME_RETRY);
  EXPECT_EQ(calls_, 2);
}

TEST_F(DecideBatchTest, UnspecifiedOrderingIsReadAsPartition) {
  EXPECT_EQ(Run(v1::ORDERING_UNSPECIFIED).outcomes.size(), 2u);
}

TEST_F(DecideBatchTest, NoOrderingHandlesEveryMessage) {
  BatchDecision d = Run(v1::ORDERING_NONE);
  EXPECT_TRUE(d.settle);
  ASSERT_EQ(d.outcomes.size(), 5u);
  EXPECT_EQ(d.outcomes[1].outcome, v1::OUTCOME_RETRY);
  EXPECT_EQ(d.outcomes[2].outcome, v1::OUTCOME_ACK);
  EXPECT_EQ(calls_, 5);
}

TEST_F(DecideBatchTest, AnAbandonedBatchIsNeitherHandledNorSettled) {
  abandoned_ = true;
  BatchDecision d = Run(v1::ORDERING_NONE);
  EXPECT_FALSE(d.settle);
  EXPECT_EQ(calls_, 0);
}

v1::Batch BatchOf(uint64_t id, int messages) {
  v1::Batch b;
  b.set_batch_id(id);
  for (int i = 0; i < messages; ++i) b.add_messages()->set_offset(i + 1);
  return b;
}

TEST(SettleRequestTest, AllAckedIsOneSettlementForTheWholeBatch) {
  v1::ConsumeRequest r =
      SettleRequest(BatchOf(5, 2), {{1, v1::OUTCOME_ACK, "", 0}, {2, v1::OUTCOME_ACK, "", 0}});
  ASSERT_EQ(r.settle().settlements_size(), 1);
  EXPECT_EQ(r.settle().settlements(0).batch_id(), 5u);
  EXPECT_EQ(r.settle().settlements(0).offsets_size(), 0);
}

TEST(SettleRequestTest, ACutShortBatchNamesItsAcksOffsets) {
  // Never "the whole batch" when not every message was decided.
  v1::ConsumeRequest r = SettleRequest(BatchOf(5, 3), {{1, v1::OUTCOME_ACK, "", 0}});
  ASSERT_EQ(r.settle().settlements_size(), 1);
  EXPECT_EQ(r.settle().settlements(0).offsets_size(), 1);
}

TEST(SettleRequestTest, AcksThenRejectsThenRetriesGroupedByReasonAndDelay) {
  v1::ConsumeRequest r = SettleRequest(BatchOf(5, 7), {{1, v1::OUTCOME_RETRY, "r", 50},
                                                       {2, v1::OUTCOME_ACK, "", 0},
                                                       {3, v1::OUTCOME_REJECT, "x", 0},
                                                       {4, v1::OUTCOME_RETRY, "r", 100},
                                                       {5, v1::OUTCOME_REJECT, "x", 0},
                                                       {6, v1::OUTCOME_RETRY, "r", 50},
                                                       {7, v1::OUTCOME_ACK, "", 0}});
  const auto& s = r.settle().settlements();
  ASSERT_EQ(s.size(), 4);
  EXPECT_EQ(s[0].outcome(), v1::OUTCOME_ACK);
  EXPECT_EQ(s[0].offsets_size(), 2);
  EXPECT_EQ(s[1].outcome(), v1::OUTCOME_REJECT);
  EXPECT_EQ(s[1].reason(), "x");
  EXPECT_EQ(s[1].offsets_size(), 2);
  EXPECT_EQ(s[2].outcome(), v1::OUTCOME_RETRY);
  EXPECT_EQ(s[2].retry_after_ms(), 50u);
  EXPECT_EQ(std::vector<int64_t>(s[2].offsets().begin(), s[2].offsets().end()),
            (std::vector<int64_t>{1, 6}));
  EXPECT_EQ(s[3].outcome(), v1::OUTCOME_RETRY);
  EXPECT_EQ(s[3].retry_after_ms(), 100u);
  EXPECT_EQ(std::vector<int64_t>(s[3].offsets().begin(), s[3].offsets().end()),
            (std::vector<int64_t>{4}));
  for (const auto& one : s) EXPECT_EQ(one.batch_id(), 5u);
}

}  // namespace
}  // namespace kafka_sidecar_client
