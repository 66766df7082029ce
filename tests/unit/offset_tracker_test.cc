// OffsetTracker: the per-partition commit watermark (SPEC §3 commits).
#include "sidecar/tracking/offset_tracker.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kafka_sidecar {
namespace {

using Result = OffsetTracker::SettleResult;
using ::testing::Optional;

const char* Str(Result r) {
  switch (r) {
    case Result::kSettled:
      return "kSettled";
    case Result::kStale:
      return "kStale";
  }
  return "?";
}

OffsetTracker TrackerWith(const std::vector<int64_t>& offsets) {
  OffsetTracker t;
  for (int64_t o : offsets) {
    EXPECT_TRUE(t.Receive(o)) << "offset " << o;
  }
  return t;
}

TEST(OffsetTrackerTest, NoWatermarkBeforeAnyReceipt) {
  OffsetTracker t;
  EXPECT_EQ(t.Watermark(), std::nullopt);
  EXPECT_EQ(t.unsettled(), 0u);
  EXPECT_EQ(t.last_received(), -1);
  EXPECT_EQ(Str(t.Settle(0)), "kStale");
  EXPECT_EQ(t.Watermark(), std::nullopt);
}

TEST(OffsetTrackerTest, WatermarkIsLowestUnsettledAfterReceipt) {
  OffsetTracker t = TrackerWith({10, 11, 12});
  EXPECT_THAT(t.Watermark(), Optional(10));
  EXPECT_EQ(t.unsettled(), 3u);
  EXPECT_EQ(t.last_received(), 12);
}

TEST(OffsetTrackerTest, InOrderSettlesAdvanceOneByOne) {
  OffsetTracker t = TrackerWith({0, 1, 2, 3});
  EXPECT_EQ(Str(t.Settle(0)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(1));
  EXPECT_EQ(Str(t.Settle(1)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(2));
  EXPECT_EQ(Str(t.Settle(2)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(3));
  EXPECT_EQ(Str(t.Settle(3)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(4));  // all settled: last + 1
  EXPECT_EQ(t.unsettled(), 0u);
}

TEST(OffsetTrackerTest, OutOfOrderSettlesHoldAtLowestUnsettled) {
  OffsetTracker t = TrackerWith({0, 1, 2, 3, 4});
  EXPECT_EQ(Str(t.Settle(3)), "kSettled");
  EXPECT_EQ(Str(t.Settle(1)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(0));
  EXPECT_TRUE(t.IsUnsettled(0));
  EXPECT_FALSE(t.IsUnsettled(1));
  EXPECT_EQ(t.unsettled(), 3u);

  EXPECT_EQ(Str(t.Settle(0)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(2));  // 1 was settled already
  EXPECT_EQ(Str(t.Settle(2)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(4));  // 3 was settled already
  EXPECT_EQ(Str(t.Settle(4)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(5));
}

TEST(OffsetTrackerTest, GapsInReceivedOffsetsNeverStall) {
  // 2..4 and 6..8 were compacted away or are transaction markers.
  OffsetTracker t = TrackerWith({0, 1, 5, 9});
  EXPECT_EQ(Str(t.Settle(0)), "kSettled");
  EXPECT_EQ(Str(t.Settle(1)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(5));  // skips the gap 2..4
  EXPECT_EQ(Str(t.Settle(9)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(5));
  EXPECT_EQ(Str(t.Settle(5)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(10));  // all settled: last + 1
  EXPECT_EQ(t.unsettled(), 0u);
}

TEST(OffsetTrackerTest, GapAtTheStartDoesNotStall) {
  OffsetTracker t = TrackerWith({100, 250});
  EXPECT_THAT(t.Watermark(), Optional(100));
  EXPECT_EQ(Str(t.Settle(100)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(250));
  EXPECT_EQ(Str(t.Settle(250)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(251));
}

TEST(OffsetTrackerTest, DuplicateSettleIsAlreadySettledAndChangesNothing) {
  OffsetTracker t = TrackerWith({0, 1, 2});
  EXPECT_EQ(Str(t.Settle(1)), "kSettled");
  // Still inside the window (0 is unsettled).
  EXPECT_EQ(Str(t.Settle(1)), "kStale");
  EXPECT_THAT(t.Watermark(), Optional(0));
  EXPECT_EQ(t.unsettled(), 2u);

  EXPECT_EQ(Str(t.Settle(0)), "kSettled");
  EXPECT_THAT(t.Watermark(), Optional(2));
  // Below the window now (popped).
  EXPECT_EQ(Str(t.Settle(0)), "kStale");
  EXPECT_EQ(Str(t.Settle(1)), "kStale");
  EXPECT_THAT(t.Watermark(), Optional(2));
  EXPECT_EQ(t.unsettled(), 1u);

  EXPECT_EQ(Str(t.Settle(2)), "kSettled");
  EXPECT_EQ(Str(t.Settle(2)), "kStale");
  EXPECT_THAT(t.Watermark(), Optional(3));
  EXPECT_EQ(t.unsettled(), 0u);
}

TEST(OffsetTrackerTest, UnknownOffsetsAreRejectedWithoutEffect) {
  OffsetTracker t = TrackerWith({0, 1, 5, 9});
  EXPECT_EQ(Str(t.Settle(-1)), "kStale");
  EXPECT_EQ(Str(t.Settle(10)), "kStale");   // beyond the last received
  EXPECT_EQ(Str(t.Settle(1000)), "kStale");
  EXPECT_EQ(Str(t.Settle(3)), "kStale");    // in a gap, inside the window
  EXPECT_EQ(Str(t.Settle(7)), "kStale");
  EXPECT_THAT(t.Watermark(), Optional(0));
  EXPECT_EQ(t.unsettled(), 4u);
  EXPECT_FALSE(t.IsUnsettled(3));
  EXPECT_FALSE(t.IsUnsettled(-1));
  EXPECT_FALSE(t.IsUnsettled(10));
}

TEST(OffsetTrackerTest, NeverReceivedOffsetBelowTheWindowIsStale) {
  // 2..4 were never received. Once 0 and 1 are settled the window starts at
  // 5; a settlement naming 3 is stale and changes nothing.
  OffsetTracker t = TrackerWith({0, 1, 5, 9});
  ASSERT_EQ(Str(t.Settle(0)), "kSettled");
  ASSERT_EQ(Str(t.Settle(1)), "kSettled");
  ASSERT_THAT(t.Watermark(), Optional(5));
  EXPECT_EQ(Str(t.Settle(3)), "kStale");
  EXPECT_THAT(t.Watermark(), Optional(5));
  EXPECT_EQ(t.unsettled(), 2u);
}

TEST(OffsetTrackerTest, RefetchedOffsetIsNotTrackedAgain) {
  OffsetTracker t = TrackerWith({0, 1, 2});
  EXPECT_FALSE(t.Receive(2));  // equal to the last received
  EXPECT_FALSE(t.Receive(1));  // below it, still unsettled
  EXPECT_EQ(t.unsettled(), 3u);
  EXPECT_EQ(t.last_received(), 2);

  ASSERT_EQ(Str(t.Settle(0)), "kSettled");
  ASSERT_EQ(Str(t.Settle(1)), "kSettled");
  ASSERT_EQ(Str(t.Settle(2)), "kSettled");
  EXPECT_FALSE(t.Receive(0));  // already settled: must not reopen it
  EXPECT_FALSE(t.Receive(2));
  EXPECT_THAT(t.Watermark(), Optional(3));
  EXPECT_EQ(t.unsettled(), 0u);
  EXPECT_FALSE(t.IsUnsettled(0));

  EXPECT_FALSE(t.Receive(-5));
  EXPECT_TRUE(t.Receive(3));
  EXPECT_THAT(t.Watermark(), Optional(3));
}

// Property: for random gaps and random settle order, the watermark equals
// min(unsettled) (or last + 1) as computed from a std::set, and never moves
// backwards.
TEST(OffsetTrackerTest, RandomizedMatchesReferenceAndIsMonotonic) {
  std::mt19937_64 rng(0x5EED1234u);
  for (int round = 0; round < 50; ++round) {
    OffsetTracker t;
    std::set<int64_t> unsettled;   // reference
    std::set<int64_t> received;
    std::vector<int64_t> settle_queue;
    int64_t next = static_cast<int64_t>(rng() % 20);
    int64_t last = -1;
    std::optional<int64_t> prev_watermark;

    auto reference = [&]() -> std::optional<int64_t> {
      if (last < 0) return std::nullopt;
      if (unsettled.empty()) return last + 1;
      return *unsettled.begin();
    };
    auto check = [&](const char* what) {
      const std::optional<int64_t> w = t.Watermark();
      ASSERT_EQ(w, reference()) << what << " round " << round;
      if (prev_watermark.has_value()) {
        ASSERT_TRUE(w.has_value());
        ASSERT_GE(*w, *prev_watermark) << what << " round " << round;
      }
      prev_watermark = w;
      ASSERT_EQ(t.unsettled(), unsettled.size());
    };

    for (int step = 0; step < 400; ++step) {
      const bool receive = settle_queue.empty() || rng() % 3 != 0;
      if (receive) {
        // Random gap of 0..4 missing offsets.
        next += static_cast<int64_t>(rng() % 5);
        ASSERT_TRUE(t.Receive(next));
        // A refetch of something already held is refused.
        if (rng() % 8 == 0) {
          ASSERT_FALSE(t.Receive(next - static_cast<int64_t>(rng() % 3)));
        }
        unsettled.insert(next);
        received.insert(next);
        settle_queue.push_back(next);
        last = next;
        ++next;
        ASSERT_NO_FATAL_FAILURE(check("receive"));
      } else {
        // Settle a random outstanding offset (random order).
        const size_t i = rng() % settle_queue.size();
        const int64_t o = settle_queue[i];
        settle_queue.erase(settle_queue.begin() + static_cast<std::ptrdiff_t>(i));
        ASSERT_EQ(Str(t.Settle(o)), "kSettled");
        unsettled.erase(o);
        ASSERT_NO_FATAL_FAILURE(check("settle"));
        // A duplicate settle of a random received offset changes nothing.
        if (rng() % 4 == 0) {
          auto it = received.begin();
          std::advance(it, static_cast<std::ptrdiff_t>(rng() % received.size()));
          const Result r = t.Settle(*it);
          ASSERT_EQ(Str(r), Str(unsettled.count(*it) ? Result::kSettled : Result::kStale));
          unsettled.erase(*it);
          settle_queue.erase(std::remove(settle_queue.begin(), settle_queue.end(), *it),
                             settle_queue.end());
          ASSERT_NO_FATAL_FAILURE(check("resettle"));
        }
      }
    }
    // Settle everything left in random order.
    std::shuffle(settle_queue.begin(), settle_queue.end(), rng);
    for (int64_t o : settle_queue) {
      ASSERT_EQ(Str(t.Settle(o)), "kSettled");
      unsettled.erase(o);
      ASSERT_NO_FATAL_FAILURE(check("final"));
    }
    EXPECT_THAT(t.Watermark(), Optional(last + 1));
  }
}

}  // namespace
}  // namespace kafka_sidecar
