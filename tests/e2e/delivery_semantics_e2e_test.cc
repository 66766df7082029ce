// End-to-end: SPEC §3 delivery semantics against a real broker — retries and
// order, dead letters, error-threshold and operator pausing, ack timeouts
// and Extend, at-most-once, bounded memory without a handler.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kafka_sidecar/v1/sidecar.grpc.pb.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/topic_reader.h"

namespace kafka_sidecar::testing {
namespace {

class DeliverySemanticsE2eTest : public E2eTest {
 protected:
  // Connects a handler with `policy`, or records the failure.
  std::unique_ptr<TestHandler> ConnectHandler(SidecarProcess* sidecar,
                                              MessagePolicy policy) {
    auto handler = std::make_unique<TestHandler>(HoldAll());
    handler->SetMessagePolicy(std::move(policy));
    absl::StatusOr<v1::Subscribed> s = handler->Connect(sidecar->grpc_target());
    if (!s.ok()) {
      ADD_FAILURE() << "handler did not connect: " << s.status();
      return nullptr;
    }
    return handler;
  }

  static std::vector<ReceivedMessage> ReceivedOn(const TestHandler& h, const std::string& topic,
                                                 int32_t partition) {
    auto all = h.Received();
    auto it = all.find({topic, partition});
    return it == all.end() ? std::vector<ReceivedMessage>{} : it->second;
  }

  static absl::StatusOr<v1::PartitionStats> PartitionStatsOf(const std::string& target,
                                                             const std::string& topic,
                                                             int32_t partition) {
    absl::StatusOr<v1::GetStatsResponse> stats = GetStats(target);
    if (!stats.ok()) return stats.status();
    for (const auto& p : stats->partitions()) {
      if (p.topic() == topic && p.partition() == partition) return p;
    }
    return absl::NotFoundError(absl::StrCat(topic, "/", partition, " not in stats"));
  }

  static absl::StatusOr<v1::PartitionsResponse> CallPause(const std::string& target, bool pause,
                                                          const v1::PartitionsRequest& request) {
    auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    auto stub = v1::ConsumerSidecar::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::PartitionsResponse response;
    grpc::Status status = pause ? stub->PausePartitions(&context, request, &response)
                                : stub->ResumePartitions(&context, request, &response);
    if (!status.ok()) return absl::UnknownError(status.error_message());
    return response;
  }
};

// The handler processes a batch in order and stops at the first failure:
// offset 50 of partition 0 fails on its first two deliveries; what follows it
// in the same batch is left unsettled.
MessagePolicy StopAtFifty() {
  return [](const v1::Batch& b, const v1::Message& m) {
    if (b.partition() != 0) return v1::OUTCOME_ACK;
    bool fifty_fails = false;
    for (const auto& x : b.messages()) {
      if (x.offset() == 50 && x.delivery_attempt() <= 2) fifty_fails = true;
    }
    if (!fifty_fails || m.offset() < 50) return v1::OUTCOME_ACK;
    return m.offset() == 50 ? v1::OUTCOME_RETRY : v1::OUTCOME_UNSPECIFIED;
  };
}

TEST_F(DeliverySemanticsE2eTest, PartitionOrderingRewindsToTheRetriedOffset) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 2, 400);
  ASSERT_TRUE(end.ok()) << end.status();
  SidecarProcess* sidecar = StartSidecar(Options(
      group, {topic},
      {{"processing.batch_size", "10"},
       {"processing.partition_workers", "3"},
       {"processing.retry_backoff_ms", "200"},
       {"processing.ordering", "partition"}}));
  ASSERT_NE(sidecar, nullptr);
  auto handler = ConnectHandler(sidecar, StopAtFifty());
  ASSERT_NE(handler, nullptr);
  const int64_t p0_end = end->at(0);
  ASSERT_GT(p0_end, 60);

  ASSERT_TRUE(handler->WaitFor(
      [&](const HandlerState& s) {
        auto it = s.acked.find({topic, 0});
        return s.acked_count >= 400 && it != s.acked.end() &&
               it->second.size() == static_cast<size_t>(p0_end);
      },
      absl::Minutes(2)))
      << "acked " << handler->Snapshot().acked_count << " of 400";
  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1)).ok());

  const std::vector<ReceivedMessage> got = ReceivedOn(*handler, topic, 0);
  auto find = [&](int64_t offset, uint32_t attempt) {
    return std::find_if(got.begin(), got.end(), [&](const ReceivedMessage& m) {
             return m.offset == offset && m.delivery_attempt == attempt;
           }) -
           got.begin();
  };
  const auto n = static_cast<ptrdiff_t>(got.size());
  const ptrdiff_t first = find(50, 1), second = find(50, 2), third = find(50, 3);
  ASSERT_LT(first, n);
  ASSERT_LT(second, n) << "offset 50 never came back";
  ASSERT_LT(third, n) << "offset 50 came back only once";
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_EQ(find(50, 4), n) << "offset 50 was ACKed on its third delivery";
  // Nothing after 50 is redelivered before 50 itself is...
  for (ptrdiff_t i = first + 1; i < second; ++i) {
    if (got[i].delivery_attempt > 1) {
      ADD_FAILURE() << "offset " << got[i].offset << " redelivered at arrival " << i
                    << " before offset 50";
    }
  }
  // ...each rewind resumes at 50 and goes on in offset order (what followed
  // 50 was left unsettled, so it comes again)...
  for (ptrdiff_t i = second; i + 1 < third; ++i) {
    EXPECT_EQ(got[i + 1].offset, got[i].offset + 1) << "at arrival " << i + 1;
  }
  // ...and every redelivery says how often the handler saw it before. How far
  // the first pass got before the rewind depends on timing, so what follows
  // the cancelled records may be a first delivery.
  std::map<int64_t, uint32_t> seen;
  for (ptrdiff_t i = 0; i < n; ++i) {
    EXPECT_EQ(got[i].delivery_attempt, ++seen[got[i].offset])
        << "offset " << got[i].offset << " at arrival " << i;
  }
  // ...and after 50 succeeds the partition continues, nothing skipped.
  for (ptrdiff_t i = third; i + 1 < n; ++i) {
    EXPECT_EQ(got[i + 1].offset, got[i].offset + 1) << "at arrival " << i + 1;
  }
  ASSERT_LT(third + 1, n);
  EXPECT_EQ(got[third + 1].offset, 51);
  EXPECT_EQ(got[third + 1].delivery_attempt, 3u) << "51 was cancelled by both rewinds";
  EXPECT_EQ(got.back().offset, p0_end - 1);
}

TEST_F(DeliverySemanticsE2eTest, NoOrderingRedeliversOnlyTheRetriedOffset) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 1, 2000);
  ASSERT_TRUE(end.ok()) << end.status();
  SidecarProcess* sidecar = StartSidecar(Options(
      group, {topic},
      {{"processing.batch_size", "10"},
       {"processing.retry_backoff_ms", "300"},
       {"processing.ordering", "none"}}));
  ASSERT_NE(sidecar, nullptr);
  auto handler = ConnectHandler(sidecar, [](const v1::Batch&, const v1::Message& m) {
    return m.offset() == 50 && m.delivery_attempt() <= 2 ? v1::OUTCOME_RETRY : v1::OUTCOME_ACK;
  });
  ASSERT_NE(handler, nullptr);
  ASSERT_TRUE(handler->WaitFor([](const HandlerState& s) { return s.acked_count >= 2000; },
                               absl::Minutes(2)));
  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1)).ok());

  const HandlerState state = handler->Snapshot();
  const std::vector<ReceivedMessage>& got = state.received.at({topic, 0});
  std::map<int64_t, std::vector<uint32_t>> attempts;
  for (const auto& m : got) attempts[m.offset].push_back(m.delivery_attempt);
  EXPECT_EQ(attempts.size(), 2000u);
  EXPECT_EQ(attempts[50], (std::vector<uint32_t>{1, 2, 3}));
  for (const auto& [offset, a] : attempts) {
    if (offset != 50) {
      EXPECT_EQ(a.size(), 1u) << "offset " << offset << " redelivered";
    }
  }
  // The partition kept flowing: offsets well past 50 arrived before 50's
  // first redelivery, which came alone in its batch.
  const auto second = std::find_if(got.begin(), got.end(), [](const ReceivedMessage& m) {
    return m.offset == 50 && m.delivery_attempt == 2;
  });
  ASSERT_NE(second, got.end());
  EXPECT_TRUE(std::any_of(got.begin(), second, [](const ReceivedMessage& m) {
    return m.offset >= 100;
  })) << "the partition waited for the retry";
  size_t in_batch = 0;
  for (const auto& m : got) in_batch += m.batch_id == second->batch_id ? 1 : 0;
  EXPECT_EQ(in_batch, 1u) << "the retried message was not redelivered alone";
}

TEST_F(DeliverySemanticsE2eTest, PoisonAndRejectedMessagesGoToTheDeadLetterTopic) {
  const std::string topic = Unique("topic");
  const std::string dlt = Unique("dlt");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 2, 200);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_TRUE(broker_->CreateTopic(dlt, 1).ok());
  SidecarProcess* sidecar = StartSidecar(Options(
      group, {topic},
      {{"processing.max_retries", "2"},
       {"processing.retry_backoff_ms", "50"},
       {"processing.dead_letter_topic", absl::StrCat("\"", dlt, "\"")}}));
  ASSERT_NE(sidecar, nullptr);
  // Partition 0 offset 7 always fails; partition 1 offset 9 is poison.
  auto handler = ConnectHandler(sidecar, [](const v1::Batch& b, const v1::Message& m) {
    if (b.partition() == 0 && m.offset() == 7) return v1::OUTCOME_RETRY;
    if (b.partition() == 1 && m.offset() == 9) return v1::OUTCOME_REJECT;
    return v1::OUTCOME_ACK;
  });
  ASSERT_NE(handler, nullptr);

  absl::StatusOr<std::vector<ReadRecord>> dead = ReadTopic(broker_->bootstrap(), dlt, 2,
                                                           absl::Minutes(1));
  ASSERT_TRUE(dead.ok()) << dead.status();
  // The commit moves past both once Kafka has them.
  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1)).ok());
  absl::StatusOr<std::vector<ReadRecord>> all =
      ReadAllOfTopic(broker_->bootstrap(), dlt, absl::Seconds(30));
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 2u) << "dead-lettered more than once";

  auto header = [](const ReadRecord& r, const std::string& key) -> std::string {
    std::string value = "<missing>";
    for (const auto& h : r.headers) {
      if (h.key == key) value = h.value.value_or("<null>");
    }
    return value;
  };
  std::map<std::string, const ReadRecord*> by_partition;
  for (const auto& r : *all) by_partition[header(r, "x-original-partition")] = &r;
  ASSERT_EQ(by_partition.count("0"), 1u);
  ASSERT_EQ(by_partition.count("1"), 1u);
  const ReadRecord& poison = *by_partition["0"];
  EXPECT_EQ(header(poison, "x-original-topic"), topic);
  EXPECT_EQ(header(poison, "x-original-offset"), "7");
  EXPECT_EQ(header(poison, "x-delivery-attempts"), "3");  // 1 + max_retries
  EXPECT_TRUE(absl::StrContains(header(poison, "x-dead-letter-reason"), "retries exhausted"))
      << header(poison, "x-dead-letter-reason");
  EXPECT_EQ(poison.value, ValueFor(7 * 2 + 0));  // ProduceMessages: (o - base) * partitions + p
  const ReadRecord& rejected = *by_partition["1"];
  EXPECT_EQ(header(rejected, "x-original-offset"), "9");
  EXPECT_EQ(header(rejected, "x-delivery-attempts"), "1");  // at once, no retry
  EXPECT_TRUE(absl::StrContains(header(rejected, "x-dead-letter-reason"), "test handler"));

  const std::vector<ReceivedMessage> p0 = ReceivedOn(*handler, topic, 0);
  EXPECT_EQ(std::count_if(p0.begin(), p0.end(), [](const auto& m) { return m.offset == 7; }), 3);
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sidecar->grpc_target());
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->messages_dead_lettered(), 2u);
  EXPECT_EQ(stats->messages_failed(), 2u);
  EXPECT_EQ(stats->messages_retried(), 2u);
  EXPECT_EQ(stats->messages_processed(), 198u);
}

TEST_F(DeliverySemanticsE2eTest, WithoutDeadLetterTopicFailuresAreCountedAndSkipped) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 1, 100);
  ASSERT_TRUE(end.ok()) << end.status();
  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}));
  ASSERT_NE(sidecar, nullptr);
  auto handler = ConnectHandler(sidecar, [](const v1::Batch&, const v1::Message& m) {
    return m.offset() % 10 == 3 ? v1::OUTCOME_REJECT : v1::OUTCOME_ACK;
  });
  ASSERT_NE(handler, nullptr);
  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1)).ok());
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sidecar->grpc_target());
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->messages_failed(), 10u);
  EXPECT_EQ(stats->messages_dead_lettered(), 0u);
  EXPECT_EQ(stats->messages_processed(), 90u);
  EXPECT_EQ(stats->partition_errors().at(absl::StrCat(topic, "/0")), 10u);
  EXPECT_TRUE(absl::StrContains(sidecar->log(), "is skipped"));
}

TEST_F(DeliverySemanticsE2eTest, ErrorThresholdPausesOnePartitionWhileOthersFlow) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 4, 20000);
  ASSERT_TRUE(end.ok()) << end.status();
  SidecarProcess* sidecar = StartSidecar(Options(
      group, {topic},
      {{"processing.error_threshold", "5"},
       {"processing.error_window_ms", "60000"},
       {"processing.pause_duration_ms", "4000"},
       {"processing.retry_backoff_ms", "10"},
       {"processing.batch_size", "50"}}));
  ASSERT_NE(sidecar, nullptr);
  auto handler = ConnectHandler(sidecar, [](const v1::Batch& b, const v1::Message&) {
    return b.partition() == 2 ? v1::OUTCOME_RETRY : v1::OUTCOME_ACK;
  });
  ASSERT_NE(handler, nullptr);

  v1::PartitionStats paused;
  ASSERT_TRUE(PollUntil(
      [&] {
        auto p = PartitionStatsOf(sidecar->grpc_target(), topic, 2);
        if (p.ok()) paused = *p;
        return p.ok() && p->paused();
      },
      absl::Minutes(1)))
      << "partition 2 never paused";
  const absl::Time paused_seen = absl::Now();
  EXPECT_TRUE(absl::StrContains(paused.pause_reason(), "error threshold")) << paused.pause_reason();
  EXPECT_GE(paused.errors(), 5u);
  // The handler was told, with the reason and how long.
  ASSERT_TRUE(handler->WaitFor([](const HandlerState& s) { return !s.paused.empty(); },
                               absl::Seconds(10)))
      << "no PartitionPaused reached the handler";
  {
    const v1::PartitionPaused told = handler->Snapshot().paused.front();
    EXPECT_EQ(told.partition().topic(), topic);
    EXPECT_EQ(told.partition().partition(), 2);
    EXPECT_EQ(told.resume_in_ms(), 4000u);
    EXPECT_TRUE(absl::StrContains(told.reason(), "5 errors within 60000 ms")) << told.reason();
  }
  const size_t p2_before = ReceivedOn(*handler, topic, 2).size();

  // The other partitions finish while partition 2 sits out its pause.
  const int64_t others = end->at(0) + end->at(1) + end->at(3);
  ASSERT_TRUE(handler->WaitFor(
      [&](const HandlerState& s) { return s.acked_count >= static_cast<uint64_t>(others); },
      absl::Minutes(2)));
  auto still = PartitionStatsOf(sidecar->grpc_target(), topic, 2);
  ASSERT_TRUE(still.ok());
  if (absl::Now() - paused_seen < absl::Seconds(3)) {
    EXPECT_TRUE(still->paused()) << "the pause ended early";
    EXPECT_EQ(ReceivedOn(*handler, topic, 2).size(), p2_before)
        << "partition 2 got deliveries while paused";
  }

  // The handler recovers; the partition resumes on its own.
  handler->SetMessagePolicy([](const v1::Batch&, const v1::Message&) { return v1::OUTCOME_ACK; });
  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(2)).ok());
  EXPECT_GE(absl::Now() - paused_seen, absl::Seconds(2)) << "resumed before its pause was over";
  auto after = PartitionStatsOf(sidecar->grpc_target(), topic, 2);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->paused());
  EXPECT_TRUE(absl::StrContains(sidecar->log(), "paused for 4000 ms"));
}

// The scenario a new user meets first: a few malformed messages among many,
// default configuration. REJECTs are dead-lettered and done with; they do not
// pause partitions, so the run is not stalled for pause_duration_ms.
TEST_F(DeliverySemanticsE2eTest, RejectsDoNotPausePartitionsWithTheDefaults) {
  const std::string topic = Unique("topic");
  const std::string dlt = Unique("dlt");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 3, 3000);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_TRUE(broker_->CreateTopic(dlt, 1).ok());
  // 20 rejects on each partition, twice the default threshold of 10.
  SidecarProcess* sidecar = StartSidecar(
      Options(group, {topic}, {{"processing.dead_letter_topic", absl::StrCat("\"", dlt, "\"")}}));
  ASSERT_NE(sidecar, nullptr);
  auto handler = ConnectHandler(sidecar, [](const v1::Batch&, const v1::Message& m) {
    return m.offset() % 50 == 7 ? v1::OUTCOME_REJECT : v1::OUTCOME_ACK;
  });
  ASSERT_NE(handler, nullptr);
  // Well inside the 30 s a threshold pause would last.
  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Seconds(20)).ok());
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sidecar->grpc_target());
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->messages_failed(), 60u);
  EXPECT_EQ(stats->messages_dead_lettered(), 60u);
  EXPECT_EQ(stats->messages_processed(), 2940u);
  for (const v1::PartitionStats& p : stats->partitions()) {
    EXPECT_FALSE(p.paused()) << p.partition() << ": " << p.pause_reason();
    EXPECT_EQ(p.errors(), 20u);
  }
  EXPECT_TRUE(handler->Snapshot().paused.empty());
  EXPECT_FALSE(absl::StrContains(sidecar->log(), "paused for"));
}

TEST_F(DeliverySemanticsE2eTest, OperatorPausesAndResumesPartitions) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 2, 200);
  ASSERT_TRUE(end.ok()) << end.status();
  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}));
  ASSERT_NE(sidecar, nullptr);
  auto handler = ConnectHandler(sidecar, [](const v1::Batch&, const v1::Message&) {
    return v1::OUTCOME_ACK;
  });
  ASSERT_NE(handler, nullptr);
  ASSERT_TRUE(handler->WaitFor([](const HandlerState& s) { return s.acked_count >= 200; },
                               absl::Minutes(1)));

  v1::PartitionsRequest request;
  auto* tp = request.add_partitions();
  tp->set_topic(topic);
  tp->set_partition(0);
  auto* unknown = request.add_partitions();
  unknown->set_topic(topic);
  unknown->set_partition(99);
  absl::StatusOr<v1::PartitionsResponse> response = CallPause(sidecar->grpc_target(), true, request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->partitions_size(), 1) << "only assigned partitions are acted on";
  EXPECT_EQ(response->partitions(0).partition(), 0);
  ASSERT_TRUE(PollUntil(
      [&] {
        auto p = PartitionStatsOf(sidecar->grpc_target(), topic, 0);
        return p.ok() && p->paused() && absl::StrContains(p->pause_reason(), "request");
      },
      absl::Seconds(30)));

  // New messages: partition 1 gets its share, partition 0 nothing.
  ASSERT_TRUE(ProduceMessages(broker_->bootstrap(), topic, 2, 200, ProduceOptions{200}).ok());
  const size_t p0_before = ReceivedOn(*handler, topic, 0).size();
  ASSERT_TRUE(handler->WaitFor([](const HandlerState& s) { return s.acked_count >= 300; },
                               absl::Minutes(1)));
  EXPECT_EQ(ReceivedOn(*handler, topic, 0).size(), p0_before);

  v1::PartitionsRequest all;  // empty = every assigned partition
  response = CallPause(sidecar->grpc_target(), false, all);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->partitions_size(), 2);
  ASSERT_TRUE(handler->WaitFor([](const HandlerState& s) { return s.acked_count >= 400; },
                               absl::Minutes(1)));
  absl::StatusOr<Offsets> new_end = broker_->EndOffsets(topic);
  ASSERT_TRUE(new_end.ok());
  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *new_end, absl::Minutes(1)).ok());
}

TEST_F(DeliverySemanticsE2eTest, AckTimeoutRedeliversAndExtendHoldsTheDeadline) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 1, 10);
  ASSERT_TRUE(end.ok()) << end.status();
  SidecarProcess* sidecar = StartSidecar(Options(
      group, {topic},
      {{"processing.ack_timeout_ms", "1000"},
       {"processing.retry_backoff_ms", "10"},
       // Each timed-out message is an error; keep this test from pausing.
       {"processing.error_threshold", "1000"}}));
  ASSERT_NE(sidecar, nullptr);
  TestHandler handler(HoldAll());
  absl::StatusOr<v1::Subscribed> subscribed = handler.Connect(sidecar->grpc_target());
  ASSERT_TRUE(subscribed.ok()) << subscribed.status();
  EXPECT_EQ(subscribed->ack_timeout_ms(), 1000u);

  // Never settled: the batch comes back as attempt 2 after the timeout.
  ASSERT_TRUE(handler.WaitFor([](const HandlerState& s) { return s.batches_received >= 2; },
                              absl::Seconds(30)));
  HandlerState s = handler.Snapshot();
  EXPECT_GE(s.batch_times[1] - s.batch_times[0], absl::Milliseconds(900));
  const auto& got = s.received.at({topic, 0});
  ASSERT_EQ(got.size(), 20u);
  EXPECT_EQ(got[10].offset, 0);
  EXPECT_EQ(got[10].delivery_attempt, 2u);

  // Extending the second delivery keeps it out for the extension.
  v1::ConsumeRequest extend;
  extend.mutable_extend()->add_batch_ids(s.batch_ids[1]);
  extend.mutable_extend()->set_extend_ms(4000);
  const absl::Time extended_at = absl::Now();
  ASSERT_TRUE(handler.Send(extend));
  ASSERT_TRUE(handler.WaitFor([](const HandlerState& st) { return st.batches_received >= 3; },
                              absl::Seconds(30)));
  s = handler.Snapshot();
  EXPECT_GE(s.batch_times[2] - extended_at, absl::Milliseconds(3500))
      << "Extend did not hold the deadline";
  EXPECT_EQ(s.received.at({topic, 0})[20].delivery_attempt, 3u);

  // The timed-out deliveries are stale now; the current one commits.
  absl::StatusOr<v1::GetStatsResponse> before = GetStats(sidecar->grpc_target());
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(handler.Settle(s.batch_ids[0], {}, v1::OUTCOME_ACK));
  ASSERT_TRUE(handler.Settle(s.batch_ids[2], {}, v1::OUTCOME_ACK));
  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1)).ok());
  absl::StatusOr<v1::GetStatsResponse> after = GetStats(sidecar->grpc_target());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->stale_settlements() - before->stale_settlements(), 1u);
  EXPECT_EQ(after->messages_processed(), 10u);
}

TEST_F(DeliverySemanticsE2eTest, AutoCommitIsAtMostOnce) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 2, 100);
  ASSERT_TRUE(end.ok()) << end.status();
  SidecarProcess* sidecar =
      StartSidecar(Options(group, {topic}, {{"kafka.enable_auto_commit", "true"}}));
  ASSERT_NE(sidecar, nullptr);
  TestHandler handler(HoldAll());  // settles nothing
  ASSERT_TRUE(handler.Connect(sidecar->grpc_target()).ok());
  ASSERT_TRUE(handler.WaitFor([](const HandlerState& s) { return s.distinct_count >= 100; },
                              absl::Minutes(1)));
  // Committed on delivery, though nothing was acknowledged.
  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1)).ok());
}

// Resident memory of a process, from /proc.
int64_t RssKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      int64_t kib = 0;
      std::string digits;
      for (char c : line) {
        if (c >= '0' && c <= '9') digits.push_back(c);
      }
      if (absl::SimpleAtoi(digits, &kib)) return kib;
    }
  }
  return -1;
}

TEST_F(DeliverySemanticsE2eTest, MemoryStaysBoundedWithoutAHandler) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  // 200 MB of backlog.
  ASSERT_TRUE(broker_->CreateTopic(topic, 6).ok());
  ASSERT_TRUE(ProduceMessages(broker_->bootstrap(), topic, 6, 200000, ProduceOptions{0, 1000}).ok());
  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}));
  ASSERT_NE(sidecar, nullptr);
  // A handler that takes one window and never settles: everything else
  // waits in the sidecar, which must stop fetching.
  TestHandler handler(HoldAll());
  ASSERT_TRUE(handler.Connect(sidecar->grpc_target()).ok());
  ASSERT_TRUE(PollUntil(
      [&] {
        absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sidecar->grpc_target());
        if (!stats.ok() || stats->partitions_size() != 6) return false;
        for (const auto& p : stats->partitions()) {
          if (!absl::StrContains(p.pause_reason(), "backpressure")) return false;
        }
        return true;
      },
      absl::Minutes(2)))
      << "fetching never paused on every partition";
  int64_t peak = 0;
  // Fetch responses already in flight land after the pause; sample a while.
  const absl::Time until = absl::Now() + absl::Seconds(3);
  while (absl::Now() < until) {
    peak = std::max(peak, RssKib(sidecar->pid()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cout << "MEMORY-REPORT backlog_bytes=200000000 peak_rss_kib=" << peak << std::endl;
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, 200 * 1024) << "the sidecar buffered the backlog";
}

}  // namespace
}  // namespace kafka_sidecar::testing
