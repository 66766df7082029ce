#include "sidecar/kafka/auth_failure_log.h"

#include <chrono>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kafka_sidecar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

class FakeClock : public Clock {
 public:
  MonoTime Now() const override { return now_; }
  void Advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  MonoTime now_{std::chrono::seconds(1000)};
};

constexpr char kInvalidCredentials[] =
    "SASL authentication error: Authentication failed during authentication due to "
    "invalid credentials with SASL mechanism SCRAM-SHA-256";

std::string Reported(const std::string& broker, const std::string& timing) {
  return broker + ": " + kInvalidCredentials + " (" + timing + ")";
}

TEST(NormalizeAuthFailureTest, DropsBrokerAndTimingAndReadsTheSuppressedCount) {
  uint64_t suppressed = 99;
  EXPECT_EQ(NormalizeAuthFailure(Reported("sasl_plaintext://127.0.0.1:31000/bootstrap",
                                          "after 341ms in state AUTH_REQ"),
                                 &suppressed),
            kInvalidCredentials);
  EXPECT_EQ(suppressed, 0u);
  EXPECT_EQ(NormalizeAuthFailure(
                Reported("sasl_ssl://kafka-2.example:9094/2",
                         "after 306ms in state AUTH_REQ, 5 identical error(s) suppressed"),
                &suppressed),
            kInvalidCredentials);
  EXPECT_EQ(suppressed, 5u);
}

TEST(NormalizeAuthFailureTest, KeepsAReasonWithoutBrokerOrTiming) {
  uint64_t suppressed = 0;
  EXPECT_EQ(NormalizeAuthFailure("SASL handshake failed (mechanism not enabled)", &suppressed),
            "SASL handshake failed (mechanism not enabled)");
}

TEST(AuthFailureLogTest, LogsAFailureOnceWithAHintAndRemembersIt) {
  FakeClock clock;
  AuthFailureLog log(clock, kScramFixedInLibrdkafka);
  EXPECT_EQ(log.last_error(), "");
  EXPECT_THAT(log.OnFailure(Reported("sasl_plaintext://h:1/bootstrap", "after 3ms in state AUTH_REQ")),
              Optional(std::string("kafka: authentication failed: ") + kInvalidCredentials +
                       " (check kafka.properties sasl.username / sasl.password)"));
  EXPECT_EQ(log.last_error(), kInvalidCredentials);
}

TEST(AuthFailureLogTest, RepeatsAreCountedAndSummarisedOncePerInterval) {
  FakeClock clock;
  AuthFailureLog log(clock, kScramFixedInLibrdkafka, std::chrono::seconds(30));
  ASSERT_TRUE(log.OnFailure(Reported("sasl_plaintext://h:1/1", "after 3ms in state AUTH_REQ")));
  // Another broker, the same failure: not news.
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(log.OnFailure(Reported("sasl_plaintext://h:2/2", "after 3ms in state AUTH_REQ")),
            std::nullopt);
  clock.Advance(std::chrono::seconds(28));
  EXPECT_EQ(log.OnFailure(Reported("sasl_plaintext://h:1/1",
                                   "after 3ms in state AUTH_REQ, 2 identical error(s) suppressed")),
            std::nullopt);
  clock.Advance(std::chrono::seconds(2));
  // 1 + (1 + 2 suppressed) + this one.
  std::optional<std::string> summary =
      log.OnFailure(Reported("sasl_plaintext://h:1/1", "after 3ms in state AUTH_REQ"));
  ASSERT_TRUE(summary.has_value());
  EXPECT_THAT(*summary, HasSubstr("kafka: authentication failed 5 more time(s) in the last 31 s: "));
  EXPECT_THAT(*summary, HasSubstr(kInvalidCredentials));
  // The summary restarts the interval.
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(log.OnFailure(Reported("sasl_plaintext://h:1/1", "after 3ms in state AUTH_REQ")),
            std::nullopt);
}

TEST(AuthFailureLogTest, ScramRejectionsNameTheLibrdkafkaVersionWhenItCannotDoKafka4) {
  FakeClock clock;
  AuthFailureLog old_library(clock, 0x020002ff);
  std::optional<std::string> line =
      old_library.OnFailure(Reported("sasl_plaintext://h:1/1", "after 3ms in state AUTH_REQ"));
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, HasSubstr("check kafka.properties sasl.username / sasl.password; if they "
                               "are right: librdkafka 2.0.2, which this sidecar uses, cannot "
                               "log in with SCRAM to Apache Kafka 4.0 or later"));
  // Not for PLAIN, and not once the library is fixed.
  EXPECT_THAT(old_library.OnFailure("SASL authentication error: Authentication failed: Invalid "
                                    "username or password"),
              Optional(Not(HasSubstr("librdkafka"))));
  AuthFailureLog new_library(clock, 0x020a00ff);
  EXPECT_THAT(new_library.OnFailure(Reported("sasl_plaintext://h:1/1", "after 3ms")),
              Optional(Not(HasSubstr("librdkafka"))));
}

TEST(AuthFailureLogTest, ADifferentFailureIsLoggedAtOnce) {
  FakeClock clock;
  AuthFailureLog log(clock);
  ASSERT_TRUE(log.OnFailure(Reported("sasl_plaintext://h:1/1", "after 3ms in state AUTH_REQ")));
  std::optional<std::string> other = log.OnFailure(
      "sasl_plaintext://h:1/1: SASL SCRAM-SHA-512 mechanism handshake failed: Broker: "
      "Unsupported SASL mechanism: broker's supported mechanisms: PLAIN (after 1ms in state "
      "AUTH_HANDSHAKE)");
  ASSERT_TRUE(other.has_value());
  EXPECT_THAT(*other, HasSubstr("Unsupported SASL mechanism"));
  EXPECT_THAT(*other, HasSubstr("check kafka.properties sasl.mechanisms"));
  EXPECT_THAT(*other, Not(HasSubstr("(after")));
  EXPECT_THAT(log.last_error(), HasSubstr("Unsupported SASL mechanism"));
}

TEST(AuthFailureLogTest, SuccessClearsTheFailureAndSaysHowManyCameBefore) {
  FakeClock clock;
  AuthFailureLog log(clock);
  EXPECT_EQ(log.OnSuccess(), std::nullopt);
  ASSERT_TRUE(log.OnFailure(Reported("sasl_plaintext://h:1/1", "after 3ms in state AUTH_REQ")));
  EXPECT_FALSE(log.OnFailure(Reported("sasl_plaintext://h:1/1", "after 3ms in state AUTH_REQ")));
  EXPECT_THAT(log.OnSuccess(), Optional(std::string("kafka: authenticated, after 2 failed attempt(s)")));
  EXPECT_EQ(log.last_error(), "");
  EXPECT_EQ(log.OnSuccess(), std::nullopt);
  // Failing again after a success is news again.
  EXPECT_TRUE(log.OnFailure(Reported("sasl_plaintext://h:1/1", "after 3ms in state AUTH_REQ")));
}

}  // namespace
}  // namespace kafka_sidecar
