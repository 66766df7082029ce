// The HTTP admin endpoint on a real loopback socket, with fake sources.
#include "sidecar/admin/admin_server.h"

#include <memory>
#include <string>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sidecar/common/mutex.h"
#include "sidecar/metrics/prometheus_text.h"
#include "sidecar/metrics/sidecar_metrics.h"
#include "tests/support/raw_http.h"

namespace kafka_sidecar {
namespace {

class FakeStats final : public StatsSource {
 public:
  v1::GetStatsResponse Collect() const override {
    MutexLock l(&mu_);
    return value_;
  }
  void Set(v1::GetStatsResponse v) {
    MutexLock l(&mu_);
    value_ = std::move(v);
  }

 private:
  mutable Mutex mu_;
  v1::GetStatsResponse value_ ABSL_GUARDED_BY(mu_);
};

class FakeHealth final : public HealthSource {
 public:
  HealthStatus Current() const override {
    MutexLock l(&mu_);
    return value_;
  }
  void Set(HealthStatus v) {
    MutexLock l(&mu_);
    value_ = std::move(v);
  }

 private:
  mutable Mutex mu_;
  HealthStatus value_ ABSL_GUARDED_BY(mu_);
};

class FakeMetrics final : public MetricsSource {
 public:
  MetricsSnapshot Snapshot() const override { return value; }
  MetricsSnapshot value;
};

// JSON equality regardless of key order and spacing. Both sides are parsed
// and compared by libprotobuf itself: under ThreadSanitizer, reading a
// protobuf map that the (uninstrumented) library filled through the inline
// accessors crashes.
void ExpectJsonEq(const std::string& actual, const std::string& expected) {
  google::protobuf::Struct a, e;
  const auto parsed = google::protobuf::util::JsonStringToMessage(actual, &a);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString() << " in " << actual;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(expected, &e).ok()) << expected;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a, e))
      << "actual:   " << actual << "\nexpected: " << expected;
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::GetStatsResponse s;
    s.set_uptime_seconds(3.5);
    s.set_messages_processed(42);
    s.set_group_id("g");
    s.set_sidecar_version("0.1.0");
    s.set_librdkafka_version("2.14.2");
    s.set_group_protocol("consumer");
    (*s.mutable_partition_errors())["t/0"] = 2;
    v1::PartitionStats* p = s.add_partitions();
    p->set_topic("t");
    p->set_partition(0);
    p->set_committed_offset(10);
    stats_.Set(s);
    HealthStatus h;
    h.live = true;
    h.ready = true;
    h.checks.push_back({"kafka", true, ""});
    health_.Set(h);
    metrics_.value.topics["t"].messages_delivered = 44;
    metrics_.value.processing_seconds.upper_bounds = {0.1, 1};
    metrics_.value.processing_seconds.counts = {40, 2, 0};

    auto server = AdminServer::Start("127.0.0.1:0", stats_, health_, metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_connection_timeout(5, 0);
    client_->set_read_timeout(5, 0);
  }

  httplib::Result Get(const std::string& path) { return client_->Get(path.c_str()); }

  FakeStats stats_;
  FakeHealth health_;
  FakeMetrics metrics_;
  std::unique_ptr<AdminServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(AdminServerTest, ReportsTheRealPortAndAddress) {
  EXPECT_EQ(server_->address(), absl::StrCat("127.0.0.1:", server_->port()));
}

TEST_F(AdminServerTest, HealthzFollowsLiveness) {
  auto r = Get("/healthz");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  ExpectJsonEq(r->body, R"({"status": "ok", "checks": [{"name": "kafka", "ok": true, "detail": ""}]})");

  HealthStatus down;
  down.live = false;
  down.ready = false;
  down.checks.push_back({"dispatcher-0", false, "no progress for 30 s \"stuck\"\n\\"});
  down.checks.push_back({"kafka", true, ""});
  health_.Set(down);
  r = Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  ExpectJsonEq(r->body, R"({"status": "unhealthy", "checks": [
      {"name": "dispatcher-0", "ok": false, "detail": "no progress for 30 s \"stuck\"\n\\"},
      {"name": "kafka", "ok": true, "detail": ""}]})");
}

TEST_F(AdminServerTest, ReadyzFollowsReadinessOnly) {
  HealthStatus h;
  h.live = true;
  h.ready = false;
  h.checks.push_back({"group", false, "not joined"});
  health_.Set(h);
  auto r = Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  ExpectJsonEq(r->body, R"({"status": "unhealthy",
                            "checks": [{"name": "group", "ok": false, "detail": "not joined"}]})");
  // Not ready is no reason to restart.
  r = Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  h.ready = true;
  h.checks[0] = {"group", true, ""};
  health_.Set(h);
  r = Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ExpectJsonEq(r->body,
               R"({"status": "ok", "checks": [{"name": "group", "ok": true, "detail": ""}]})");
}

TEST_F(AdminServerTest, StatsIsTheGetStatsResponseWithProtoFieldNames) {
  auto r = Get("/stats");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");

  v1::GetStatsResponse parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(r->body, &parsed);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, stats_.Collect()))
      << parsed.ShortDebugString();

  // The seed's snake_case names, every field even at zero; 64-bit integers
  // are strings in protobuf's JSON mapping.
  ExpectJsonEq(r->body, R"({
    "uptime_seconds": 3.5, "messages_processed": "42", "messages_failed": "0",
    "processing_rate_per_second": 0, "average_processing_time_ms": 0,
    "error_rate_percent": 0, "partition_errors": {"t/0": "2"},
    "messages_delivered": "0", "messages_retried": "0", "messages_dead_lettered": "0",
    "messages_in_flight": "0", "batches_delivered": "0", "stale_settlements": "0",
    "rebalances": "0", "processing_time_p99_ms": 0, "group_id": "g",
    "partitions": [{"topic": "t", "partition": 0, "paused": false, "pause_reason": "",
                    "committed_offset": "10", "high_watermark": "0", "lag": "0",
                    "in_flight": "0", "delivered": "0", "processed": "0", "failed": "0",
                    "retried": "0", "errors": "0", "stream_id": "",
                    "pause_cause": "PAUSE_CAUSE_UNSPECIFIED",
                    "dead_letter_pending": "0"}],
    "streams": [], "recent_processing_rate_per_second": 0,
    "seconds_since_last_activity": 0, "sidecar_version": "0.1.0",
    "librdkafka_version": "2.14.2", "group_protocol": "consumer",
    "messages_first_delivered": "0", "dead_letter_transient_failures": "0",
    "dead_letter_permanent_failures": "0", "messages_dead_letter_skipped": "0"})");
}

TEST_F(AdminServerTest, MetricsServesThePrometheusText) {
  auto r = Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r->body,
            SidecarMetrics().Render(stats_.Collect(), health_.Current(), metrics_.value));
}

TEST_F(AdminServerTest, UnknownPathIs404) {
  for (const char* path : {"/", "/metric", "/metrics/x", "/healthz/"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
}

TEST_F(AdminServerTest, OtherMethodsAre405) {
  auto post = client_->Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  auto del = client_->Delete("/healthz");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
  auto put = client_->Put("/stats", "{}", "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
}

TEST_F(AdminServerTest, HeadIsGetWithoutBody) {
  auto r = client_->Head("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(r->body.empty());
}

TEST_F(AdminServerTest, QueryStringDoesNotChangeTheRoute) {
  auto r = Get("/healthz?verbose=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(AdminServerTest, StopClosesTheListenerAndIsIdempotent) {
  const int port = server_->port();
  server_->Stop();
  server_->Stop();
  httplib::Client after("127.0.0.1", port);
  after.set_connection_timeout(2, 0);
  EXPECT_FALSE(after.Get("/healthz"));
}

TEST_F(AdminServerTest, BusyPortIsAnErrorNamingTheKey) {
  const std::string listen = absl::StrCat("127.0.0.1:", server_->port());
  auto second = AdminServer::Start(listen, stats_, health_, metrics_);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::StartsWith(second.status().message(), "server.http_listen: "))
      << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), listen)) << second.status();
}

TEST(AdminServerStartTest, MalformedListenIsAnErrorNamingTheKey) {
  FakeStats stats;
  FakeHealth health;
  FakeMetrics metrics;
  for (const char* listen : {"nohost", "127.0.0.1:http", "127.0.0.1:70000", ":8080"}) {
    auto server = AdminServer::Start(listen, stats, health, metrics);
    ASSERT_FALSE(server.ok()) << listen;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << listen;
    EXPECT_TRUE(absl::StartsWith(server.status().message(), "server.http_listen: "))
        << server.status();
  }
}

// What a client can hold: raw sockets playing slow, idle and endless
// clients against the limits in AdminServerOptions.
class AdminServerLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HealthStatus h;
    h.live = true;
    h.ready = true;
    health_.Set(h);
  }

  void Start(const AdminServerOptions& options) {
    auto server = AdminServer::Start("127.0.0.1:0", stats_, health_, metrics_, options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  int port() const { return server_->port(); }

  FakeStats stats_;
  FakeHealth health_;
  FakeMetrics metrics_;
  std::unique_ptr<AdminServer> server_;
};

using testing::AwaitClosedByPeer;
using testing::ConnectTo;
using testing::SendAll;
using testing::Socket;
using testing::TimedGet;

TEST_F(AdminServerLimitsTest, HeadersTrickledInAreCutAtTheRequestDeadline) {
  AdminServerOptions options;
  options.request_deadline = absl::Milliseconds(500);
  Start(options);
  Socket s = ConnectTo(port());
  ASSERT_TRUE(s.valid());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(SendAll(s.fd(), "GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  // A header line every 100 ms restarts any idle timeout; only a deadline
  // for the whole request ends it.
  bool closed = false;
  for (int line = 0; !closed && absl::Now() - start < absl::Seconds(5); ++line) {
    SendAll(s.fd(), absl::StrCat("X-Slow-", line, ": x\r\n"));
    closed = AwaitClosedByPeer(s.fd(), absl::Milliseconds(100));
  }
  const absl::Duration elapsed = absl::Now() - start;
  ASSERT_TRUE(closed) << "still open after " << elapsed;
  EXPECT_GE(elapsed, absl::Milliseconds(450));
  EXPECT_LT(elapsed, absl::Seconds(2));
}

TEST_F(AdminServerLimitsTest, SilentConnectionIsCutAtTheRequestDeadline) {
  AdminServerOptions options;
  options.request_deadline = absl::Milliseconds(500);
  Start(options);
  const absl::Time start = absl::Now();
  Socket s = ConnectTo(port());
  ASSERT_TRUE(s.valid());
  ASSERT_TRUE(AwaitClosedByPeer(s.fd(), absl::Seconds(4)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(450));
}

TEST_F(AdminServerLimitsTest, RequestWithinTheLimitsIsAnswered) {
  Start(AdminServerOptions());
  // A few KiB of headers (cookies, tracing) fit in the default 16 KiB.
  Socket s = ConnectTo(port());
  ASSERT_TRUE(s.valid());
  ASSERT_TRUE(SendAll(s.fd(), absl::StrCat("GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: ",
                                           std::string(6 * 1024, 'c'), "\r\n\r\n")));
  std::string answer;
  ASSERT_TRUE(AwaitClosedByPeer(s.fd(), absl::Seconds(5), &answer));
  EXPECT_EQ(testing::StatusOf(answer), 200) << answer.substr(0, 200);
}

TEST_F(AdminServerLimitsTest, EndlessHeadersAreCutAndMemoryStaysFlat) {
  Start(AdminServerOptions());
  const int64_t rss_before = testing::RssKib();
  ASSERT_GT(rss_before, 0);
  constexpr int64_t kMaxBytes = int64_t{64} << 20;
  const testing::EndlessHeadersResult r =
      testing::SendEndlessHeaders(port(), kMaxBytes, absl::Seconds(20));
  const int64_t rss_after = testing::RssKib();
  EXPECT_TRUE(r.closed_by_server) << r.bytes_sent << " bytes sent";
  // What the kernel's socket buffers took before the close was noticed;
  // the server itself keeps at most its 16 KiB.
  EXPECT_LT(r.bytes_sent, int64_t{8} << 20);
  if (!r.received.empty()) {
    EXPECT_EQ(testing::StatusOf(r.received), 431) << r.received;
  }
  EXPECT_LT(rss_after - rss_before, 20 * 1024) << "KiB";
  // And the server still answers.
  EXPECT_EQ(TimedGet(port(), "/healthz").status, 200);
}

TEST_F(AdminServerLimitsTest, WhenAllConnectionsAreTakenTheOldestIsClosed) {
  AdminServerOptions options;
  options.max_connections = 8;
  Start(options);
  std::vector<Socket> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(ConnectTo(port()));
    ASSERT_TRUE(idle.back().valid());
  }
  // The eighth took the last slot: the first makes room.
  EXPECT_TRUE(AwaitClosedByPeer(idle[0].fd(), absl::Seconds(2)));
  const testing::TimedResponse r = TimedGet(port(), "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(r.elapsed, absl::Seconds(1));
  // The probe displaced the next oldest, and no more.
  EXPECT_TRUE(AwaitClosedByPeer(idle[1].fd(), absl::Seconds(2)));
  EXPECT_FALSE(AwaitClosedByPeer(idle[7].fd(), absl::Milliseconds(300)));
}

TEST_F(AdminServerLimitsTest, AFloodDisplacesItsOwnConnectionsFirst) {
  AdminServerOptions options;
  options.max_connections = 8;
  Start(options);
  // The oldest connection, from 127.0.0.1; then a flood from 127.0.0.2.
  Socket own = ConnectTo(port());
  ASSERT_TRUE(own.valid());
  std::vector<Socket> flood;
  for (int i = 0; i < 20; ++i) {
    flood.push_back(ConnectTo(port(), "127.0.0.1", "127.0.0.2"));
    ASSERT_TRUE(flood.back().valid());
  }
  EXPECT_TRUE(AwaitClosedByPeer(flood[0].fd(), absl::Seconds(2)));
  EXPECT_FALSE(AwaitClosedByPeer(own.fd(), absl::Milliseconds(300)));
  const testing::TimedResponse r = TimedGet(port(), "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(r.elapsed, absl::Seconds(1));
}

TEST_F(AdminServerLimitsTest, ProbesAreAnsweredWithinASecondUnderSlowClientsAndAnIdleFlood) {
  Start(AdminServerOptions());  // production limits
  testing::SlowHeaderClients slow(port(), 4, absl::Milliseconds(200));
  ASSERT_EQ(slow.connected(), 4);
  std::vector<Socket> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(ConnectTo(port()));
    ASSERT_TRUE(idle.back().valid()) << i;
  }
  for (int i = 0; i < 10; ++i) {
    for (const char* path : {"/healthz", "/readyz"}) {
      const testing::TimedResponse r = TimedGet(port(), path, absl::Seconds(3));
      EXPECT_EQ(r.status, 200) << path << " " << i;
      EXPECT_LT(r.elapsed, absl::Seconds(1)) << path << " " << i;
    }
  }
}

}  // namespace
}  // namespace kafka_sidecar
