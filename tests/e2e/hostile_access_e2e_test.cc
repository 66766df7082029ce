// End-to-end, hostile peers on the same host or network: a socket directory
// others may write to, a process swapping the sidecar's Unix socket for its
// own, and clients calling the operator RPCs (PausePartitions,
// ResumePartitions) where server.operator_rpcs does not allow them. The
// tests run as one user; "another user" is a file or socket the test makes
// itself, since the rules are about modes and inodes, not about who runs.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "kafka_sidecar/v1/sidecar.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/bound_socket.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/ports.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace kafka_sidecar::testing {
namespace {

constexpr int kPartitions = 2;

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

ino_t InodeOf(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// check name -> ok, from a /healthz or /readyz body.
absl::StatusOr<std::pair<int, std::map<std::string, bool>>> Probe(int port,
                                                                  const std::string& path) {
  absl::StatusOr<HttpResponse> r = HttpGet(port, path);
  if (!r.ok()) return r.status();
  const nlohmann::json body = nlohmann::json::parse(r->body, nullptr, false);
  if (body.is_discarded() || !body.contains("checks")) {
    return absl::InternalError(absl::StrCat(path, ": not probe JSON: ", r->body));
  }
  std::map<std::string, bool> checks;
  for (const nlohmann::json& c : body["checks"]) checks[c.value("name", "")] = c.value("ok", false);
  return std::make_pair(r->status, checks);
}

class HostileAccessTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("ks-hostile");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::move(*dir);
  }

  // Until GetStats at `target` lists `want` partitions of `topic` (all
  // assigned) and `accept` holds for that topic's partition 0.
  bool AwaitPartition(const std::string& target, const std::string& topic,
                      const std::function<bool(const v1::PartitionStats&)>& accept,
                      std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr) {
    return PollUntil(
        [&] {
          absl::StatusOr<v1::GetStatsResponse> stats =
              GetStats(target, absl::Seconds(5), credentials);
          if (!stats.ok()) return false;
          int seen = 0;
          bool ok = false;
          for (const v1::PartitionStats& p : stats->partitions()) {
            if (p.topic() != topic) continue;
            ++seen;
            if (p.partition() == 0) ok = accept(p);
          }
          return seen == kPartitions && ok;
        },
        absl::Seconds(60));
  }

  std::unique_ptr<TempDir> dir_;
};

class HostileSocketE2eTest : public HostileAccessTest {};
class HostileOperatorE2eTest : public HostileAccessTest {};

TEST_F(HostileSocketE2eTest, WorldWritableDirectoryIsRefusedStickyOneIsNot) {
  const std::string shared = dir_->File("shared");
  ASSERT_EQ(::mkdir(shared.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(shared.c_str(), 0777), 0);
  const std::string path = shared + "/sidecar.sock";
  SidecarOptions options = Options(Unique("group"), {Unique("topic")});
  options.grpc_listen = "unix:" + path;

  SidecarProcess* refused = LaunchSidecar(options);
  ASSERT_NE(refused, nullptr);
  absl::StatusOr<int> code = refused->Wait(absl::Seconds(20));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1) << "listen errors exit 1";
  const std::string want = absl::StrCat("server.grpc_listen: socket directory ", shared,
                                        " is writable by others (mode 0777) without the "
                                        "sticky bit");
  EXPECT_TRUE(absl::StrContains(refused->log(), want)) << refused->log();
  EXPECT_EQ(InodeOf(path), 0u) << "a socket was created in the unsafe directory";

  // Sticky (as /tmp): others may add files but not remove ours.
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);
  SidecarProcess* started = StartSidecar(options);
  ASSERT_NE(started, nullptr);
  EXPECT_NE(InodeOf(path), 0u);
}

TEST_F(HostileSocketE2eTest, ReplacedSocketFailsReadinessAndShutdownLeavesItAlone) {
  const std::string topic = Unique("topic");
  ASSERT_TRUE(PrepareTopic(topic, kPartitions, 10).ok());
  const int http = PickFreePort();
  const std::string path = dir_->File("sidecar.sock");
  SidecarOptions options =
      Options(Unique("group"), {topic},
              {{"server.http_listen", Quoted(absl::StrCat("127.0.0.1:", http))},
               {"observability.health_check_interval_ms", "200"}});
  options.grpc_listen = "unix:" + path;
  SidecarProcess* sidecar = StartSidecar(options);
  ASSERT_NE(sidecar, nullptr);

  std::string last;
  auto await_readyz = [&](int status, bool socket_ok) {
    return PollUntil(
        [&] {
          auto p = Probe(http, "/readyz");
          if (!p.ok()) {
            last = p.status().ToString();
            return false;
          }
          auto it = p->second.find("grpc-socket");
          last = absl::StrCat(p->first, " grpc-socket=",
                              it == p->second.end() ? "absent" : it->second ? "ok" : "failing");
          return p->first == status && it != p->second.end() && it->second == socket_ok;
        },
        absl::Seconds(60));
  };
  ASSERT_TRUE(await_readyz(200, true)) << last;

  // Another process unlinks the socket and binds its own at the path.
  ASSERT_EQ(::unlink(path.c_str()), 0);
  absl::StatusOr<std::unique_ptr<BoundSocket>> foreign = BoundSocket::Bind(path, true);
  ASSERT_TRUE(foreign.ok()) << foreign.status();
  const ino_t foreign_inode = InodeOf(path);

  EXPECT_TRUE(await_readyz(503, false)) << last;
  EXPECT_TRUE(absl::StrContains(sidecar->log(), "was replaced by a file this sidecar did not "
                                                "create"))
      << sidecar->log();

  absl::StatusOr<int> code = sidecar->Terminate();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(InodeOf(path), foreign_inode) << "shutdown removed a socket it did not create";
}

TEST_F(HostileOperatorE2eTest, OperatorListenerOnlyMeansRefusedOnTheMainListener) {
  const std::string topic = Unique("topic");
  ASSERT_TRUE(PrepareTopic(topic, kPartitions, 10).ok());
  const std::string operator_target = absl::StrCat("127.0.0.1:", PickFreePort());
  SidecarProcess* sidecar = StartSidecar(
      Options(Unique("group"), {topic},
              {{"server.operator_listen", Quoted(operator_target)},
               {"server.operator_rpcs", "operator_listener"}}));
  ASSERT_NE(sidecar, nullptr);
  const std::string main_target = sidecar->grpc_target();
  ASSERT_TRUE(AwaitPartition(main_target, topic, [](const auto&) { return true; }))
      << "partitions never assigned";

  const TopicPartitionKey p0{topic, 0};
  absl::StatusOr<std::vector<TopicPartitionKey>> denied =
      SetPartitionsPaused(main_target, {p0}, true);
  EXPECT_TRUE(absl::IsPermissionDenied(denied.status())) << denied.status();
  EXPECT_TRUE(absl::StrContains(denied.status().message(), "server.operator_listen"))
      << denied.status();
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(main_target);
  ASSERT_TRUE(stats.ok()) << stats.status() << " (GetStats must stay open)";
  for (const v1::PartitionStats& p : stats->partitions()) EXPECT_FALSE(p.paused()) << p.partition();

  absl::StatusOr<std::vector<TopicPartitionKey>> allowed =
      SetPartitionsPaused(operator_target, {p0}, true);
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ(*allowed, std::vector<TopicPartitionKey>{p0});
  EXPECT_TRUE(AwaitPartition(main_target, topic,
                             [](const v1::PartitionStats& p) { return p.paused(); }));

  EXPECT_TRUE(absl::IsPermissionDenied(SetPartitionsPaused(main_target, {p0}, false).status()));
  ASSERT_TRUE(SetPartitionsPaused(operator_target, {p0}, false).ok());
  EXPECT_TRUE(AwaitPartition(main_target, topic,
                             [](const v1::PartitionStats& p) { return !p.paused(); }));
  EXPECT_TRUE(absl::StrContains(sidecar->log(), "refused PausePartitions")) << sidecar->log();
}

TEST_F(HostileOperatorE2eTest, TlsIdentitiesAllowListedCertificateOnly) {
  absl::StatusOr<TestCerts> certs = MakeTestCerts(dir_->path());
  ASSERT_TRUE(certs.ok()) << certs.status();
  auto handler = TlsClientCredentials(certs->ca_cert, certs->client_cert, certs->client_key);
  auto op = TlsClientCredentials(certs->ca_cert, certs->operator_client_cert,
                                 certs->operator_client_key);
  ASSERT_TRUE(handler.ok() && op.ok());
  const std::string topic = Unique("topic");
  ASSERT_TRUE(PrepareTopic(topic, kPartitions, 10).ok());
  SidecarOptions options = Options(
      Unique("group"), {topic},
      {{"server.tls", absl::StrCat("{cert_file: ", Quoted(certs->server_cert),
                                   ", key_file: ", Quoted(certs->server_key),
                                   ", client_ca_file: ", Quoted(certs->ca_cert), "}")},
       {"server.operator_rpcs", "tls_identities"},
       {"server.operator_identities", "[\"spiffe://e2e/operator\"]"}});
  options.client_credentials = *handler;
  SidecarProcess* sidecar = StartSidecar(options);
  ASSERT_NE(sidecar, nullptr);
  const std::string target = sidecar->grpc_target();
  ASSERT_TRUE(AwaitPartition(target, topic, [](const auto&) { return true; }, *handler));

  const TopicPartitionKey p0{topic, 0};
  // CN e2e-handler, no SAN.
  absl::StatusOr<std::vector<TopicPartitionKey>> denied =
      SetPartitionsPaused(target, {p0}, true, absl::Seconds(10), *handler);
  EXPECT_TRUE(absl::IsPermissionDenied(denied.status())) << denied.status();
  EXPECT_TRUE(absl::StrContains(denied.status().message(), "server.operator_identities"))
      << denied.status();

  // SAN URI spiffe://e2e/operator.
  absl::StatusOr<std::vector<TopicPartitionKey>> allowed =
      SetPartitionsPaused(target, {p0}, true, absl::Seconds(10), *op);
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ(*allowed, std::vector<TopicPartitionKey>{p0});
  EXPECT_TRUE(AwaitPartition(
      target, topic, [](const v1::PartitionStats& p) { return p.paused(); }, *handler));
}

}  // namespace
}  // namespace kafka_sidecar::testing
