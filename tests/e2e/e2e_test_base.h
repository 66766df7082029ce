// A base fixture for end-to-end test suites: one real Kafka broker per suite
// (ctest runs each test in its own process, so in practice one per test),
// helpers to start sidecars that the fixture owns (their logs are printed
// when a test fails), to fill topics and to wait for Kafka's own view of the
// committed offsets. Header-only, for the e2e target, which defines
// KAFKA_SIDECAR_BINARY.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/kafka_broker.h"
#include "tests/support/producer.h"
#include "tests/support/sidecar_process.h"
#include "tests/support/test_handler.h"

#ifndef KAFKA_SIDECAR_BINARY
#error "e2e_test_base.h is for the e2e target, which defines KAFKA_SIDECAR_BINARY"
#endif

namespace kafka_sidecar::testing {

inline constexpr char kSidecarBinary[] = KAFKA_SIDECAR_BINARY;

using Offsets = std::map<int32_t, int64_t>;

inline std::string Format(const Offsets& offsets) {
  return absl::StrCat(
      "{",
      absl::StrJoin(offsets, ", ",
                    [](std::string* out, const auto& po) {
                      absl::StrAppend(out, po.first, ":", po.second);
                    }),
      "}");
}

inline int64_t Sum(const Offsets& offsets) {
  int64_t total = 0;
  for (const auto& [p, o] : offsets) total += o;
  return total;
}

// A partition with no records has nothing to commit, so a missing entry
// there counts as "at the end".
inline bool CommittedAtEnd(const Offsets& committed,
                           const Offsets& end) {
  for (const auto& [partition, end_offset] : end) {
    auto it = committed.find(partition);
    const int64_t c = it == committed.end() ? 0 : it->second;
    if (c != end_offset) return false;
  }
  return true;
}

inline std::string Tail(const std::string& text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  return absl::StrCat("...[", text.size() - max_chars, " bytes cut]...\n",
                      text.substr(text.size() - max_chars));
}

// For state outside this process (Kafka's committed offsets, the sidecar's
// stats) there is no event to wait on, so it is polled until a deadline. The
// interval only keeps a fast-failing probe from spinning.
inline bool PollUntil(const std::function<bool()>& done, absl::Duration timeout,
                      absl::Duration interval = absl::Milliseconds(100)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (done()) return true;
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(interval));
  }
}

inline size_t CountForTopic(const std::set<TopicPartitionKey>& partitions,
                     const std::string& topic) {
  return static_cast<size_t>(std::count_if(
      partitions.begin(), partitions.end(),
      [&](const TopicPartitionKey& tp) { return tp.first == topic; }));
}

class E2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const absl::Time start = absl::Now();
    absl::StatusOr<std::unique_ptr<KafkaBroker>> broker = KafkaBroker::Start();
    if (broker.ok()) {
      broker_ = broker->release();
      std::cout << "[ INFO     ] Kafka broker " << broker_->bootstrap()
                << " started in " << absl::FormatDuration(absl::Now() - start)
                << std::endl;
    } else {
      broker_error_ = new std::string(broker.status().ToString());
    }
  }

  static void TearDownTestSuite() {
    delete broker_;
    broker_ = nullptr;
    delete broker_error_;
    broker_error_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(broker_, nullptr)
        << "Kafka broker did not start: "
        << (broker_error_ != nullptr ? *broker_error_ : "unknown");
  }

  void TearDown() override {
    if (HasFailure()) DumpSidecarLogs(30000);
    sidecars_.clear();
  }

  void DumpSidecarLogs(size_t max_chars_each) const {
    for (size_t i = 0; i < sidecars_.size(); ++i) {
      std::cout << "---- kafka-sidecar #" << i << " log (pid "
                << sidecars_[i]->pid() << ") ----\n"
                << Tail(sidecars_[i]->log(), max_chars_each)
                << "\n---- end log ----" << std::endl;
    }
  }

  static std::string Unique(const std::string& what) {
    static int counter = 0;
    // A parameterised test is named "Test/param"; Kafka allows only
    // [A-Za-z0-9._-] in topic and group names.
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : test) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
          c != '-') {
        c = '_';
      }
    }
    return absl::StrCat("e2e-", test, "-", what, "-", ::getpid(), "-", ++counter);
  }

  static SidecarOptions Options(
      const std::string& group, const std::vector<std::string>& topics,
      std::map<std::string, std::string> overrides = {}) {
    SidecarOptions options;
    options.binary = kSidecarBinary;
    options.bootstrap = broker_->bootstrap();
    options.group_id = group;
    options.topics = topics;
    options.overrides = std::move(overrides);
    return options;
  }

  // Started and serving GetStats, or nullptr after recording the failure.
  // The fixture owns it so its log can be printed when the test fails.
  SidecarProcess* StartSidecar(const SidecarOptions& options,
                               absl::Duration ready_timeout = absl::Seconds(60)) {
    absl::StatusOr<std::unique_ptr<SidecarProcess>> sidecar =
        SidecarProcess::Start(options, ready_timeout);
    if (!sidecar.ok()) {
      ADD_FAILURE() << "sidecar did not start: " << sidecar.status();
      return nullptr;
    }
    sidecars_.push_back(std::move(*sidecar));
    return sidecars_.back().get();
  }

  SidecarProcess* LaunchSidecar(const SidecarOptions& options) {
    absl::StatusOr<std::unique_ptr<SidecarProcess>> sidecar =
        SidecarProcess::Launch(options);
    if (!sidecar.ok()) {
      ADD_FAILURE() << "sidecar could not be spawned: " << sidecar.status();
      return nullptr;
    }
    sidecars_.push_back(std::move(*sidecar));
    return sidecars_.back().get();
  }

  // Creates the topic, fills it with `messages` messages of `value_size`
  // bytes, and returns its end offsets.
  static absl::StatusOr<Offsets> PrepareTopic(const std::string& topic,
                                                       int partitions,
                                                       int64_t messages,
                                                       size_t value_size = 100) {
    absl::Status created = broker_->CreateTopic(topic, partitions);
    if (!created.ok()) return created;
    if (messages > 0) {
      ProduceOptions produce;
      produce.value_size = value_size;
      absl::Status produced = ProduceMessages(broker_->bootstrap(), topic,
                                              partitions, messages, produce);
      if (!produced.ok()) return produced;
    }
    return broker_->EndOffsets(topic);
  }

  // The group's committed offsets as Kafka's own tool reads them, until they
  // equal `end`.
  static absl::Status AwaitCommittedAtEnd(const std::string& group,
                                          const std::string& topic,
                                          const Offsets& end,
                                          absl::Duration timeout) {
    std::string last = "nothing read yet";
    const bool reached = PollUntil(
        [&] {
          absl::StatusOr<Offsets> committed =
              broker_->CommittedOffsets(group, topic);
          if (!committed.ok()) {
            last = committed.status().ToString();
            return false;
          }
          last = Format(*committed);
          return CommittedAtEnd(*committed, end);
        },
        timeout, absl::Milliseconds(200));
    if (reached) return absl::OkStatus();
    return absl::DeadlineExceededError(
        absl::StrCat("group ", group, " committed ", last, ", log end ",
                     Format(end), " after ",
                     absl::FormatDuration(timeout)));
  }

  static inline KafkaBroker* broker_ = nullptr;
  static inline std::string* broker_error_ = nullptr;
  std::vector<std::unique_ptr<SidecarProcess>> sidecars_;
};

}  // namespace kafka_sidecar::testing
