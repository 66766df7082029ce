#include "sidecar/server/operator_access.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kafka_sidecar {
namespace {

OperatorAccessPolicy Policy(const std::string& mode, std::set<std::string> identities = {},
                            bool operator_listener = false) {
  OperatorAccessPolicy p;
  p.mode = mode;
  p.identities = std::move(identities);
  p.operator_listener = operator_listener;
  return p;
}

TEST(OperatorAccessTest, AnyAllowsEveryone) {
  EXPECT_EQ(OperatorCallRefusal(Policy("any"), {}), "");
  EXPECT_EQ(OperatorCallRefusal(Policy("any"), {"someone"}), "");
}

TEST(OperatorAccessTest, OperatorListenerModeRefusesTheMainListenerOnly) {
  const std::string refusal = OperatorCallRefusal(Policy("operator_listener"), {"ops"});
  EXPECT_TRUE(absl::StrContains(refusal, "server.operator_listen")) << refusal;
  EXPECT_EQ(OperatorCallRefusal(Policy("operator_listener", {}, true), {}), "");
}

TEST(OperatorAccessTest, TlsIdentitiesNeedsAListedIdentity) {
  const OperatorAccessPolicy p =
      Policy("tls_identities", {"ops.example.com", "spiffe://prod/ns/ops/sa/oncall"});
  // Any SAN or the CN may match.
  EXPECT_EQ(OperatorCallRefusal(p, {"ops.example.com"}), "");
  EXPECT_EQ(OperatorCallRefusal(p, {"other.example.com", "spiffe://prod/ns/ops/sa/oncall"}), "");
  const std::string refusal = OperatorCallRefusal(p, {"handler", "handler.example.com"});
  EXPECT_TRUE(absl::StrContains(refusal, "server.operator_identities")) << refusal;
  EXPECT_NE(OperatorCallRefusal(p, {}), "") << "plaintext or no certificate";
  // Exact matches only: no prefixes, no case folding.
  EXPECT_NE(OperatorCallRefusal(p, {"OPS.example.com"}), "");
  EXPECT_NE(OperatorCallRefusal(p, {"ops.example.com.evil"}), "");
  // The operator listener allows operator RPCs whatever the identity.
  EXPECT_EQ(OperatorCallRefusal(Policy("tls_identities", {"ops"}, true), {}), "");
}

TEST(OperatorAccessTest, FromConfigTakesTheServerSection) {
  ServerConfig s;
  s.operator_rpcs = "tls_identities";
  s.operator_identities = {"a", "b"};
  const OperatorAccessPolicy p = OperatorAccessPolicy::FromConfig(s, false);
  EXPECT_EQ(p.mode, "tls_identities");
  EXPECT_EQ(p.identities, (std::set<std::string>{"a", "b"}));
  EXPECT_FALSE(p.operator_listener);
  EXPECT_TRUE(OperatorAccessPolicy::FromConfig(s, true).operator_listener);
}

TEST(OperatorAccessTest, LocalListenAddresses) {
  for (const char* local : {"unix:/run/s.sock", "127.0.0.1:50051", "127.1.2.3:1",
                            "localhost:50051", "[::1]:50051"}) {
    EXPECT_TRUE(IsLocalListenAddress(local)) << local;
  }
  for (const char* remote : {"0.0.0.0:50051", "[::]:50051", "10.0.0.5:50051",
                             "sidecar.local:50051", "1127.0.0.1:5"}) {
    EXPECT_FALSE(IsLocalListenAddress(remote)) << remote;
  }
}

TEST(OperatorAccessTest, WarnsOnlyWhenOpenToTheNetwork) {
  ServerConfig s;
  EXPECT_EQ(OpenOperatorRpcsWarning(s), "") << "loopback default";
  s.grpc_listen = "0.0.0.0:50051";
  const std::string warning = OpenOperatorRpcsWarning(s);
  EXPECT_TRUE(absl::StrContains(warning, "server.operator_rpcs: any")) << warning;
  s.tls.cert_file = "c";
  s.tls.key_file = "k";
  EXPECT_NE(OpenOperatorRpcsWarning(s), "") << "TLS without client certificates";
  s.tls.client_ca_file = "ca";
  EXPECT_EQ(OpenOperatorRpcsWarning(s), "") << "mutual TLS";
  s.tls = {};
  s.operator_rpcs = "operator_listener";
  EXPECT_EQ(OpenOperatorRpcsWarning(s), "");
}

TEST(RefusalLogLimitTest, FirstAtOnceThenOncePerIntervalWithTheCount) {
  RefusalLogLimit limit(std::chrono::seconds(10));
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  uint64_t unlogged = 99;
  EXPECT_TRUE(limit.ShouldLog(t0, &unlogged));
  EXPECT_EQ(unlogged, 0u);
  for (int i = 1; i <= 5; ++i) {
    EXPECT_FALSE(limit.ShouldLog(t0 + std::chrono::seconds(i), &unlogged));
  }
  EXPECT_TRUE(limit.ShouldLog(t0 + std::chrono::seconds(10), &unlogged));
  EXPECT_EQ(unlogged, 5u);
  EXPECT_FALSE(limit.ShouldLog(t0 + std::chrono::seconds(19), &unlogged));
  EXPECT_TRUE(limit.ShouldLog(t0 + std::chrono::seconds(20), &unlogged));
  EXPECT_EQ(unlogged, 1u);
}

TEST(OperatorAccessTest, PlaintextPeersHaveNoIdentity) {
  EXPECT_TRUE(PeerIdentities(nullptr).empty());
}

}  // namespace
}  // namespace kafka_sidecar
