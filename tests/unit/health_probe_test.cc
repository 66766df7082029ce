// --probe against a real loopback HTTP server: what counts as healthy, and
// that every failure says which URL and why.
#include "sidecar/admin/health_probe.h"

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace kafka_sidecar {
namespace {

using ::testing::HasSubstr;

class HealthProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"live":true})", "application/json");
    });
    server_.Get("/readyz", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content(R"({"ready":false,"reason":"no assignment yet"})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the loop runs would be lost and TearDown would hang.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(server_.is_running());
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(HealthProbeTest, TwoHundredIsHealthy) {
  EXPECT_TRUE(ProbeHttp(Url("/healthz"), absl::Seconds(2)).ok());
}

TEST_F(HealthProbeTest, AnotherStatusFailsWithTheStatusAndTheReason) {
  const absl::Status s = ProbeHttp(Url("/readyz"), absl::Seconds(2));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("503 from ", Url("/readyz"))));
  EXPECT_THAT(s.message(), HasSubstr("no assignment yet"));
  EXPECT_TRUE(absl::IsUnavailable(ProbeHttp(Url("/nothing-here"), absl::Seconds(2))));
}

TEST_F(HealthProbeTest, NoListenerFailsNamingTheUrl) {
  const std::string url = Url("/healthz");
  server_.stop();
  thread_.join();
  ASSERT_FALSE(server_.is_running());
  const absl::Status s = ProbeHttp(url, absl::Seconds(2));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("no answer from ", url)));
}

TEST(HealthProbeUrlTest, UrlsItCannotGetAreUsageErrors) {
  for (const char* url : {"https://127.0.0.1:8080/healthz", "127.0.0.1:8080/healthz",
                          "http://127.0.0.1/healthz", "http://:8080/healthz",
                          "http://127.0.0.1:0/healthz", "http://127.0.0.1:99999/",
                          "http://[::1/healthz", "http://host:port/"}) {
    const absl::Status s = ProbeHttp(url, absl::Seconds(1));
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << url << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr("--probe needs http://HOST:PORT/PATH")) << url;
  }
}

TEST(HealthProbeUrlTest, BracketedIpv6AndAMissingPathAreAccepted) {
  // Nothing listens on port 1: refused, but parsed.
  EXPECT_TRUE(absl::IsUnavailable(ProbeHttp("http://[::1]:1", absl::Seconds(1))));
  EXPECT_TRUE(absl::IsUnavailable(ProbeHttp("http://127.0.0.1:1", absl::Seconds(1))));
}

}  // namespace
}  // namespace kafka_sidecar
