#include "kafka_sidecar_client/batch_outcome.h"

#include <stdexcept>
#include <string>

#include "gtest/gtest.h"

namespace kafka_sidecar_client {
namespace {

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

TEST_F(BatchOutcomeTest, TrueAcksWithoutAReason) {
  MessageOutcome o = DecideWith([](const Message&) { return true; });
  EXPECT_EQ(o.offset, 9);
  EXPECT_EQ(o.outcome, v1::OUTCOME_ACK);
  EXPECT_TRUE(o.reason.empty());
}

TEST_F(BatchOutcomeTest, AnEmptyRejectStillHasAReason) {
  MessageOutcome o = DecideWith([](const Message&) -> bool { throw Reject(""); });
  EXPECT_EQ(o.outcome, v1::OUTCOME_REJECT);
  EXPECT_EQ(o.reason, "rejected");
}

TEST_F(BatchOutcomeTest, AnythingThrownIsARetry) {
  MessageOutcome o = DecideWith([](const Message&) -> bool { throw 42; });
  EXPECT_EQ(o.outcome, v1::OUTCOME_RETRY);
  EXPECT_FALSE(o.reason.empty());
}

TEST_F(BatchOutcomeTest, LongReasonsAreCutAtACharacterBoundary) {
  std::string reason(kMaxReasonBytes - 1, 'x');
  reason += "\xc3\xa9\xc3\xa9";  // "éé": the cut falls inside the first one
  MessageOutcome o = DecideWith([&](const Message&) -> bool { throw std::runtime_error(reason); });
  EXPECT_EQ(o.reason, std::string(kMaxReasonBytes - 1, 'x'));
}

TEST_F(BatchOutcomeTest, NullKeyAndTombstoneAreNotEmptyStrings) {
  MessageOutcome o = DecideWith([](const Message& m) {
    EXPECT_FALSE(m.key().has_value());
    EXPECT_FALSE(m.value().has_value());
    return true;
  });
  EXPECT_EQ(o.outcome, v1::OUTCOME_ACK);
  message_->set_key("");
  message_->set_value("");
  DecideWith([](const Message& m) {
    EXPECT_EQ(m.key(), std::string_view(""));
    EXPECT_EQ(m.value(), std::string_view(""));
    return true;
  });
}

TEST(SettleRequestTest, AllAckedIsOneSettlementForTheWholeBatch) {
  v1::ConsumeRequest r = SettleRequest(5, {{1, v1::OUTCOME_ACK, ""}, {2, v1::OUTCOME_ACK, ""}});
  ASSERT_EQ(r.settle().settlements_size(), 1);
  EXPECT_EQ(r.settle().settlements(0).batch_id(), 5u);
  EXPECT_EQ(r.settle().settlements(0).offsets_size(), 0);
}

TEST(SettleRequestTest, AcksThenRejectsThenRetries) {
  v1::ConsumeRequest r = SettleRequest(5, {{1, v1::OUTCOME_RETRY, "r1"},
                                           {2, v1::OUTCOME_ACK, ""},
                                           {3, v1::OUTCOME_REJECT, "x"},
                                           {4, v1::OUTCOME_ACK, ""}});
  const auto& s = r.settle().settlements();
  ASSERT_EQ(s.size(), 3);
  EXPECT_EQ(s[0].outcome(), v1::OUTCOME_ACK);
  EXPECT_EQ(s[0].offsets_size(), 2);
  EXPECT_EQ(s[1].outcome(), v1::OUTCOME_REJECT);
  EXPECT_EQ(s[1].reason(), "x");
  EXPECT_EQ(s[2].outcome(), v1::OUTCOME_RETRY);
  EXPECT_EQ(s[2].offsets(0), 1);
  for (const auto& one : s) EXPECT_EQ(one.batch_id(), 5u);
}

}  // namespace
}  // namespace kafka_sidecar_client
