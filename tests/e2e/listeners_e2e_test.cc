// End-to-end: the gRPC listener of SPEC section 4 `server` — TLS, mutual
// TLS and Unix sockets, each with a handler consuming through it, and the
// start-up errors for what is found at a socket path or in server.tls.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/bound_socket.h"
#include "tests/support/sidecar_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tests/support/test_handler.h"

namespace kafka_sidecar::testing {
namespace {

constexpr int kPartitions = 2;
constexpr int64_t kMessages = 300;

std::string TlsOverride(const std::string& cert, const std::string& key,
                        const std::string& client_ca = "") {
  std::string yaml = absl::StrCat("{cert_file: \"", cert, "\", key_file: \"", key, "\"");
  if (!client_ca.empty()) absl::StrAppend(&yaml, ", client_ca_file: \"", client_ca, "\"");
  return absl::StrCat(yaml, "}");
}

bool Accepts(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

class ListenerE2eTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kafka-sidecar-listen");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::move(*dir);
  }

  TestCerts Certs() {
    absl::StatusOr<TestCerts> certs = MakeTestCerts(dir_->path());
    EXPECT_TRUE(certs.ok()) << certs.status();
    return certs.ok() ? *certs : TestCerts{};
  }

  // A fresh topic with kMessages records; the handler must get and ACK all
  // of them through `target` and the group must commit the log end.
  void ExpectConsumesEverything(const std::string& target, const std::string& group,
                                const std::string& topic, const Offsets& end,
                                std::shared_ptr<grpc::ChannelCredentials> credentials) {
    TestHandler handler(AckAll());
    handler.SetCredentials(std::move(credentials));
    absl::StatusOr<v1::Subscribed> subscribed = handler.Connect(target);
    ASSERT_TRUE(subscribed.ok()) << subscribed.status();
    EXPECT_EQ(subscribed->group_id(), group);
    EXPECT_TRUE(handler.WaitFor(
        [](const HandlerState& s) { return s.acked_count >= kMessages; }, absl::Seconds(60)))
        << "acked " << handler.Snapshot().acked_count << " of " << kMessages;
    absl::Status committed = AwaitCommittedAtEnd(group, topic, end, absl::Seconds(60));
    EXPECT_TRUE(committed.ok()) << committed;
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(ListenerE2eTest, TlsListenerServesTlsClientsAndRefusesPlaintext) {
  const TestCerts certs = Certs();
  ASSERT_FALSE(HasFailure());
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls =
      TlsClientCredentials(certs.ca_cert);
  ASSERT_TRUE(tls.ok()) << tls.status();

  SidecarOptions options =
      Options(group, {topic}, {{"server.tls", TlsOverride(certs.server_cert, certs.server_key)}});
  options.client_credentials = *tls;
  SidecarProcess* sidecar = StartSidecar(options);
  ASSERT_NE(sidecar, nullptr);

  ExpectConsumesEverything(sidecar->grpc_target(), group, topic, *end, *tls);

  absl::StatusOr<v1::GetStatsResponse> plaintext =
      GetStats(sidecar->grpc_target(), absl::Seconds(5));
  EXPECT_FALSE(plaintext.ok()) << "a plaintext client got an answer from a TLS listener";
}

TEST_F(ListenerE2eTest, MutualTlsAcceptsOnlyClientsWithCertificateFromClientCa) {
  const TestCerts certs = Certs();
  ASSERT_FALSE(HasFailure());
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> with_cert =
      TlsClientCredentials(certs.ca_cert, certs.client_cert, certs.client_key);
  ASSERT_TRUE(with_cert.ok()) << with_cert.status();
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> without_cert =
      TlsClientCredentials(certs.ca_cert);
  ASSERT_TRUE(without_cert.ok()) << without_cert.status();
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> foreign_cert =
      TlsClientCredentials(certs.ca_cert, certs.other_client_cert, certs.other_client_key);
  ASSERT_TRUE(foreign_cert.ok()) << foreign_cert.status();

  SidecarOptions options = Options(
      group, {topic},
      {{"server.tls", TlsOverride(certs.server_cert, certs.server_key, certs.ca_cert)}});
  options.client_credentials = *with_cert;
  SidecarProcess* sidecar = StartSidecar(options);
  ASSERT_NE(sidecar, nullptr);

  ExpectConsumesEverything(sidecar->grpc_target(), group, topic, *end, *with_cert);

  absl::StatusOr<v1::GetStatsResponse> anonymous =
      GetStats(sidecar->grpc_target(), absl::Seconds(5), *without_cert);
  EXPECT_EQ(anonymous.status().code(), absl::StatusCode::kUnavailable)
      << "TLS client without a certificate: " << anonymous.status();
  absl::StatusOr<v1::GetStatsResponse> foreign =
      GetStats(sidecar->grpc_target(), absl::Seconds(5), *foreign_cert);
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kUnavailable)
      << "client certificate from another CA: " << foreign.status();
  TestHandler intruder(AckAll());
  intruder.SetCredentials(*foreign_cert);
  absl::StatusOr<v1::Subscribed> subscribed =
      intruder.Connect(sidecar->grpc_target(), {}, absl::Seconds(10));
  EXPECT_FALSE(subscribed.ok()) << "a handler with a foreign certificate subscribed";
}

TEST_F(ListenerE2eTest, UnixSocketServesHandlerIsGroupOnlyAndGoesAwayOnShutdown) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();
  const std::string path = dir_->File("sidecar.sock");

  SidecarOptions options = Options(group, {topic});
  options.grpc_listen = "unix:" + path;
  SidecarProcess* sidecar = StartSidecar(options);
  ASSERT_NE(sidecar, nullptr);
  EXPECT_EQ(sidecar->grpc_target(), "unix:" + path);

  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u) << "mode " << std::oct << (st.st_mode & 0777);

  ExpectConsumesEverything(sidecar->grpc_target(), group, topic, *end, nullptr);

  absl::StatusOr<int> code = sidecar->Terminate();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_NE(::lstat(path.c_str(), &st), 0) << path << " is still there after shutdown";
}

// Start-up behaviour of the listener; no consumer needs Kafka for it, so
// these run without a broker (nothing listens at the bootstrap address).
class ListenerStartupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kafka-sidecar-listen");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::move(*dir);
  }

  void TearDown() override {
    if (HasFailure() && sidecar_ != nullptr) {
      std::cout << "---- kafka-sidecar log ----\n" << sidecar_->log() << "\n---- end log ----\n";
    }
    sidecar_.reset();
  }

  SidecarOptions Options(std::map<std::string, std::string> overrides = {}) const {
    SidecarOptions options;
    options.binary = kSidecarBinary;
    options.bootstrap = "127.0.0.1:1";
    options.group_id = "listener-startup";
    options.topics = {"listener-startup"};
    options.overrides = std::move(overrides);
    return options;
  }

  // Launches a sidecar that must refuse to start: its exit code, its log.
  std::pair<int, std::string> ExpectStartupFailure(const SidecarOptions& options) {
    absl::StatusOr<std::unique_ptr<SidecarProcess>> launched = SidecarProcess::Launch(options);
    if (!launched.ok()) {
      ADD_FAILURE() << "cannot launch: " << launched.status();
      return {-1, ""};
    }
    sidecar_ = std::move(*launched);
    absl::StatusOr<int> code = sidecar_->Wait(absl::Seconds(15));
    if (!code.ok()) {
      ADD_FAILURE() << "still running: " << code.status();
      return {-1, sidecar_->log()};
    }
    EXPECT_NE(*code, 0);
    return {*code, sidecar_->log()};
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<SidecarProcess> sidecar_;
};

TEST_F(ListenerStartupTest, StaleSocketFromDeadProcessIsReplaced) {
  const std::string path = dir_->File("sidecar.sock");
  {
    absl::StatusOr<std::unique_ptr<BoundSocket>> stale = BoundSocket::Bind(path, false);
    ASSERT_TRUE(stale.ok()) << stale.status();
  }
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0) << "the stale socket file should remain";
  ASSERT_FALSE(Accepts(path));

  SidecarOptions options = Options();
  options.grpc_listen = "unix:" + path;
  absl::StatusOr<std::unique_ptr<SidecarProcess>> started = SidecarProcess::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  sidecar_ = std::move(*started);
  EXPECT_TRUE(Accepts(path));
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u) << "mode " << std::oct << (st.st_mode & 0777);
  EXPECT_NE(sidecar_->log().find("removed stale socket"), std::string::npos);
}

TEST_F(ListenerStartupTest, SocketALiveProcessAcceptsOnIsLeftAlone) {
  const std::string path = dir_->File("sidecar.sock");
  absl::StatusOr<std::unique_ptr<BoundSocket>> live = BoundSocket::Bind(path, true);
  ASSERT_TRUE(live.ok()) << live.status();

  SidecarOptions options = Options();
  options.grpc_listen = "unix:" + path;
  const auto [code, log] = ExpectStartupFailure(options);
  EXPECT_NE(log.find("server.grpc_listen: " + path + " is in use by another process"),
            std::string::npos)
      << log;
  EXPECT_TRUE(Accepts(path)) << "the other process's socket was taken away";
}

TEST_F(ListenerStartupTest, RegularFileAtSocketPathIsAnErrorAndStaysUntouched) {
  const std::string path = dir_->File("sidecar.sock");
  const std::string contents = "not a socket\n";
  std::ofstream(path) << contents;

  SidecarOptions options = Options();
  options.grpc_listen = "unix:" + path;
  const auto [code, log] = ExpectStartupFailure(options);
  EXPECT_NE(log.find("server.grpc_listen: " + path + " exists and is a regular file"),
            std::string::npos)
      << log;
  EXPECT_EQ(ReadFile(path), contents);
}

TEST_F(ListenerStartupTest, MissingCertFileIsAnErrorNamingTheKey) {
  const std::string missing = dir_->File("missing.pem");
  const std::string key = dir_->File("key.pem");
  std::ofstream(key) << "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n";
  const auto [code, log] =
      ExpectStartupFailure(Options({{"server.tls", TlsOverride(missing, key)}}));
  EXPECT_NE(log.find("server.tls.cert_file: cannot read " + missing +
                     ": No such file or directory"),
            std::string::npos)
      << log;
}

TEST_F(ListenerStartupTest, KeyFileThatIsNotPemIsAnErrorNamingTheKey) {
  absl::StatusOr<TestCerts> certs = MakeTestCerts(dir_->path());
  ASSERT_TRUE(certs.ok()) << certs.status();
  const std::string der = dir_->File("key.der");
  std::ofstream(der) << std::string("\x30\x82\x01\x0a\x02\x82", 6);
  const auto [code, log] =
      ExpectStartupFailure(Options({{"server.tls", TlsOverride(certs->server_cert, der)}}));
  EXPECT_NE(log.find("server.tls.key_file: " + der + " is not a PEM file"), std::string::npos)
      << log;
  EXPECT_EQ(log.find("\x30\x82"), std::string::npos) << "key file contents in the log";
}

TEST_F(ListenerStartupTest, CertificateAndKeyThatDoNotMatchAreAnError) {
  absl::StatusOr<TestCerts> certs = MakeTestCerts(dir_->path());
  ASSERT_TRUE(certs.ok()) << certs.status();
  const auto [code, log] = ExpectStartupFailure(
      Options({{"server.tls", TlsOverride(certs->server_cert, certs->client_key)}}));
  EXPECT_NE(log.find("server.tls.cert_file and server.tls.key_file are a matching"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace kafka_sidecar::testing
