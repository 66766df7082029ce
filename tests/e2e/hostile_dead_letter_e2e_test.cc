// End-to-end, part of the hostile-peer suite (ctest -R Hostile): a
// dead-letter topic that refuses records, and a handler that rejects with a
// huge reason. Before, either stopped a partition's commits for good while
// it kept delivering and health said nothing; now a refusal that retrying
// cannot fix pauses the partition where an operator sees it (GetStats,
// /readyz, /metrics), resumes once the topic takes the record, and a reason
// travels truncated.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "kafka_sidecar/v1/sidecar.grpc.pb.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/ports.h"
#include "tests/support/topic_reader.h"

namespace kafka_sidecar::testing {
namespace {

constexpr int64_t kMessages = 100;
constexpr int64_t kLargeOffset = 40;  // one partition: offset = index
constexpr size_t kLargeBytes = 50000;
// The dead-letter topic's limit: every record but the large one fits.
constexpr char kSmallLimit[] = "2000";

std::string Header(const ReadRecord& r, const std::string& key) {
  std::string value = "<missing>";
  for (const auto& h : r.headers) {
    if (h.key == key) value = h.value.value_or("<null>");
  }
  return value;
}

class HostileDeadLetterE2eTest : public E2eTest {
 protected:
  // A one-partition topic of kMessages whose message kLargeOffset is
  // kLargeBytes, and a dead-letter topic that takes at most kSmallLimit
  // bytes per record. Returns the topic's end offsets.
  absl::StatusOr<Offsets> PrepareTopics(const std::string& topic, const std::string& dlt) {
    if (absl::Status s = broker_->CreateTopic(topic, 1); !s.ok()) return s;
    ProduceOptions produce;
    produce.value_for = [](int64_t i) {
      return i == kLargeOffset ? std::string(kLargeBytes, 'L') : ValueFor(i);
    };
    if (absl::Status s = ProduceMessages(broker_->bootstrap(), topic, 1, kMessages, produce);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = broker_->CreateTopic(dlt, 1, {{"max.message.bytes", kSmallLimit}});
        !s.ok()) {
      return s;
    }
    return broker_->EndOffsets(topic);
  }

  // Rejects the large message, ACKs the rest.
  static std::unique_ptr<TestHandler> RejectLarge(const std::string& target) {
    auto handler = std::make_unique<TestHandler>(HoldAll());
    handler->SetMessagePolicy([](const v1::Batch&, const v1::Message& m) {
      return m.value().size() > 10000 ? v1::OUTCOME_REJECT : v1::OUTCOME_ACK;
    });
    absl::StatusOr<v1::Subscribed> s = handler->Connect(target);
    if (!s.ok()) {
      ADD_FAILURE() << "handler did not connect: " << s.status();
      return nullptr;
    }
    return handler;
  }

  static absl::StatusOr<v1::PartitionStats> PartitionZero(const std::string& target) {
    absl::StatusOr<v1::GetStatsResponse> stats = GetStats(target);
    if (!stats.ok()) return stats.status();
    if (stats->partitions_size() != 1) return absl::NotFoundError("partition 0 not assigned");
    return stats->partitions(0);
  }

  static absl::Status AwaitCommitted(const std::string& group, const std::string& topic,
                                     int64_t offset, absl::Duration timeout) {
    return AwaitCommittedAtEnd(group, topic, Offsets{{0, offset}}, timeout);
  }
};

TEST_F(HostileDeadLetterE2eTest, RecordTooLargeForTheTopicPausesUntilTheOperatorFixesIt) {
  const std::string topic = Unique("topic");
  const std::string dlt = Unique("dlt");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopics(topic, dlt);
  ASSERT_TRUE(end.ok()) << end.status();
  const int http_port = PickFreePort();
  SidecarProcess* sidecar = StartSidecar(Options(
      group, {topic},
      {{"processing.batch_size", "10"},
       {"processing.dead_letter_topic", absl::StrCat("\"", dlt, "\"")},
       {"server.http_listen", absl::StrCat("\"127.0.0.1:", http_port, "\"")},
       {"observability.health_check_interval_ms", "200"}}));
  ASSERT_NE(sidecar, nullptr);
  const std::string target = sidecar->grpc_target();
  auto handler = RejectLarge(target);
  ASSERT_NE(handler, nullptr);

  // Paused, with the reason, everywhere an operator looks.
  v1::PartitionStats p0;
  ASSERT_TRUE(PollUntil(
      [&] {
        absl::StatusOr<v1::PartitionStats> p = PartitionZero(target);
        if (p.ok()) p0 = *p;
        return p.ok() && p->pause_cause() == v1::PAUSE_CAUSE_DEAD_LETTER;
      },
      absl::Seconds(60)))
      << "not paused for the dead letter: " << p0.ShortDebugString();
  EXPECT_TRUE(p0.paused());
  EXPECT_TRUE(absl::StrContains(p0.pause_reason(), "too large")) << p0.pause_reason();
  EXPECT_TRUE(absl::StrContains(p0.pause_reason(), absl::StrCat("offset ", kLargeOffset)))
      << p0.pause_reason();
  EXPECT_EQ(p0.dead_letter_pending(), 1u);
  ASSERT_TRUE(handler->WaitFor(
      [](const HandlerState& s) {
        for (const auto& p : s.paused) {
          if (absl::StrContains(p.reason(), "too large") && p.resume_in_ms() == 0) return true;
        }
        return false;
      },
      absl::Seconds(10)))
      << "the handler was not told";

  HttpResponse ready;
  ASSERT_TRUE(PollUntil(
      [&] {
        absl::StatusOr<HttpResponse> r = HttpGet(http_port, "/readyz");
        if (r.ok()) ready = *r;
        return r.ok() && r->status == 503 &&
               absl::StrContains(r->body, absl::StrCat("dead-letter:", topic, "/0"));
      },
      absl::Seconds(10)))
      << "/readyz: " << ready.status << " " << ready.body;
  absl::StatusOr<HttpResponse> live = HttpGet(http_port, "/healthz");
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->status, 200) << "a restart cannot fix the topic: liveness stays";

  absl::StatusOr<ParsedMetrics> metrics = ScrapeMetrics(http_port);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(metrics->Get("kafka_sidecar_partition_paused",
                         {{"topic", topic}, {"partition", "0"}, {"cause", "dead_letter"}}),
            1.0);
  EXPECT_GE(metrics->Get("kafka_sidecar_dead_letter_produce_failures_total",
                         {{"topic", topic}, {"kind", "permanent"}})
                .value_or(0),
            1.0);

  // The commit stops before the refused record, for Kafka's own tools too.
  ASSERT_TRUE(AwaitCommitted(group, topic, kLargeOffset, absl::Seconds(30)).ok());

  // The operator raises the topic's limit and resumes: taken at once, the
  // partition goes on to the end, and readiness returns.
  ASSERT_TRUE(broker_->SetTopicConfig(dlt, {{"max.message.bytes", "1048588"}}).ok());
  absl::StatusOr<std::vector<TopicPartitionKey>> resumed =
      SetPartitionsPaused(target, {{topic, 0}}, false);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Seconds(60)).ok())
      << "not resumed after the topic was fixed";
  ASSERT_TRUE(PollUntil(
      [&] {
        absl::StatusOr<HttpResponse> r = HttpGet(http_port, "/readyz");
        return r.ok() && r->status == 200;
      },
      absl::Seconds(10)));
  absl::StatusOr<v1::PartitionStats> after = PartitionZero(target);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_FALSE(after->paused()) << after->ShortDebugString();
  EXPECT_EQ(after->dead_letter_pending(), 0u);

  absl::StatusOr<std::vector<ReadRecord>> dead =
      ReadAllOfTopic(broker_->bootstrap(), dlt, absl::Seconds(30));
  ASSERT_TRUE(dead.ok()) << dead.status();
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(Header((*dead)[0], "x-original-offset"), absl::StrCat(kLargeOffset));
  EXPECT_EQ((*dead)[0].value.value_or("").size(), kLargeBytes);
  EXPECT_EQ(handler->Snapshot().acked_count, static_cast<uint64_t>(kMessages - 1));

  handler->Close();
  absl::StatusOr<int> exit_code = sidecar->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

TEST_F(HostileDeadLetterE2eTest, SkipPolicyCommitsPastTheRefusedRecordWithALog) {
  const std::string topic = Unique("topic");
  const std::string dlt = Unique("dlt");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopics(topic, dlt);
  ASSERT_TRUE(end.ok()) << end.status();
  SidecarProcess* sidecar = StartSidecar(Options(
      group, {topic},
      {{"processing.batch_size", "10"},
       {"processing.dead_letter_topic", absl::StrCat("\"", dlt, "\"")},
       {"processing.dead_letter_on_permanent_failure", "skip"}}));
  ASSERT_NE(sidecar, nullptr);
  auto handler = RejectLarge(sidecar->grpc_target());
  ASSERT_NE(handler, nullptr);

  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Seconds(60)).ok());
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sidecar->grpc_target());
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->messages_dead_letter_skipped(), 1u);
  EXPECT_GE(stats->dead_letter_permanent_failures(), 1u);
  EXPECT_EQ(stats->messages_dead_lettered(), 0u);
  ASSERT_EQ(stats->partitions_size(), 1);
  EXPECT_FALSE(stats->partitions(0).paused());
  EXPECT_TRUE(PollUntil(
      [&] {
        return absl::StrContains(sidecar->log(),
                                 absl::StrCat("offset ", kLargeOffset, " skipped"));
      },
      absl::Seconds(5)))
      << "the skip left no log line naming the offset";
  absl::StatusOr<std::vector<ReadRecord>> dead =
      ReadAllOfTopic(broker_->bootstrap(), dlt, absl::Seconds(20));
  ASSERT_TRUE(dead.ok()) << dead.status();
  EXPECT_EQ(dead->size(), 0u);
}

TEST_F(HostileDeadLetterE2eTest, TenMebibyteRejectReasonTravelsTruncated) {
  const std::string topic = Unique("topic");
  const std::string dlt = Unique("dlt");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 1, 20);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_TRUE(broker_->CreateTopic(dlt, 1).ok());
  SidecarProcess* sidecar = StartSidecar(Options(
      group, {topic}, {{"processing.dead_letter_topic", absl::StrCat("\"", dlt, "\"")}}));
  ASSERT_NE(sidecar, nullptr);
  TestHandler handler(HoldAll());
  ASSERT_TRUE(handler.Connect(sidecar->grpc_target()).ok());
  ASSERT_TRUE(handler.WaitFor([](const HandlerState& s) { return !s.held.empty(); },
                              absl::Seconds(30)));
  const v1::Batch batch = handler.Snapshot().held.begin()->second;
  ASSERT_GT(batch.messages_size(), 0);
  const int64_t rejected = batch.messages(0).offset();

  v1::ConsumeRequest request;
  v1::Settlement* s = request.mutable_settle()->add_settlements();
  s->set_batch_id(batch.batch_id());
  s->add_offsets(rejected);
  s->set_outcome(v1::OUTCOME_REJECT);
  s->set_reason(std::string(10 << 20, 'r'));
  ASSERT_TRUE(handler.Send(request));
  handler.SetPolicy(AckAll());
  handler.ReleaseHeld();

  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Seconds(60)).ok())
      << "a huge reason stopped the commit";
  absl::StatusOr<std::vector<ReadRecord>> dead =
      ReadAllOfTopic(broker_->bootstrap(), dlt, absl::Seconds(30));
  ASSERT_TRUE(dead.ok()) << dead.status();
  ASSERT_EQ(dead->size(), 1u);
  const std::string reason = Header((*dead)[0], "x-dead-letter-reason");
  EXPECT_LE(reason.size(), 4096u + 64u);
  EXPECT_TRUE(absl::StrContains(reason, "truncated")) << reason.substr(0, 200);
  EXPECT_EQ(Header((*dead)[0], "x-original-offset"), absl::StrCat(rejected));
  EXPECT_LT(sidecar->log().size(), 1u << 20) << "the reason was logged whole";
}

}  // namespace
}  // namespace kafka_sidecar::testing
