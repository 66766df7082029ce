// Health and stats against a real broker: /healthz, /readyz and
// grpc.health.v1 follow the broker going away and coming back; a partition
// nobody consumes is reported stalled; GetStats carries the broker's view
// (high watermark, committed offset, lag) and the connected streams.
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "kafka_sidecar/v1/sidecar.pb.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/grpc_health.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/ports.h"
#include "tests/support/test_handler.h"

namespace kafka_sidecar::testing {
namespace {

struct Probe {
  int status = 0;
  // check name -> ok
  std::map<std::string, bool> checks;
};

absl::StatusOr<Probe> GetProbe(int port, const std::string& path) {
  absl::StatusOr<HttpResponse> r = HttpGet(port, path);
  if (!r.ok()) return r.status();
  const nlohmann::json body = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.contains("checks") || !body["checks"].is_array()) {
    return absl::InternalError(absl::StrCat(path, " body is not the probe JSON: ", r->body));
  }
  Probe probe;
  probe.status = r->status;
  for (const nlohmann::json& c : body["checks"]) {
    probe.checks[c.value("name", "")] = c.value("ok", false);
  }
  return probe;
}

class HealthE2eTest : public E2eTest {
 protected:
  SidecarProcess* Start(const std::string& group, const std::string& topic, int http_port,
                        std::map<std::string, std::string> more = {}) {
    std::map<std::string, std::string> overrides = {
        {"server.http_listen", absl::StrCat("\"127.0.0.1:", http_port, "\"")},
        {"observability.health_check_interval_ms", "300"},
        {"observability.stall_timeout_ms", "3000"},
    };
    for (auto& [k, v] : more) overrides[k] = v;
    return StartSidecar(Options(group, {topic}, overrides));
  }

  // Until `path` answers `status`; false (with the last answer) otherwise.
  static bool AwaitProbe(int port, const std::string& path, int status, absl::Duration timeout,
                         std::string* last) {
    return PollUntil(
        [&] {
          absl::StatusOr<Probe> p = GetProbe(port, path);
          *last = p.ok() ? absl::StrCat(p->status) : p.status().ToString();
          return p.ok() && p->status == status;
        },
        timeout, absl::Milliseconds(100));
  }

  static bool AwaitGrpcHealth(const std::string& target, const std::string& want,
                              absl::Duration timeout, std::string* last) {
    return PollUntil(
        [&] {
          absl::StatusOr<std::string> s = GrpcHealthCheck(target);
          *last = s.ok() ? *s : s.status().ToString();
          return s.ok() && *s == want;
        },
        timeout, absl::Milliseconds(100));
  }
};

TEST_F(HealthE2eTest, ProbesTurnUnhealthyWhileTheBrokerIsDownAndRecover) {
  const std::string topic = Unique("topic");
  ASSERT_TRUE(PrepareTopic(topic, 1, 0).ok());
  const int http = PickFreePort();
  SidecarProcess* sidecar = Start(Unique("group"), topic, http);
  ASSERT_NE(sidecar, nullptr);
  std::string last;
  ASSERT_TRUE(AwaitProbe(http, "/readyz", 200, absl::Seconds(30), &last)) << last;
  ASSERT_TRUE(AwaitProbe(http, "/healthz", 200, absl::Seconds(5), &last)) << last;
  ASSERT_TRUE(AwaitGrpcHealth(sidecar->grpc_target(), "SERVING", absl::Seconds(5), &last)) << last;

  ASSERT_TRUE(broker_->Stop().ok());
  EXPECT_TRUE(AwaitProbe(http, "/readyz", 503, absl::Seconds(30), &last)) << last;
  EXPECT_TRUE(AwaitGrpcHealth(sidecar->grpc_target(), "NOT_SERVING", absl::Seconds(5), &last))
      << last;
  absl::StatusOr<Probe> ready = GetProbe(http, "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_FALSE(ready->checks["kafka"]) << "readiness did not blame Kafka";
  // Liveness holds through a short outage and fails once it outlasts
  // stall_timeout_ms (3 s).
  EXPECT_TRUE(AwaitProbe(http, "/healthz", 503, absl::Seconds(30), &last)) << last;
  EXPECT_TRUE(sidecar->Running());

  ASSERT_TRUE(broker_->Restart().ok());
  EXPECT_TRUE(AwaitProbe(http, "/healthz", 200, absl::Seconds(60), &last)) << last;
  EXPECT_TRUE(AwaitProbe(http, "/readyz", 200, absl::Seconds(90), &last)) << last;
  EXPECT_TRUE(AwaitGrpcHealth(sidecar->grpc_target(), "SERVING", absl::Seconds(5), &last)) << last;
}

TEST_F(HealthE2eTest, UnconsumedPartitionIsStalledUntilAHandlerComes) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 2, 200);
  ASSERT_TRUE(end.ok()) << end.status();
  const int http = PickFreePort();
  SidecarProcess* sidecar = Start(group, topic, http);
  ASSERT_NE(sidecar, nullptr);

  // No handler: both partitions have lag and nothing is delivered.
  const std::string stalled0 = absl::StrCat("stalled:", topic, "/0");
  const std::string stalled1 = absl::StrCat("stalled:", topic, "/1");
  absl::StatusOr<Probe> health;
  ASSERT_TRUE(PollUntil(
      [&] {
        health = GetProbe(http, "/healthz");
        return health.ok() && health->checks.count(stalled0) && health->checks.count(stalled1);
      },
      absl::Seconds(30)))
      << "no stall reported";
  EXPECT_EQ(health->status, 200) << "a stall is reported, it does not fail liveness";
  EXPECT_FALSE(health->checks[stalled0]);

  // GetStats shows the broker's side of it.
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sidecar->grpc_target());
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->partitions_size(), 2);
  for (const v1::PartitionStats& p : stats->partitions()) {
    EXPECT_EQ(p.high_watermark(), end->at(p.partition())) << p.ShortDebugString();
    EXPECT_EQ(p.lag(), end->at(p.partition())) << p.ShortDebugString();
    EXPECT_EQ(p.delivered(), 0u);
  }
  EXPECT_EQ(stats->streams_size(), 0);

  TestHandler handler;
  v1::Subscribe subscribe;
  subscribe.set_handler_name("health-test-handler");
  ASSERT_TRUE(handler.Connect(sidecar->grpc_target(), subscribe).ok());
  ASSERT_TRUE(handler.WaitFor([](const HandlerState& s) { return s.acked_count >= 200; },
                              absl::Minutes(1)));
  ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1)).ok());

  // Once Kafka has the commit, lag is 0 and the stall is gone.
  ASSERT_TRUE(PollUntil(
      [&] {
        stats = GetStats(sidecar->grpc_target());
        if (!stats.ok()) return false;
        for (const v1::PartitionStats& p : stats->partitions()) {
          if (p.lag() != 0 || p.committed_offset() != end->at(p.partition())) return false;
        }
        return true;
      },
      absl::Seconds(30)))
      << (stats.ok() ? stats->ShortDebugString() : stats.status().ToString());
  for (const v1::PartitionStats& p : stats->partitions()) {
    EXPECT_EQ(p.high_watermark(), end->at(p.partition()));
    EXPECT_EQ(p.delivered(), static_cast<uint64_t>(end->at(p.partition())));
    EXPECT_EQ(p.processed(), static_cast<uint64_t>(end->at(p.partition())));
    EXPECT_EQ(p.in_flight(), 0u);
    EXPECT_FALSE(p.stream_id().empty());
  }
  ASSERT_EQ(stats->streams_size(), 1);
  const v1::StreamStats& stream = stats->streams(0);
  EXPECT_EQ(stream.handler_name(), "health-test-handler");
  EXPECT_FALSE(stream.peer().empty());
  EXPECT_EQ(stream.delivered(), 200u);
  EXPECT_EQ(stream.processed(), 200u);
  EXPECT_EQ(stream.partitions_size(), 2);
  EXPECT_GT(stream.connected_seconds(), 0.0);
  EXPECT_EQ(stats->messages_processed(), 200u);

  ASSERT_TRUE(PollUntil(
      [&] {
        health = GetProbe(http, "/healthz");
        return health.ok() && !health->checks.count(stalled0) && !health->checks.count(stalled1);
      },
      absl::Seconds(30)))
      << "stall still reported after the handler caught up";
}

TEST_F(HealthE2eTest, StatsLineIsLoggedEveryInterval) {
  const std::string topic = Unique("topic");
  ASSERT_TRUE(PrepareTopic(topic, 1, 0).ok());
  SidecarProcess* sidecar = Start(Unique("group"), topic, PickFreePort(),
                                  {{"observability.stats_interval_ms", "200"}});
  ASSERT_NE(sidecar, nullptr);
  auto count_lines = [&] {
    size_t n = 0;
    for (size_t at = sidecar->log().find("stats: processed="); at != std::string::npos;
         at = sidecar->log().find("stats: processed=", at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_TRUE(PollUntil([&] { return count_lines() >= 3; }, absl::Seconds(10)))
      << "stats lines: " << count_lines();
}

}  // namespace
}  // namespace kafka_sidecar::testing
