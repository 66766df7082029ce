#include "sidecar/kafka/commit_gate.h"

#include "gtest/gtest.h"
#include "tests/support/fake_clock.h"

namespace kafka_sidecar {
namespace {

class CommitGateTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  CommitGate gate_{Millis(20000)};
};

TEST_F(CommitGateTest, OpenWithoutARebalance) {
  EXPECT_TRUE(gate_.open(clock_.Now()));
  EXPECT_FALSE(gate_.Assigned(5)) << "an ordinary assignment ends no hold";
  EXPECT_TRUE(gate_.open(clock_.Now()));
}

TEST_F(CommitGateTest, HoldsFromRevokeUntilTheNextRoundsAssignment) {
  gate_.Revoked(7, clock_.Now());
  EXPECT_FALSE(gate_.open(clock_.Now()));
  // librdkafka's assignment right after the revoke, same round.
  EXPECT_FALSE(gate_.Assigned(7));
  clock_.Advance(Millis(3000));
  EXPECT_FALSE(gate_.open(clock_.Now()));
  // The second round completes the rebalance.
  EXPECT_TRUE(gate_.Assigned(8));
  EXPECT_TRUE(gate_.open(clock_.Now()));
  EXPECT_FALSE(gate_.Assigned(9)) << "the hold ended once";
}

TEST_F(CommitGateTest, ARevokeInsideAHoldWaitsForItsOwnNextRound) {
  gate_.Revoked(7, clock_.Now());
  EXPECT_FALSE(gate_.Assigned(7));
  // A third member joined: the second round revokes again.
  gate_.Revoked(8, clock_.Now());
  EXPECT_FALSE(gate_.Assigned(8));
  EXPECT_FALSE(gate_.open(clock_.Now()));
  EXPECT_TRUE(gate_.Assigned(9));
  EXPECT_TRUE(gate_.open(clock_.Now()));
}

TEST_F(CommitGateTest, ARebalanceThatNeverCompletesStopsHoldingAfterMaxHold) {
  gate_.Revoked(7, clock_.Now());
  clock_.Advance(Millis(19999));
  EXPECT_FALSE(gate_.open(clock_.Now()));
  // A later revoke does not restart the clock.
  gate_.Revoked(8, clock_.Now());
  clock_.Advance(Millis(1));
  EXPECT_TRUE(gate_.open(clock_.Now()));
  EXPECT_TRUE(gate_.holding()) << "a late assignment still ends the hold";
  EXPECT_TRUE(gate_.Assigned(9));
}

TEST_F(CommitGateTest, ALostAssignmentClearsTheHold) {
  gate_.Revoked(7, clock_.Now());
  gate_.Clear();
  EXPECT_TRUE(gate_.open(clock_.Now()));
  EXPECT_FALSE(gate_.Assigned(8));
}

}  // namespace
}  // namespace kafka_sidecar
