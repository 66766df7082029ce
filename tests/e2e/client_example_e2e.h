// The shared end-to-end scenario for the example handlers in
// client_examples/<lang>/: the real kafka-sidecar binary, a real broker and
// the language's example handler as a child process.
//
// 10,000 JSON messages on a 3-partition topic, every 500th one not valid
// JSON (20 of them); the sidecar dead-letters what the handler rejects. The
// handler is SIGKILLed once about a third is processed and started again;
// the scenario then checks that every valid message was acked exactly once
// (ACKed messages are never redelivered, so messages_processed counts each
// once even across the kill), that the 20 invalid ones and nothing else are
// on the dead-letter topic, that the group committed up to the log end, and
// that the handler exits 0 on SIGTERM. It prints
//   CLIENT-RATE <lang> <n> msg/s
// over the time from the first to the last processed message.
//
// A language's test is one line:
//   TEST_F(ClientExampleE2eTest, Python) { RunScenario("python", {...}); }
//
// RunRetryScenario: 3,000 messages, 10 of them `"fail_once": true`, which the
// example handlers treat as a transient failure on their first delivery
// (RETRY with a 50 ms delay). Under either ordering mode that must be exactly
// 10 retries: the helper stops at a RETRY (partition) or settles each message
// alone (none), so no retry storm, no stale settlements and no pause.
//
// RunPackageScenario: the language's helper installed the way a user installs
// it, into a project outside the repository
// (client_examples/<lang>/packaging/make_outside_project.sh), whose handler
// is the minimal one its README starts with; then RunScenario on it.
#pragma once

#include <signal.h>

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/producer.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_handler.h"
#include "tests/support/topic_reader.h"

namespace kafka_sidecar::testing {

// The repository the example handlers live in. From the build, not
// __FILE__: ccache's base-dir rewriting makes __FILE__ relative.
inline std::string RepoRoot() { return KAFKA_SIDECAR_SOURCE_DIR; }

class ClientExampleE2eTest : public E2eTest {
 protected:
  static constexpr int kPartitions = 3;
  static constexpr int64_t kMessages = 10000;
  static constexpr int64_t kInvalidEvery = 500;
  static constexpr int64_t kInvalid = kMessages / kInvalidEvery;
  static constexpr int64_t kValid = kMessages - kInvalid;

  // Message i (0-based): the 500th, 1000th, ... are invalid.
  static bool IsInvalid(int64_t i) { return (i + 1) % kInvalidEvery == 0; }

  static std::string PayloadFor(int64_t i) {
    if (IsInvalid(i)) return absl::StrCat("{\"id\": ", i, ", \"amount\": ");  // cut short
    return absl::StrCat("{\"id\": ", i, ", \"amount\": ", i % 97,
                        ", \"name\": \"item-", i, "\", \"tags\": [\"a\", \"b\"]}");
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& [name, path] : handler_logs_) {
        std::cout << "---- handler " << name << " log ----\n"
                  << Tail(ReadFile(path), 20000) << "\n---- end log ----"
                  << std::endl;
      }
    }
    handler_.reset();
    E2eTest::TearDown();
  }

  // handler_argv starts the language's example handler; it gets
  // SIDECAR_ADDRESS and HANDLER_NAME (plus `env`) in its environment.
  void RunScenario(const std::string& lang, std::vector<std::string> handler_argv,
                   std::map<std::string, std::string> env = {}) {
    ASSERT_FALSE(handler_argv.empty());
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("client-e2e");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::move(*dir);

    const std::string topic = Unique("topic");
    const std::string dlt = Unique("dlt");
    const std::string group = Unique("group");
    ASSERT_TRUE(broker_->CreateTopic(topic, kPartitions).ok());
    ASSERT_TRUE(broker_->CreateTopic(dlt, 1).ok());
    ProduceOptions produce;
    produce.value_for = PayloadFor;
    absl::Status produced =
        ProduceMessages(broker_->bootstrap(), topic, kPartitions, kMessages, produce);
    ASSERT_TRUE(produced.ok()) << produced;
    absl::StatusOr<Offsets> end = broker_->EndOffsets(topic);
    ASSERT_TRUE(end.ok()) << end.status();
    ASSERT_EQ(Sum(*end), kMessages);

    // The defaults otherwise: ~7 rejects per partition must not pause it.
    SidecarProcess* sidecar = StartSidecar(Options(
        group, {topic}, {{"processing.dead_letter_topic", absl::StrCat("\"", dlt, "\"")}}));
    ASSERT_NE(sidecar, nullptr);
    const std::string target = sidecar->grpc_target();

    const std::string handler_name = absl::StrCat(lang, "-e2e");
    // `env` execs the handler in place, so the child's pid is the handler's
    // and SIGTERM reaches it directly.
    std::vector<std::string> argv = {"/usr/bin/env",
                                     absl::StrCat("SIDECAR_ADDRESS=", target),
                                     absl::StrCat("HANDLER_NAME=", handler_name)};
    for (const auto& [k, v] : env) argv.push_back(absl::StrCat(k, "=", v));
    argv.insert(argv.end(), handler_argv.begin(), handler_argv.end());

    uint64_t processed = 0;
    auto poll_processed = [&] {
      absl::StatusOr<v1::GetStatsResponse> stats = GetStats(target);
      if (stats.ok()) processed = stats->messages_processed();
      return stats.ok();
    };

    ASSERT_TRUE(SpawnHandler(argv, "first"));
    // Fine-grained polling: the rate's start and the kill point depend on it.
    std::optional<absl::Time> first_processed;
    ASSERT_TRUE(PollUntil(
        [&] {
          if (!poll_processed()) return false;
          if (processed > 0 && !first_processed) first_processed = absl::Now();
          return processed >= static_cast<uint64_t>(kMessages / 3);
        },
        absl::Minutes(5), absl::Milliseconds(10)))
        << "processed " << processed << " before the kill point";
    const uint64_t at_kill = processed;
    ASSERT_TRUE(handler_->Signal(SIGKILL).ok());
    absl::StatusOr<int> killed = handler_->Wait(absl::Seconds(30));
    ASSERT_TRUE(killed.ok()) << killed.status();
    EXPECT_EQ(*killed, 128 + SIGKILL);
    std::cout << "[ INFO     ] " << lang << " handler SIGKILLed at processed=" << at_kill
              << std::endl;

    ASSERT_TRUE(SpawnHandler(argv, "second"));
    ASSERT_TRUE(PollUntil(
        [&] { return poll_processed() && processed >= static_cast<uint64_t>(kValid); },
        absl::Minutes(8), absl::Milliseconds(20)))
        << "processed " << processed << " of " << kValid;
    const absl::Time last_processed = absl::Now();

    absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(2));
    ASSERT_TRUE(committed.ok()) << committed;

    // The commit moves past a rejected message only once its dead letter is
    // in Kafka, so the topic is complete now.
    absl::StatusOr<std::vector<ReadRecord>> dead =
        ReadAllOfTopic(broker_->bootstrap(), dlt, absl::Seconds(60));
    ASSERT_TRUE(dead.ok()) << dead.status();
    std::set<std::pair<std::string, std::string>> expected_dead;  // partition, offset
    for (int64_t i = 0; i < kMessages; ++i) {
      if (!IsInvalid(i)) continue;
      // ProduceMessages: offset o of partition p is message o * partitions + p.
      expected_dead.insert({absl::StrCat(i % kPartitions), absl::StrCat(i / kPartitions)});
    }
    std::set<std::pair<std::string, std::string>> got_dead;
    for (const ReadRecord& r : *dead) {
      const std::string partition = Header(r, "x-original-partition");
      const std::string offset = Header(r, "x-original-offset");
      EXPECT_EQ(Header(r, "x-original-topic"), topic);
      EXPECT_FALSE(Header(r, "x-dead-letter-reason").empty());
      int64_t o = 0, p = 0;
      if (absl::SimpleAtoi(offset, &o) && absl::SimpleAtoi(partition, &p)) {
        EXPECT_EQ(r.value, PayloadFor(o * kPartitions + p))
            << "dead letter of " << partition << "/" << offset;
      } else {
        ADD_FAILURE() << "dead letter without numeric x-original-partition/offset: "
                      << partition << "/" << offset;
      }
      EXPECT_TRUE(got_dead.insert({partition, offset}).second)
          << "dead-lettered twice: " << partition << "/" << offset;
    }
    EXPECT_EQ(dead->size(), static_cast<size_t>(kInvalid));
    EXPECT_EQ(got_dead, expected_dead);

    absl::StatusOr<v1::GetStatsResponse> stats = GetStats(target);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->messages_processed(), static_cast<uint64_t>(kValid));
    EXPECT_EQ(stats->messages_failed(), static_cast<uint64_t>(kInvalid));
    EXPECT_EQ(stats->messages_dead_lettered(), static_cast<uint64_t>(kInvalid));
    bool named = false;
    for (const auto& s : stats->streams()) named = named || s.handler_name() == handler_name;
    EXPECT_TRUE(named) << "no stream named " << handler_name
                       << " (HANDLER_NAME not used?)";

    EXPECT_FALSE(absl::StrContains(sidecar->log(), "paused for")) << "a partition was paused";

    // SIGTERM: stop taking work, settle, exit 0.
    ExpectCleanExitOnSigterm();

    const double seconds =
        absl::ToDoubleSeconds(last_processed - first_processed.value_or(last_processed));
    const double rate = seconds > 0 ? static_cast<double>(kValid) / seconds : 0;
    std::cout << "[ INFO     ] " << lang << " handler: " << kValid << " processed in "
              << seconds << " s from first to last, across the kill and restart"
              << std::endl;
    std::cout << "CLIENT-RATE " << lang << " " << static_cast<int64_t>(rate) << " msg/s"
              << std::endl;
  }

  void RunRetryScenario(const std::string& lang, const std::string& ordering,
                        std::vector<std::string> handler_argv) {
    constexpr int64_t kCount = 3000;
    // 17, 318, ..., 2726: ten messages, on every partition.
    constexpr int64_t kFailOnceEvery = 301;
    constexpr int64_t kFailOnce = 10;
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("client-retry");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::move(*dir);
    const std::string topic = Unique("topic");
    const std::string group = Unique("group");
    ASSERT_TRUE(broker_->CreateTopic(topic, kPartitions).ok());
    ProduceOptions produce;
    produce.value_for = [](int64_t i) {
      return absl::StrCat("{\"id\": ", i, ", \"amount\": ", i % 97,
                          i % kFailOnceEvery == 17 ? ", \"fail_once\": true" : "", "}");
    };
    ASSERT_TRUE(ProduceMessages(broker_->bootstrap(), topic, kPartitions, kCount, produce).ok());
    absl::StatusOr<Offsets> end = broker_->EndOffsets(topic);
    ASSERT_TRUE(end.ok()) << end.status();

    SidecarProcess* sidecar =
        StartSidecar(Options(group, {topic}, {{"processing.ordering", ordering}}));
    ASSERT_NE(sidecar, nullptr);
    const std::string target = sidecar->grpc_target();
    std::vector<std::string> argv = {"/usr/bin/env", absl::StrCat("SIDECAR_ADDRESS=", target),
                                     absl::StrCat("HANDLER_NAME=", lang, "-retry")};
    argv.insert(argv.end(), handler_argv.begin(), handler_argv.end());
    ASSERT_TRUE(SpawnHandler(argv, "retry"));

    ASSERT_TRUE(AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(3)).ok())
        << "not everything committed";
    absl::StatusOr<v1::GetStatsResponse> stats = GetStats(target);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->messages_retried(), static_cast<uint64_t>(kFailOnce));
    EXPECT_EQ(stats->redeliveries().retry(), static_cast<uint64_t>(kFailOnce));
    EXPECT_EQ(stats->messages_processed(), static_cast<uint64_t>(kCount));
    EXPECT_EQ(stats->messages_failed(), 0u);
    EXPECT_EQ(stats->messages_first_delivered(), static_cast<uint64_t>(kCount));
    EXPECT_EQ(stats->redeliveries().ack_timeout(), 0u);
    EXPECT_EQ(stats->redeliveries().stream_lost(), 0u);
    // Nothing after a RETRY was settled: the rewound messages come back once
    // each and no settlement goes stale.
    EXPECT_EQ(stats->stale_settlements(), 0u);
    if (ordering == "none") {
      EXPECT_EQ(stats->redeliveries().rewind(), 0u);
    }
    EXPECT_FALSE(absl::StrContains(sidecar->log(), "paused for")) << "a partition was paused";
    std::cout << "[ INFO     ] " << lang << " ordering " << ordering << ": retried "
              << stats->messages_retried() << ", delivered " << stats->messages_delivered()
              << " (rewind " << stats->redeliveries().rewind() << ")" << std::endl;
    ExpectCleanExitOnSigterm();
  }

  void RunPackageScenario(const std::string& lang) {
    // Outside the repository, as a user's project would be.
    absl::StatusOr<std::unique_ptr<TempDir>> project = TempDir::Create("outside-" + lang);
    ASSERT_TRUE(project.ok()) << project.status();
    const std::string out = (*project)->File("project");
    const std::string script =
        absl::StrCat(RepoRoot(), "/client_examples/", lang, "/packaging/make_outside_project.sh");
    const std::string log = (*project)->File("make.log");
    absl::StatusOr<std::unique_ptr<Subprocess>> make = Subprocess::Spawn({script, out}, log);
    ASSERT_TRUE(make.ok()) << make.status();
    absl::StatusOr<int> made = (*make)->Wait(absl::Minutes(10));
    ASSERT_TRUE(made.ok()) << script << ": " << made.status();
    ASSERT_EQ(*made, 0) << script << " failed:\n" << Tail(ReadFile(log), 20000);
    RunScenario(absl::StrCat(lang, "-package"), {out + "/run-handler"});
  }

 private:
  void ExpectCleanExitOnSigterm() {
    ASSERT_TRUE(handler_->Signal(SIGTERM).ok());
    absl::StatusOr<int> exited = handler_->Wait(absl::Seconds(30));
    ASSERT_TRUE(exited.ok()) << "handler did not exit on SIGTERM: " << exited.status();
    EXPECT_EQ(*exited, 0) << "handler exit code on SIGTERM";
  }

  bool SpawnHandler(const std::vector<std::string>& argv, const std::string& name) {
    const std::string log = dir_->File(absl::StrCat("handler-", name, ".log"));
    handler_logs_.emplace_back(name, log);
    handler_.reset();
    absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Spawn(argv, log);
    if (!process.ok()) {
      ADD_FAILURE() << "handler could not be spawned: " << process.status();
      return false;
    }
    handler_ = std::move(*process);
    return true;
  }

  static std::string Header(const ReadRecord& r, const std::string& key) {
    for (const auto& h : r.headers) {
      if (h.key == key) return h.value.value_or("");
    }
    return "";
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Subprocess> handler_;
  std::vector<std::pair<std::string, std::string>> handler_logs_;
};

}  // namespace kafka_sidecar::testing
