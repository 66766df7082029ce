// End-to-end: the kafka-sidecar binary between a real Kafka broker and the
// C++ test handler. SPEC sections 2 and 3: delivery, order, commits, stream
// loss, bad input.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/kafka_broker.h"
#include "tests/support/producer.h"
#include "tests/support/sidecar_process.h"
#include "tests/support/test_handler.h"
#include "tests/e2e/e2e_test_base.h"

namespace kafka_sidecar::testing {
namespace {

class ConsumeE2eTest : public E2eTest {};

constexpr int kBigPartitions = 6;
constexpr int64_t kBigMessages = 100000;

TEST_F(ConsumeE2eTest, DeliversEveryMessageInOrderAndCommitsLogEnd) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kBigPartitions, kBigMessages);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(end->size(), static_cast<size_t>(kBigPartitions)) << Format(*end);
  ASSERT_EQ(Sum(*end), kBigMessages) << Format(*end);

  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}));
  ASSERT_NE(sidecar, nullptr);
  TestHandler handler(AckAll());
  absl::StatusOr<v1::Subscribed> subscribed =
      handler.Connect(sidecar->grpc_target());
  ASSERT_TRUE(subscribed.ok()) << subscribed.status();
  EXPECT_EQ(subscribed->group_id(), group);

  ASSERT_TRUE(handler.WaitFor(
      [](const HandlerState& s) { return s.distinct_count >= kBigMessages; },
      absl::Minutes(5)))
      << "distinct messages received: " << handler.DistinctCount() << " of "
      << kBigMessages;
  const HandlerState state = handler.Snapshot();

  const double seconds =
      absl::ToDoubleSeconds(*state.last_receive - *state.first_receive);
  const double rate = seconds > 0 ? static_cast<double>(kBigMessages) / seconds : 0;
  std::cout << "[ RATE     ] " << kBigMessages << " messages in " << seconds
            << " s first-to-last receive = " << static_cast<int64_t>(rate)
            << " msg/s (" << state.batches_received << " batches)" << std::endl;
  RecordProperty("messages_per_second", std::to_string(static_cast<int64_t>(rate)));

  for (int32_t p = 0; p < kBigPartitions; ++p) {
    SCOPED_TRACE(absl::StrCat("partition ", p));
    auto it = state.received.find({topic, p});
    ASSERT_NE(it, state.received.end()) << "nothing received";
    std::vector<int64_t> first_deliveries;
    for (const ReceivedMessage& m : it->second) {
      if (m.delivery_attempt == 1) first_deliveries.push_back(m.offset);
    }
    auto disorder = std::adjacent_find(
        first_deliveries.begin(), first_deliveries.end(),
        [](int64_t a, int64_t b) { return b <= a; });
    EXPECT_EQ(disorder, first_deliveries.end())
        << "first deliveries out of order at index "
        << (disorder - first_deliveries.begin()) << ": offset " << *disorder
        << " then " << *(disorder + 1);
    // Strictly increasing, starting at 0, ending at end-1 and exactly end
    // long: so every offset 0..end-1 came, once, with no gap.
    const int64_t end_offset = end->at(p);
    ASSERT_FALSE(first_deliveries.empty());
    EXPECT_EQ(first_deliveries.front(), 0);
    EXPECT_EQ(first_deliveries.back(), end_offset - 1);
    EXPECT_EQ(static_cast<int64_t>(first_deliveries.size()), end_offset);

    // The producer's mapping (message i -> partition i % 6, in order) ties
    // each offset to one key: a mismatch means the wrong record was sent.
    for (const ReceivedMessage& m : it->second) {
      const std::string want = KeyFor(m.offset * kBigPartitions + p);
      if (m.key != want) {
        ADD_FAILURE() << "offset " << m.offset << " has key '" << m.key
                      << "', produced '" << want << "'";
        break;
      }
    }
  }
  // Nothing failed and nothing timed out, so nothing may come twice.
  EXPECT_EQ(state.received_count, static_cast<uint64_t>(kBigMessages))
      << "redeliveries in a run where every batch was acked";

  absl::Status committed =
      AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(2));
  ASSERT_TRUE(committed.ok()) << committed;

  absl::StatusOr<int> exit_code = sidecar->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  std::optional<grpc::Status> finished = handler.WaitForFinish(absl::Seconds(10));
  EXPECT_TRUE(finished.has_value()) << "stream still open after the sidecar exited";
  EXPECT_FALSE(handler.Snapshot().draining.empty())
      << "the stream ended on SIGTERM without a Draining message";

  // A new member of the same group must start at the committed offsets,
  // which are the log end: nothing to deliver.
  SidecarProcess* second = StartSidecar(Options(group, {topic}));
  ASSERT_NE(second, nullptr);
  TestHandler handler2(AckAll());
  absl::StatusOr<v1::Subscribed> subscribed2 =
      handler2.Connect(second->grpc_target());
  ASSERT_TRUE(subscribed2.ok()) << subscribed2.status();
  const bool assigned = handler2.WaitFor(
      [&](const HandlerState& s) {
        return CountForTopic(s.assigned, topic) ==
               static_cast<size_t>(kBigPartitions);
      },
      absl::Seconds(60));
  if (!assigned) {
    absl::StatusOr<v1::GetStatsResponse> stats = GetStats(second->grpc_target());
    FAIL() << "second sidecar's stream never got all " << kBigPartitions
           << " partitions by AssignmentChange; stats: "
           << (stats.ok() ? stats->ShortDebugString()
                          : stats.status().ToString());
  }
  // "Nothing arrives" has no event to wait for. Once the partitions are
  // bound to the stream, a wrongly positioned fetch delivers within one
  // fetch round (fetch_max_wait_ms 100, batch_timeout_ms 5), so 3 s is a
  // generous bounded window; it ends early, as a failure, if anything comes.
  EXPECT_FALSE(handler2.WaitFor(
      [](const HandlerState& s) { return s.received_count > 0; },
      absl::Seconds(3)))
      << "the second sidecar redelivered " << handler2.ReceivedCount()
      << " committed messages";

  absl::StatusOr<int> exit_code2 = second->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_code2.ok()) << exit_code2.status();
  EXPECT_EQ(*exit_code2, 0);
}

TEST_F(ConsumeE2eTest, HandlerDisconnectMidStreamLosesNothing) {
  constexpr int kPartitions = 6;
  constexpr int64_t kMessages = 20000;
  constexpr int kAckedBatches = 5;
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(Sum(*end), kMessages) << Format(*end);

  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}));
  ASSERT_NE(sidecar, nullptr);

  auto first = std::make_unique<TestHandler>(AckFirstNThenHold(kAckedBatches));
  absl::StatusOr<v1::Subscribed> subscribed = first->Connect(sidecar->grpc_target());
  ASSERT_TRUE(subscribed.ok()) << subscribed.status();
  // Wait until every partition has a batch held, so the crash leaves
  // unsettled messages on all of them. That state always comes: a held
  // batch per partition (6 x batch_size 100) fits the 1000-message window.
  auto held_partitions = [](const HandlerState& s) {
    std::set<int32_t> partitions;
    for (const auto& [id, batch] : s.held) partitions.insert(batch.partition());
    return partitions.size();
  };
  ASSERT_TRUE(first->WaitFor(
      [&](const HandlerState& s) {
        return s.batches_acked >= static_cast<uint64_t>(kAckedBatches) &&
               held_partitions(s) == static_cast<size_t>(kPartitions);
      },
      absl::Seconds(60)))
      << "first handler acked " << first->Snapshot().batches_acked
      << " batches (want " << kAckedBatches << ") and holds batches of "
      << held_partitions(first->Snapshot()) << " partitions (want "
      << kPartitions << ")";
  first->Disconnect();  // a crash: the held batches are never settled
  const HandlerState s1 = first->Snapshot();
  ASSERT_TRUE(s1.finish_status.has_value());
  EXPECT_EQ(s1.finish_status->error_code(), grpc::StatusCode::CANCELLED);
  size_t held_messages = 0;
  for (const auto& [id, batch] : s1.held) held_messages += batch.messages_size();
  std::cout << "[ INFO     ] first handler acked " << s1.acked_count
            << " messages in " << s1.batches_acked << " batches, held "
            << held_messages << " in " << s1.held.size() << " batches"
            << std::endl;

  auto acked_by_either = [&](const HandlerState& s2, int32_t p, int64_t o) {
    auto a1 = s1.acked.find({topic, p});
    if (a1 != s1.acked.end() && a1->second.count(o) > 0) return true;
    auto a2 = s2.acked.find({topic, p});
    return a2 != s2.acked.end() && a2->second.count(o) > 0;
  };
  auto missing = [&](const HandlerState& s2) {
    int64_t n = 0;
    for (const auto& [p, end_offset] : *end) {
      for (int64_t o = 0; o < end_offset; ++o) {
        if (!acked_by_either(s2, p, o)) ++n;
      }
    }
    return n;
  };

  TestHandler second(AckAll());
  absl::StatusOr<v1::Subscribed> subscribed2 = second.Connect(sidecar->grpc_target());
  ASSERT_TRUE(subscribed2.ok()) << subscribed2.status();
  const bool all_acked = second.WaitFor(
      [&](const HandlerState& s2) {
        // The cheap count first: the full check walks every offset.
        return s1.acked_count + s2.acked_count >=
                   static_cast<uint64_t>(kMessages) &&
               missing(s2) == 0;
      },
      absl::Minutes(3));
  const HandlerState s2 = second.Snapshot();
  ASSERT_TRUE(all_acked) << missing(s2) << " of " << kMessages
                         << " messages were never acked by either handler";

  // Everything the first handler saw but did not ack is a redelivery for
  // the second one, and every redelivery says so.
  int64_t lost = 0;
  int64_t wrong_attempt = 0;
  std::string first_wrong;
  for (const auto& [tp, messages] : s1.received) {
    const auto acked1 = s1.acked.find(tp);
    const auto received2 = s2.received.find(tp);
    for (const ReceivedMessage& m : messages) {
      const bool was_acked =
          acked1 != s1.acked.end() && acked1->second.count(m.offset) > 0;
      bool seen_again = false;
      if (received2 != s2.received.end()) {
        for (const ReceivedMessage& r : received2->second) {
          if (r.offset != m.offset) continue;
          seen_again = true;
          if (r.delivery_attempt < 2) {
            if (wrong_attempt++ == 0) {
              first_wrong = absl::StrCat(tp.first, "/", tp.second, "@",
                                         r.offset, " attempt ",
                                         r.delivery_attempt);
            }
          }
        }
      }
      if (!was_acked && !seen_again) ++lost;
    }
  }
  EXPECT_EQ(lost, 0) << "messages held by the disconnected handler were "
                        "not redelivered";
  EXPECT_EQ(wrong_attempt, 0)
      << "redeliveries with delivery_attempt < 2, first: " << first_wrong;

  absl::Status committed =
      AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(2));
  EXPECT_TRUE(committed.ok()) << committed;

  absl::StatusOr<int> exit_code = sidecar->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

// SPEC §3 partition binding: two streams share the partitions, each
// partition goes to exactly one of them, shares are balanced, and order holds.
TEST_F(ConsumeE2eTest, TwoStreamsSplitThePartitionsAndKeepOrder) {
  constexpr int kPartitions = 6;
  constexpr int64_t kMessages = 20000;
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  ASSERT_TRUE(PrepareTopic(topic, kPartitions, 0).ok());
  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}));
  ASSERT_NE(sidecar, nullptr);

  TestHandler a(AckAll());
  TestHandler b(AckAll());
  ASSERT_TRUE(a.Connect(sidecar->grpc_target()).ok());
  ASSERT_TRUE(b.Connect(sidecar->grpc_target()).ok());
  // Assignment comes from Kafka, binding from the sidecar: wait until the
  // two streams together hold every partition, three each.
  auto balanced = [&] {
    const size_t na = CountForTopic(a.Snapshot().assigned, topic);
    const size_t nb = CountForTopic(b.Snapshot().assigned, topic);
    return na == 3 && nb == 3;
  };
  ASSERT_TRUE(PollUntil(balanced, absl::Seconds(60)))
      << "stream a holds " << CountForTopic(a.Snapshot().assigned, topic)
      << " partitions, stream b " << CountForTopic(b.Snapshot().assigned, topic);

  ASSERT_TRUE(ProduceMessages(broker_->bootstrap(), topic, kPartitions, kMessages).ok());
  auto all_received = [&] {
    return a.Snapshot().distinct_count + b.Snapshot().distinct_count >=
           static_cast<uint64_t>(kMessages);
  };
  ASSERT_TRUE(PollUntil(all_received, absl::Minutes(2)))
      << a.Snapshot().distinct_count << " + " << b.Snapshot().distinct_count
      << " of " << kMessages << " received";

  const HandlerState sa = a.Snapshot();
  const HandlerState sb = b.Snapshot();
  std::set<int32_t> partitions_a, partitions_b;
  for (const auto& [tp, msgs] : sa.received) partitions_a.insert(tp.second);
  for (const auto& [tp, msgs] : sb.received) partitions_b.insert(tp.second);
  EXPECT_EQ(partitions_a.size(), 3u);
  EXPECT_EQ(partitions_b.size(), 3u);
  for (int32_t p : partitions_a) EXPECT_EQ(partitions_b.count(p), 0u) << "partition " << p;
  EXPECT_EQ(sa.received_count + sb.received_count, static_cast<uint64_t>(kMessages))
      << "a message was delivered twice without any fault";
  for (const HandlerState* s : {&sa, &sb}) {
    for (const auto& [tp, msgs] : s->received) {
      for (size_t i = 1; i < msgs.size(); ++i) {
        ASSERT_LT(msgs[i - 1].offset, msgs[i].offset) << "partition " << tp.second;
      }
    }
  }
  absl::StatusOr<Offsets> end = broker_->EndOffsets(topic);
  ASSERT_TRUE(end.ok()) << end.status();
  absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1));
  EXPECT_TRUE(committed.ok()) << committed;
}

TEST_F(ConsumeE2eTest, FirstRequestNotSubscribeIsInvalidArgument) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 1, 0);
  ASSERT_TRUE(end.ok()) << end.status();
  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}));
  ASSERT_NE(sidecar, nullptr);

  {
    SCOPED_TRACE("Settle as the first request");
    TestHandler handler;
    ASSERT_TRUE(handler.Open(sidecar->grpc_target()).ok());
    v1::ConsumeRequest settle;
    v1::Settlement* s = settle.mutable_settle()->add_settlements();
    s->set_batch_id(1);
    s->set_outcome(v1::OUTCOME_ACK);
    handler.Send(settle);  // the sidecar may already have closed: either way
    std::optional<grpc::Status> status = handler.WaitForFinish(absl::Seconds(15));
    ASSERT_TRUE(status.has_value()) << "stream still open";
    EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status->error_message();
  }
  {
    SCOPED_TRACE("empty request as the first request");
    TestHandler handler;
    ASSERT_TRUE(handler.Open(sidecar->grpc_target()).ok());
    handler.Send(v1::ConsumeRequest());
    std::optional<grpc::Status> status = handler.WaitForFinish(absl::Seconds(15));
    ASSERT_TRUE(status.has_value()) << "stream still open";
    EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status->error_message();
  }
  {
    SCOPED_TRACE("second Subscribe");
    TestHandler handler;
    absl::StatusOr<v1::Subscribed> subscribed =
        handler.Connect(sidecar->grpc_target());
    ASSERT_TRUE(subscribed.ok()) << subscribed.status();
    v1::ConsumeRequest again;
    again.mutable_subscribe()->set_handler_name("again");
    handler.Send(again);
    std::optional<grpc::Status> status = handler.WaitForFinish(absl::Seconds(15));
    ASSERT_TRUE(status.has_value()) << "stream still open";
    EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status->error_message();
  }

  // Bad streams end; the sidecar does not.
  EXPECT_TRUE(sidecar->Running());
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sidecar->grpc_target());
  EXPECT_TRUE(stats.ok()) << stats.status();
  TestHandler good;
  absl::StatusOr<v1::Subscribed> subscribed = good.Connect(sidecar->grpc_target());
  EXPECT_TRUE(subscribed.ok()) << subscribed.status();
  good.Close();

  absl::StatusOr<int> exit_code = sidecar->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

TEST_F(ConsumeE2eTest, UnknownSettlementsAreCountedAndIgnored) {
  constexpr int kPartitions = 3;
  constexpr int64_t kMessages = 1000;
  constexpr int64_t kMore = 100;
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(Sum(*end), kMessages) << Format(*end);

  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}));
  ASSERT_NE(sidecar, nullptr);
  TestHandler handler(AckAll());
  absl::StatusOr<v1::Subscribed> subscribed = handler.Connect(sidecar->grpc_target());
  ASSERT_TRUE(subscribed.ok()) << subscribed.status();
  ASSERT_TRUE(handler.WaitFor(
      [](const HandlerState& s) {
        return s.acked_count >= static_cast<uint64_t>(kMessages);
      },
      absl::Seconds(60)))
      << "acked " << handler.Snapshot().acked_count << " of " << kMessages;
  absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1));
  ASSERT_TRUE(committed.ok()) << committed;

  absl::StatusOr<v1::GetStatsResponse> before = GetStats(sidecar->grpc_target());
  ASSERT_TRUE(before.ok()) << before.status();

  const HandlerState state = handler.Snapshot();
  const uint64_t known_batch = state.batch_ids.front();
  const uint64_t max_batch =
      *std::max_element(state.batch_ids.begin(), state.batch_ids.end());
  const uint64_t unknown_batch = max_batch + 1000000;
  // Each settlement names at most one offset, so a sidecar counting stale
  // settlements and one counting stale offsets agree on the total.
  struct Bogus {
    uint64_t batch_id;
    std::vector<int64_t> offsets;
    v1::Outcome outcome;
  };
  const std::vector<Bogus> bogus = {
      {unknown_batch, {}, v1::OUTCOME_ACK},
      {unknown_batch + 1, {}, v1::OUTCOME_RETRY},
      {unknown_batch + 2, {5}, v1::OUTCOME_REJECT},
      {known_batch, {kMessages * 1000}, v1::OUTCOME_ACK},  // not in the batch
      {known_batch, {-1}, v1::OUTCOME_ACK},
      {known_batch, {-42}, v1::OUTCOME_RETRY},
      {known_batch, {-7}, v1::OUTCOME_REJECT},
  };
  v1::ConsumeRequest request;
  for (const Bogus& b : bogus) {
    v1::Settlement* s = request.mutable_settle()->add_settlements();
    s->set_batch_id(b.batch_id);
    for (int64_t o : b.offsets) s->add_offsets(o);
    s->set_outcome(b.outcome);
    s->set_reason("e2e: bogus settlement");
  }
  ASSERT_TRUE(handler.Send(request)) << "stream closed before the bogus settle";

  uint64_t stale = before->stale_settlements();
  const bool counted = PollUntil(
      [&] {
        absl::StatusOr<v1::GetStatsResponse> now = GetStats(sidecar->grpc_target());
        if (now.ok()) stale = now->stale_settlements();
        return stale >= before->stale_settlements() + bogus.size();
      },
      absl::Seconds(15));
  EXPECT_TRUE(counted) << "stale_settlements " << before->stale_settlements()
                       << " -> " << stale << " after " << bogus.size()
                       << " bogus settlements";

  // Ignored means: the stream lives, commits stay put, no rewind.
  EXPECT_TRUE(sidecar->Running());
  EXPECT_FALSE(handler.Snapshot().stream_done)
      << "the stream was ended over stale settlements: "
      << handler.finish_status().value_or(grpc::Status::OK).error_message();
  committed = AwaitCommittedAtEnd(group, topic, *end, absl::Seconds(30));
  EXPECT_TRUE(committed.ok()) << committed;

  // Still serving: new records flow through the same stream.
  ProduceOptions more;
  more.first_index = kMessages;
  absl::Status produced =
      ProduceMessages(broker_->bootstrap(), topic, kPartitions, kMore, more);
  ASSERT_TRUE(produced.ok()) << produced;
  absl::StatusOr<Offsets> new_end = broker_->EndOffsets(topic);
  ASSERT_TRUE(new_end.ok()) << new_end.status();
  ASSERT_TRUE(handler.WaitFor(
      [](const HandlerState& s) {
        return s.acked_count >= static_cast<uint64_t>(kMessages + kMore);
      },
      absl::Seconds(60)))
      << "after the bogus settlements, acked " << handler.Snapshot().acked_count
      << " of " << kMessages + kMore;
  const HandlerState after = handler.Snapshot();
  EXPECT_EQ(after.received_count, static_cast<uint64_t>(kMessages + kMore))
      << "a bogus RETRY/REJECT caused redeliveries";
  committed = AwaitCommittedAtEnd(group, topic, *new_end, absl::Minutes(1));
  EXPECT_TRUE(committed.ok()) << committed;

  absl::StatusOr<v1::GetStatsResponse> final_stats = GetStats(sidecar->grpc_target());
  ASSERT_TRUE(final_stats.ok()) << final_stats.status();
  // Processed = settled with ACK: the bogus ACKs must not add to it.
  EXPECT_EQ(final_stats->messages_processed(),
            static_cast<uint64_t>(kMessages + kMore));
  EXPECT_EQ(final_stats->messages_failed(), 0u);

  handler.Close();
  absl::StatusOr<int> exit_code = sidecar->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

TEST_F(ConsumeE2eTest, BrokenConfigNamesTheKey) {
  struct Case {
    std::string key;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"processing.batch_size", "-5"},
      {"processing.bach_size", "5"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.key, ": ", c.value));
    SidecarProcess* sidecar = LaunchSidecar(
        Options(Unique("group"), {Unique("topic")}, {{c.key, c.value}}));
    ASSERT_NE(sidecar, nullptr);
    // Config errors are found before anything talks to Kafka, so the exit
    // is quick; 15 s only bounds a sidecar that wrongly starts.
    absl::StatusOr<int> exit_code = sidecar->Wait(absl::Seconds(15));
    ASSERT_TRUE(exit_code.ok()) << "still running with a broken config: "
                                << exit_code.status();
    EXPECT_NE(*exit_code, 0);
    const std::string log = sidecar->log();
    EXPECT_NE(log.find(c.key), std::string::npos)
        << "the error does not name " << c.key << "; log:\n" << log;
  }
}

}  // namespace
}  // namespace kafka_sidecar::testing
