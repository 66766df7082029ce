// ComputeBindings: partition -> stream binding (SPEC §3 partition binding).
#include "sidecar/binding/partition_binder.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kafka_sidecar {
namespace {

using Bindings = std::map<TopicPartition, std::string>;

Bindings Unbound(const std::vector<std::pair<std::string, int>>& topics) {
  Bindings b;
  for (const auto& [topic, count] : topics) {
    for (int p = 0; p < count; ++p) b[TopicPartition{topic, p}] = "";
  }
  return b;
}

std::vector<BinderStream> Streams(int n, const std::string& prefix = "s") {
  std::vector<BinderStream> out;
  for (int i = 0; i < n; ++i) out.push_back(BinderStream{prefix + std::to_string(i), {}});
  return out;
}

std::map<std::string, size_t> Loads(const Bindings& b, const std::vector<BinderStream>& streams) {
  std::map<std::string, size_t> load;
  for (const auto& s : streams) load[s.id] = 0;
  for (const auto& [tp, id] : b) {
    if (!id.empty()) ++load[id];
  }
  return load;
}

size_t Spread(const Bindings& b, const std::vector<BinderStream>& streams) {
  auto load = Loads(b, streams);
  size_t lo = SIZE_MAX, hi = 0;
  for (const auto& [id, n] : load) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  return hi - lo;
}

size_t Moves(const Bindings& before, const Bindings& after) {
  size_t n = 0;
  for (const auto& [tp, id] : after) {
    auto it = before.find(tp);
    if (it != before.end() && !it->second.empty() && it->second != id) ++n;
  }
  return n;
}

// Every partition of `current` is in the result exactly once, bound to a
// stream that exists and accepts its topic.
void ExpectValid(const Bindings& current, const Bindings& result,
                 const std::vector<BinderStream>& streams) {
  ASSERT_EQ(result.size(), current.size());
  for (const auto& [tp, id] : current) {
    ASSERT_EQ(result.count(tp), 1u) << tp.ToString();
  }
  for (const auto& [tp, id] : result) {
    if (id.empty()) continue;
    auto s = std::find_if(streams.begin(), streams.end(),
                          [&](const BinderStream& x) { return x.id == id; });
    ASSERT_NE(s, streams.end()) << tp.ToString() << " bound to unknown stream " << id;
    if (!s->topics.empty()) {
      EXPECT_THAT(s->topics, ::testing::Contains(tp.topic)) << tp.ToString() << " -> " << id;
    }
  }
}

TEST(PartitionBinderTest, NoStreamsLeavesEverythingUnbound) {
  Bindings current = Unbound({{"t", 4}});
  current[TopicPartition{"t", 1}] = "gone";
  Bindings result = ComputeBindings(current, {});
  ASSERT_EQ(result.size(), 4u);
  for (const auto& [tp, id] : result) {
    EXPECT_EQ(id, "") << tp.ToString();
  }
}

TEST(PartitionBinderTest, NoPartitionsIsEmpty) {
  EXPECT_TRUE(ComputeBindings({}, Streams(3)).empty());
}

TEST(PartitionBinderTest, EveryPartitionBoundExactlyOnceAndBalanced) {
  for (int partitions : {1, 2, 5, 12, 31, 64}) {
    for (int stream_count : {1, 2, 3, 4, 7, 10}) {
      SCOPED_TRACE(testing::Message() << partitions << " partitions, " << stream_count
                                      << " streams");
      const auto streams = Streams(stream_count);
      const Bindings current = Unbound({{"a", partitions / 2}, {"b", partitions - partitions / 2}});
      const Bindings result = ComputeBindings(current, streams);
      ASSERT_NO_FATAL_FAILURE(ExpectValid(current, result, streams));
      for (const auto& [tp, id] : result) {
        EXPECT_NE(id, "") << tp.ToString();
      }
      EXPECT_LE(Spread(result, streams), 1u);
    }
  }
}

TEST(PartitionBinderTest, RebalancesAnUnevenStartingPoint) {
  const auto streams = Streams(4);
  Bindings current = Unbound({{"t", 20}});
  for (auto& [tp, id] : current) id = "s0";  // everything on one stream
  const Bindings result = ComputeBindings(current, streams);
  ASSERT_NO_FATAL_FAILURE(ExpectValid(current, result, streams));
  EXPECT_LE(Spread(result, streams), 1u);
  EXPECT_EQ(Moves(current, result), 15u);  // s0 keeps 5, the others take 5 each
}

TEST(PartitionBinderTest, TopicFiltersAreRespected) {
  const std::vector<BinderStream> streams = {
      {"orders-only", {"orders"}},
      {"payments-only", {"payments"}},
      {"both", {"orders", "payments"}},
  };
  const Bindings current = Unbound({{"orders", 6}, {"payments", 6}, {"audit", 3}});
  const Bindings result = ComputeBindings(current, streams);
  ASSERT_NO_FATAL_FAILURE(ExpectValid(current, result, streams));
  for (const auto& [tp, id] : result) {
    if (tp.topic == "audit") {
      EXPECT_EQ(id, "") << tp.ToString() << ": no stream takes topic audit";
    } else {
      EXPECT_NE(id, "") << tp.ToString();
    }
  }
}

// With overlapping filters, shares are still balanced where the filters
// allow it: 12 eligible partitions, 3 streams, each able to hold 4.
TEST(PartitionBinderTest, BalancedWithOverlappingTopicFilters) {
  const std::vector<BinderStream> streams = {
      {"orders-only", {"orders"}},
      {"payments-only", {"payments"}},
      {"both", {"orders", "payments"}},
  };
  const Bindings current = Unbound({{"orders", 6}, {"payments", 6}});
  const Bindings result = ComputeBindings(current, streams);
  ASSERT_NO_FATAL_FAILURE(ExpectValid(current, result, streams));
  auto load = Loads(result, streams);
  EXPECT_EQ(load["orders-only"], 4u);
  EXPECT_EQ(load["payments-only"], 4u);
  EXPECT_EQ(load["both"], 4u);
}

TEST(PartitionBinderTest, BindingToAStreamThatNoLongerAcceptsTheTopicIsDropped) {
  std::vector<BinderStream> streams = {{"x", {"a"}}, {"y", {}}};
  Bindings current = Unbound({{"a", 1}, {"b", 1}});
  current[TopicPartition{"b", 0}] = "x";  // x does not take b
  current[TopicPartition{"a", 0}] = "x";
  const Bindings result = ComputeBindings(current, streams);
  EXPECT_EQ(result.at(TopicPartition{"b", 0}), "y");
  EXPECT_EQ(result.at(TopicPartition{"a", 0}), "x");
}

TEST(PartitionBinderTest, StickyWhenNothingChanges) {
  const auto streams = Streams(3);
  const Bindings first = ComputeBindings(Unbound({{"a", 10}, {"b", 7}}), streams);
  const Bindings second = ComputeBindings(first, streams);
  EXPECT_EQ(second, first);
  EXPECT_EQ(Moves(first, second), 0u);

  // Also when the current binding is balanced but not what the binder would
  // pick from scratch.
  Bindings custom = Unbound({{"t", 6}});
  const char* owners[] = {"s2", "s2", "s0", "s1", "s1", "s0"};
  int i = 0;
  for (auto& [tp, id] : custom) id = owners[i++];
  EXPECT_EQ(ComputeBindings(custom, streams), custom);
}

// Adding one stream to a balanced binding of P partitions over N streams
// (all taking every topic): the new stream must end with at least
// floor(P / (N + 1)) partitions, and that many moves suffice.
TEST(PartitionBinderTest, AddingAStreamMovesOnlyTheMinimum) {
  for (int partitions : {3, 8, 11, 12, 25, 64}) {
    for (int stream_count : {1, 2, 3, 5}) {
      SCOPED_TRACE(testing::Message() << partitions << " partitions, " << stream_count
                                      << " -> " << stream_count + 1 << " streams");
      auto streams = Streams(stream_count);
      const Bindings before = ComputeBindings(Unbound({{"t", partitions}}), streams);
      streams.push_back(BinderStream{"new", {}});
      const Bindings after = ComputeBindings(before, streams);
      ASSERT_NO_FATAL_FAILURE(ExpectValid(before, after, streams));
      EXPECT_LE(Spread(after, streams), 1u);
      const size_t minimum = static_cast<size_t>(partitions / (stream_count + 1));
      EXPECT_EQ(Moves(before, after), minimum);
      // Only moves to the new stream.
      for (const auto& [tp, id] : after) {
        if (before.at(tp) != id) {
          EXPECT_EQ(id, "new") << tp.ToString();
        }
      }
    }
  }
}

// The same, from a balanced binding whose partitions are held in contiguous
// runs (as after streams joined one by one), rather than round-robin.
TEST(PartitionBinderTest, AddingAStreamToContiguousRunsMovesOnlyTheMinimum) {
  // 11 partitions: a holds 4..6 (3), x holds 7..10 (4), b holds 0..3 (4).
  std::vector<BinderStream> streams = {{"a", {}}, {"x", {}}, {"b", {}}};
  Bindings before = Unbound({{"t", 11}});
  for (auto& [tp, id] : before) id = tp.partition < 4 ? "b" : tp.partition < 7 ? "a" : "x";
  ASSERT_EQ(ComputeBindings(before, streams), before);  // balanced already

  streams.push_back(BinderStream{"d", {}});
  const Bindings after = ComputeBindings(before, streams);
  ASSERT_NO_FATAL_FAILURE(ExpectValid(before, after, streams));
  EXPECT_LE(Spread(after, streams), 1u);
  // 11 over 4 streams: d needs 2 (3,3,3,2 is balanced), taking one each from
  // the two streams holding 4. Any other move is a needless drain-and-move.
  EXPECT_EQ(Moves(before, after), 2u);
  for (const auto& [tp, id] : after) {
    if (before.at(tp) != id) {
      EXPECT_EQ(id, "d") << tp.ToString() << " moved from " << before.at(tp);
    }
  }
}

TEST(PartitionBinderTest, RemovingAStreamMovesOnlyItsPartitions) {
  for (int partitions : {4, 9, 16, 33}) {
    for (int stream_count : {2, 3, 4, 6}) {
      SCOPED_TRACE(testing::Message() << partitions << " partitions, " << stream_count
                                      << " -> " << stream_count - 1 << " streams");
      auto streams = Streams(stream_count);
      const Bindings before = ComputeBindings(Unbound({{"t", partitions}}), streams);
      const std::string removed = streams[1].id;
      streams.erase(streams.begin() + 1);
      const Bindings after = ComputeBindings(before, streams);
      ASSERT_NO_FATAL_FAILURE(ExpectValid(before, after, streams));
      EXPECT_LE(Spread(after, streams), 1u);
      for (const auto& [tp, id] : after) {
        EXPECT_NE(id, removed);
        EXPECT_NE(id, "");
        if (before.at(tp) != removed) {
          EXPECT_EQ(id, before.at(tp)) << tp.ToString();
        }
      }
    }
  }
}

// Streams come and go at random (all taking every topic). Calls `check`
// with the binding before and after each change.
template <typename Check>
void RandomMembershipChanges(Check check) {
  std::mt19937 rng(42);
  std::vector<BinderStream> streams = Streams(2);
  int next_id = 2;
  Bindings current = ComputeBindings(Unbound({{"a", 13}, {"b", 8}}), streams);
  for (int step = 0; step < 200; ++step) {
    SCOPED_TRACE(step);
    const bool add = streams.size() <= 1 || (streams.size() < 8 && rng() % 2 == 0);
    std::string removed;
    if (add) {
      streams.push_back(BinderStream{"s" + std::to_string(next_id++), {}});
    } else {
      const size_t i = rng() % streams.size();
      removed = streams[i].id;
      streams.erase(streams.begin() + static_cast<std::ptrdiff_t>(i));
    }
    const Bindings next = ComputeBindings(current, streams);
    check(current, next, streams, removed);
    if (::testing::Test::HasFatalFailure()) return;
    current = next;
  }
}

TEST(PartitionBinderTest, RandomMembershipChangesStayValidAndBalanced) {
  RandomMembershipChanges([](const Bindings& current, const Bindings& next,
                             const std::vector<BinderStream>& streams,
                             const std::string& removed) {
    ASSERT_NO_FATAL_FAILURE(ExpectValid(current, next, streams));
    ASSERT_LE(Spread(next, streams), 1u);
    for (const auto& [tp, id] : next) {
      ASSERT_NE(id, "") << tp.ToString();
    }
    if (!removed.empty()) {
      // Removing a stream moves only the partitions it held.
      for (const auto& [tp, id] : next) {
        if (current.at(tp) != removed) {
          ASSERT_EQ(id, current.at(tp)) << tp.ToString();
        }
      }
    }
  });
}

TEST(PartitionBinderTest, RandomMembershipAddsMoveOnlyTheMinimum) {
  int adds = 0;
  int excess = 0;
  RandomMembershipChanges([&](const Bindings& current, const Bindings& next,
                              const std::vector<BinderStream>& streams,
                              const std::string& removed) {
    if (!removed.empty()) return;
    ++adds;
    // From a balanced binding the new stream needs floor(P / N); nothing
    // else has to move.
    const size_t minimum = current.size() / streams.size();
    const size_t moves = Moves(current, next);
    if (moves != minimum && ++excess <= 3) {
      ADD_FAILURE() << "adding " << streams.back().id << " moved " << moves << " partitions, "
                    << minimum << " needed";
    }
  });
  EXPECT_EQ(excess, 0) << "of " << adds << " stream additions";
}

}  // namespace
}  // namespace kafka_sidecar
