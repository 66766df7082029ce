// End-to-end bad input: the kafka-sidecar binary against a real Kafka broker,
// with handlers that misbehave. SPEC sections 2 and 3: stream life (a bad
// first request ends the stream with INVALID_ARGUMENT, the sidecar lives on),
// flow control (the byte window and the single-oversized-message exception),
// and settlements naming unknown or stale batches/offsets (ignored, counted
// in stale_settlements, never moving a commit).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/kafka_broker.h"
#include "tests/support/pacer.h"
#include "tests/support/producer.h"
#include "tests/support/sidecar_process.h"
#include "tests/support/test_handler.h"

namespace kafka_sidecar::testing {
namespace {

size_t CountForTopic(const std::set<TopicPartitionKey>& partitions, const std::string& topic) {
  return static_cast<size_t>(std::count_if(
      partitions.begin(), partitions.end(),
      [&](const TopicPartitionKey& tp) { return tp.first == topic; }));
}

size_t HeldPartitions(const HandlerState& s) {
  std::set<TopicPartitionKey> partitions;
  for (const auto& [id, batch] : s.held) partitions.insert({batch.topic(), batch.partition()});
  return partitions.size();
}

uint64_t MessageBytes(const v1::Message& m) {
  return (m.has_key() ? m.key().size() : 0) + (m.has_value() ? m.value().size() : 0);
}

uint64_t BatchBytes(const v1::Batch& b) {
  uint64_t n = 0;
  for (const v1::Message& m : b.messages()) n += MessageBytes(m);
  return n;
}

// Per handler and partition, offsets seen for the first time must arrive in
// increasing order; returns a description of the first violation.
std::string FirstDeliveryDisorder(const HandlerState& s) {
  for (const auto& [tp, msgs] : s.received) {
    std::set<int64_t> seen;
    int64_t last = -1;
    for (const ReceivedMessage& m : msgs) {
      if (!seen.insert(m.offset).second) continue;
      if (m.offset <= last) {
        return absl::StrCat("partition ", tp.second, ": first sight of ", m.offset,
                            " after ", last);
      }
      last = m.offset;
    }
  }
  return "";
}

class BadInputE2eTest : public E2eTest {
 protected:
  // Polls GetStats until `done(stats)`; the last answer (or error) goes to
  // `last`.
  bool AwaitStats(SidecarProcess* sidecar,
                  const std::function<bool(const v1::GetStatsResponse&)>& done,
                  absl::Duration timeout, std::string* last) {
    return PollUntil(
        [&] {
          absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sidecar->grpc_target());
          if (!stats.ok()) {
            *last = stats.status().ToString();
            return false;
          }
          *last = stats->ShortDebugString();
          return done(*stats);
        },
        timeout);
  }
};

// ---------------------------------------------------------------------------
// 1,000 streams that connect and drop, or misbehave at once, while one good
// handler consumes.

enum class Churn {
  kSubscribeThenCancel,         // Subscribe, Subscribed, then a crash
  kCancelBeforeSubscribe,       // open, send nothing, crash
  kSettleFirst,                 // INVALID_ARGUMENT
  kEmptyFirst,                  // INVALID_ARGUMENT
  kHoldBatchThenCancel,         // Subscribe, hold what comes, crash
  kUnknownTopic,                // INVALID_ARGUMENT
  kSubscribeTwice,              // INVALID_ARGUMENT
  kBogusThenCleanClose,         // Subscribe, bogus Extend/Settle, WritesDone: OK
  kSubscribeAndCancelAtOnce,    // Subscribe and crash without waiting
  kExtendFirst,                 // INVALID_ARGUMENT
};
constexpr int kChurnKinds = 10;

const char* Name(Churn c) {
  switch (c) {
    case Churn::kSubscribeThenCancel: return "subscribe-then-cancel";
    case Churn::kCancelBeforeSubscribe: return "cancel-before-subscribe";
    case Churn::kSettleFirst: return "settle-first";
    case Churn::kEmptyFirst: return "empty-first";
    case Churn::kHoldBatchThenCancel: return "hold-batch-then-cancel";
    case Churn::kUnknownTopic: return "unknown-topic";
    case Churn::kSubscribeTwice: return "subscribe-twice";
    case Churn::kBogusThenCleanClose: return "bogus-then-clean-close";
    case Churn::kSubscribeAndCancelAtOnce: return "subscribe-and-cancel-at-once";
    case Churn::kExtendFirst: return "extend-first";
  }
  return "?";
}

struct ChurnResults {
  std::mutex mu;
  std::map<std::string, int> ran;
  std::map<std::string, int> unexpected;
  std::vector<std::string> examples;

  void Record(Churn kind, const std::string& problem) {
    std::lock_guard<std::mutex> lock(mu);
    ++ran[Name(kind)];
    if (problem.empty()) return;
    ++unexpected[Name(kind)];
    if (examples.size() < 20) examples.push_back(absl::StrCat(Name(kind), ": ", problem));
  }
};

std::string StatusText(const std::optional<grpc::Status>& s) {
  if (!s.has_value()) return "still open";
  return absl::StrCat("code ", s->error_code(), " '", s->error_message(), "'");
}

// One misbehaving stream; returns "" if the sidecar reacted as the contract
// says, else what it did instead.
std::string RunChurnStream(Churn kind, const std::string& target, const std::string& topic,
                           uint64_t bogus_batch_id) {
  const absl::Duration kTimeout = absl::Seconds(30);
  TestHandler h(HoldAll());
  auto expect_invalid = [&]() -> std::string {
    std::optional<grpc::Status> s = h.WaitForFinish(kTimeout);
    if (s.has_value() && s->error_code() == grpc::StatusCode::INVALID_ARGUMENT) return "";
    return absl::StrCat("want INVALID_ARGUMENT, got ", StatusText(s));
  };
  v1::Subscribe subscribe;
  subscribe.set_handler_name(absl::StrCat("churn-", Name(kind)));
  switch (kind) {
    case Churn::kSubscribeThenCancel: {
      absl::StatusOr<v1::Subscribed> sub = h.Connect(target, subscribe, kTimeout);
      if (!sub.ok()) return sub.status().ToString();
      h.Disconnect();
      return "";
    }
    case Churn::kCancelBeforeSubscribe: {
      if (absl::Status s = h.Open(target); !s.ok()) return s.ToString();
      h.Disconnect();
      return "";
    }
    case Churn::kSettleFirst: {
      if (absl::Status s = h.Open(target); !s.ok()) return s.ToString();
      h.Settle(bogus_batch_id, {}, v1::OUTCOME_ACK);  // the sidecar may already have closed
      return expect_invalid();
    }
    case Churn::kEmptyFirst: {
      if (absl::Status s = h.Open(target); !s.ok()) return s.ToString();
      h.Send(v1::ConsumeRequest());
      return expect_invalid();
    }
    case Churn::kHoldBatchThenCancel: {
      absl::StatusOr<v1::Subscribed> sub = h.Connect(target, subscribe, kTimeout);
      if (!sub.ok()) return sub.status().ToString();
      // A batch comes only if a partition was bound to this stream; either
      // way it ends by a crash, holding whatever it got.
      h.WaitFor([](const HandlerState& s) { return s.batches_received > 0; },
                absl::Milliseconds(300));
      h.Disconnect();
      return "";
    }
    case Churn::kUnknownTopic: {
      subscribe.add_topics(topic);
      subscribe.add_topics(absl::StrCat(topic, "-no-such-topic"));
      absl::StatusOr<v1::Subscribed> sub = h.Connect(target, subscribe, kTimeout);
      if (sub.ok()) return "Subscribe naming an unknown topic was accepted";
      if (sub.status().code() != absl::StatusCode::kInvalidArgument) {
        return absl::StrCat("want INVALID_ARGUMENT, got ", sub.status().ToString());
      }
      return "";
    }
    case Churn::kSubscribeTwice: {
      absl::StatusOr<v1::Subscribed> sub = h.Connect(target, subscribe, kTimeout);
      if (!sub.ok()) return sub.status().ToString();
      v1::ConsumeRequest again;
      *again.mutable_subscribe() = subscribe;
      h.Send(again);
      return expect_invalid();
    }
    case Churn::kBogusThenCleanClose: {
      absl::StatusOr<v1::Subscribed> sub = h.Connect(target, subscribe, kTimeout);
      if (!sub.ok()) return sub.status().ToString();
      v1::ConsumeRequest extend;
      extend.mutable_extend()->add_batch_ids(bogus_batch_id);
      extend.mutable_extend()->set_extend_ms(1000);
      h.Send(extend);
      h.Settle(bogus_batch_id, {-1}, v1::OUTCOME_REJECT);
      grpc::Status closed = h.Close(kTimeout);
      if (!closed.ok()) return absl::StrCat("clean close ended with ", StatusText(closed));
      return "";
    }
    case Churn::kSubscribeAndCancelAtOnce: {
      if (absl::Status s = h.Open(target); !s.ok()) return s.ToString();
      v1::ConsumeRequest request;
      *request.mutable_subscribe() = subscribe;
      h.Send(request);
      h.Disconnect();
      return "";
    }
    case Churn::kExtendFirst: {
      if (absl::Status s = h.Open(target); !s.ok()) return s.ToString();
      v1::ConsumeRequest extend;
      extend.mutable_extend()->add_batch_ids(bogus_batch_id);
      h.Send(extend);
      return expect_invalid();
    }
  }
  return "unknown kind";
}

TEST_F(BadInputE2eTest, ThousandChurningStreamsDoNotDisturbAGoodHandler) {
  constexpr int kPartitions = 6;
  constexpr int64_t kMessages = 20000;
  constexpr int kStreams = 1000;
  constexpr int kWave = 50;
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(Sum(*end), kMessages) << Format(*end);
  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}));
  ASSERT_NE(sidecar, nullptr);

  // Paced, so that the churn happens while the good handler still has work.
  auto pacer = std::make_shared<Pacer>(800);
  TestHandler good(PacedAck(pacer));
  v1::Subscribe subscribe;
  subscribe.set_handler_name("good");
  absl::StatusOr<v1::Subscribed> subscribed =
      good.Connect(sidecar->grpc_target(), subscribe, absl::Seconds(60));
  ASSERT_TRUE(subscribed.ok()) << subscribed.status();
  ASSERT_TRUE(good.WaitFor([](const HandlerState& s) { return s.acked_count > 0; },
                           absl::Seconds(60)))
      << "the good handler got nothing";

  ChurnResults results;
  const absl::Time churn_start = absl::Now();
  // An id no dispatcher issued (sequence far beyond anything this test
  // reaches, dispatcher 0).
  const uint64_t bogus_batch_id = uint64_t{1} << 50;
  for (int wave = 0; wave < kStreams / kWave; ++wave) {
    std::vector<std::thread> threads;
    for (int i = 0; i < kWave; ++i) {
      const Churn kind = static_cast<Churn>((wave * kWave + i) % kChurnKinds);
      threads.emplace_back([&, kind] {
        results.Record(kind, RunChurnStream(kind, sidecar->grpc_target(), topic,
                                            bogus_batch_id));
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_TRUE(sidecar->Running()) << "the sidecar died during churn wave " << wave;
  }
  const absl::Duration churn_time = absl::Now() - churn_start;
  const uint64_t good_acked_during_churn = good.Snapshot().acked_count;
  std::cout << "[ INFO     ] " << kStreams << " churning streams in "
            << absl::FormatDuration(churn_time) << "; the good handler acked "
            << good_acked_during_churn << " of " << kMessages << " meanwhile" << std::endl;
  pacer->SetRate(0);

  int ran = 0;
  for (const auto& [kind, n] : results.ran) ran += n;
  EXPECT_EQ(ran, kStreams);
  EXPECT_TRUE(results.unexpected.empty())
      << "streams the sidecar did not treat as the contract says:\n  "
      << absl::StrJoin(results.examples, "\n  ");
  EXPECT_LT(good_acked_during_churn, static_cast<uint64_t>(kMessages))
      << "the good handler was done before the churn ended: the churn overlapped nothing";

  ASSERT_TRUE(good.WaitFor(
      [](const HandlerState& s) {
        return s.acked_count >= static_cast<uint64_t>(kMessages) || s.stream_done;
      },
      absl::Minutes(3)))
      << "the good handler acked " << good.Snapshot().acked_count << " of " << kMessages;
  const HandlerState s = good.Snapshot();
  ASSERT_FALSE(s.stream_done) << "the good stream ended: " << StatusText(s.finish_status);
  EXPECT_EQ(s.acked_count, static_cast<uint64_t>(kMessages));
  EXPECT_EQ(FirstDeliveryDisorder(s), "");
  EXPECT_EQ(CountForTopic(s.assigned, topic), static_cast<size_t>(kPartitions))
      << "the good stream does not hold every partition once the churn is over";

  absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(2));
  EXPECT_TRUE(committed.ok()) << committed;

  EXPECT_TRUE(sidecar->Running());
  std::string last;
  const bool settled = AwaitStats(
      sidecar, [](const v1::GetStatsResponse& st) { return st.messages_in_flight() == 0; },
      absl::Seconds(30), &last);
  EXPECT_TRUE(settled) << "messages still in flight with every message acked: " << last;
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sidecar->grpc_target());
  ASSERT_TRUE(stats.ok()) << stats.status();
  // Dead streams must not linger in the stats (if the sidecar lists streams).
  EXPECT_LE(stats->streams_size(), 1) << stats->ShortDebugString();
  std::cout << "[ INFO     ] good handler: received " << s.received_count << ", acked "
            << s.acked_count << " (" << s.received_count - s.distinct_count
            << " redeliveries); stats: delivered " << stats->messages_delivered()
            << ", processed " << stats->messages_processed() << ", stale "
            << stats->stale_settlements() << ", rebalances " << stats->rebalances()
            << std::endl;
  EXPECT_GE(stats->messages_processed(), static_cast<uint64_t>(kMessages));

  good.Close();
  absl::StatusOr<int> exit_code = sidecar->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

// ---------------------------------------------------------------------------
// A message larger than the stream's byte window.

// Holds every batch and checks, as each arrives, that what the handler holds
// unsettled fits the byte window, except a single oversized message alone.
// The test releases (acks) held batches itself, subtracting them here before
// the acks are sent, so the sidecar can never see room this count does not.
class WindowChecker {
 public:
  explicit WindowChecker(uint64_t window) : window_(window) {}

  SettlePolicy Policy() {
    return [this](const v1::Batch& batch) {
      const uint64_t bytes = BatchBytes(batch);
      std::lock_guard<std::mutex> lock(mu_);
      bool oversized = false;
      for (const v1::Message& m : batch.messages()) {
        if (MessageBytes(m) > window_) oversized = true;
      }
      if (oversized) {
        if (!held_.empty() || batch.messages_size() != 1) {
          Violation(absl::StrCat("batch ", batch.batch_id(), " (p", batch.partition(), ", ",
                                 batch.messages_size(), " messages, ", bytes,
                                 " bytes) carries an oversized message but is not alone: ",
                                 held_.size(), " batches / ", held_bytes_,
                                 " bytes already unsettled"));
        } else {
          ++oversized_alone_;
        }
      } else if (held_bytes_ + bytes > window_) {
        Violation(absl::StrCat("batch ", batch.batch_id(), " (p", batch.partition(), ", ",
                               bytes, " bytes) arrived with ", held_bytes_, " bytes in ",
                               held_.size(), " batches unsettled: ", held_bytes_ + bytes,
                               " > window ", window_));
      }
      Held h;
      h.bytes = bytes;
      h.tp = {batch.topic(), batch.partition()};
      for (const v1::Message& m : batch.messages()) h.offsets.push_back(m.offset());
      held_.emplace(batch.batch_id(), std::move(h));
      held_bytes_ += bytes;
      max_held_batches_ = std::max(max_held_batches_, held_.size());
      if (!oversized) max_held_bytes_ = std::max(max_held_bytes_, held_bytes_);
      return SettleAction::kHold;
    };
  }

  struct Held {
    uint64_t bytes = 0;
    TopicPartitionKey tp;
    std::vector<int64_t> offsets;
  };

  // Takes every held batch out of the count; the caller acks them.
  std::map<uint64_t, Held> TakeAll() {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<uint64_t, Held> out;
    out.swap(held_);
    held_bytes_ = 0;
    return out;
  }

  uint64_t held_bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return held_bytes_;
  }
  bool holds_oversized() const {
    std::lock_guard<std::mutex> lock(mu_);
    return held_bytes_ > window_;
  }
  std::vector<std::string> violations() const {
    std::lock_guard<std::mutex> lock(mu_);
    return violations_;
  }
  int oversized_alone() const {
    std::lock_guard<std::mutex> lock(mu_);
    return oversized_alone_;
  }
  size_t max_held_batches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_held_batches_;
  }
  uint64_t max_held_bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_held_bytes_;
  }

 private:
  void Violation(std::string what) {
    if (violations_.size() < 20) violations_.push_back(std::move(what));
  }

  const uint64_t window_;
  mutable std::mutex mu_;
  std::map<uint64_t, Held> held_;
  uint64_t held_bytes_ = 0;
  size_t max_held_batches_ = 0;
  uint64_t max_held_bytes_ = 0;
  int oversized_alone_ = 0;
  std::vector<std::string> violations_;
};

TEST_F(BadInputE2eTest, MessageLargerThanTheByteWindowIsDeliveredAlone) {
  constexpr int kPartitions = 3;
  constexpr uint64_t kWindowBytes = 1000;
  constexpr size_t kSmall = 100;
  constexpr size_t kLarge = 5000;
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> none = PrepareTopic(topic, kPartitions, 0);
  ASSERT_TRUE(none.ok()) << none.status();

  // Runs of small messages with one large message per partition between
  // them; message i goes to partition i % 3, so every partition gets each
  // kind, and offset o of partition p is message o * 3 + p.
  const std::vector<std::pair<int64_t, size_t>> runs = {
      {30, kSmall}, {3, kLarge}, {30, kSmall}, {3, kLarge}, {3, kLarge},
      {30, kSmall}, {3, kLarge}, {12, kSmall}};
  std::map<int64_t, size_t> value_size;  // message index -> value size
  int64_t index = 0;
  for (const auto& [count, size] : runs) {
    ProduceOptions produce;
    produce.first_index = index;
    produce.value_size = size;
    absl::Status produced =
        ProduceMessages(broker_->bootstrap(), topic, kPartitions, count, produce);
    ASSERT_TRUE(produced.ok()) << produced;
    for (int64_t i = 0; i < count; ++i) value_size[index + i] = size;
    index += count;
  }
  const int64_t total = index;
  absl::StatusOr<Offsets> end = broker_->EndOffsets(topic);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(Sum(*end), total) << Format(*end);

  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}));
  ASSERT_NE(sidecar, nullptr);
  WindowChecker checker(kWindowBytes);
  TestHandler handler(checker.Policy());
  v1::Subscribe subscribe;
  subscribe.set_handler_name("small-window");
  subscribe.set_max_in_flight_bytes(kWindowBytes);
  absl::StatusOr<v1::Subscribed> subscribed =
      handler.Connect(sidecar->grpc_target(), subscribe, absl::Seconds(60));
  ASSERT_TRUE(subscribed.ok()) << subscribed.status();
  EXPECT_EQ(subscribed->max_in_flight_bytes(), kWindowBytes);

  // Hold what comes until the window is as full as it gets (no further
  // small message could fit, an oversized one is held, or nothing new came
  // for a moment), then ack all of it. The idle wait only decides when to
  // release; the window is checked at every arrival.
  std::map<TopicPartitionKey, std::set<int64_t>> acked;
  uint64_t acked_count = 0;
  int rounds = 0;
  const absl::Time deadline = absl::Now() + absl::Minutes(3);
  const uint64_t small_bytes = kSmall + 8;  // value plus the longest key here
  while (acked_count < static_cast<uint64_t>(total) && absl::Now() < deadline) {
    const uint64_t seen = handler.Snapshot().batches_received;
    const bool more = handler.WaitFor(
        [seen](const HandlerState& s) { return s.batches_received > seen || s.stream_done; },
        absl::Milliseconds(300));
    ASSERT_FALSE(handler.Snapshot().stream_done)
        << "stream ended: " << StatusText(handler.finish_status());
    if (more && checker.held_bytes() + small_bytes <= kWindowBytes &&
        !checker.holds_oversized()) {
      continue;  // room left: more may come
    }
    std::map<uint64_t, WindowChecker::Held> held = checker.TakeAll();
    if (held.empty()) continue;
    ++rounds;
    for (const auto& [id, h] : held) {
      ASSERT_TRUE(handler.Settle(id, {}, v1::OUTCOME_ACK)) << "stream closed";
      for (int64_t o : h.offsets) {
        if (acked[h.tp].insert(o).second) ++acked_count;
      }
    }
  }
  ASSERT_EQ(acked_count, static_cast<uint64_t>(total))
      << "acked " << acked_count << " of " << total << " in " << rounds << " rounds";

  const HandlerState s = handler.Snapshot();
  EXPECT_EQ(s.received_count, static_cast<uint64_t>(total)) << "redeliveries without faults";
  int large_seen = 0;
  for (const auto& [tp, msgs] : s.received) {
    for (const ReceivedMessage& m : msgs) {
      const int64_t i = m.offset * kPartitions + tp.second;
      EXPECT_EQ(m.key, KeyFor(i)) << "p" << tp.second << " offset " << m.offset;
      if (value_size[i] == kLarge) ++large_seen;
    }
  }
  const std::vector<std::string> violations = checker.violations();
  EXPECT_TRUE(violations.empty()) << "byte window exceeded:\n  "
                                  << absl::StrJoin(violations, "\n  ");
  EXPECT_EQ(checker.oversized_alone(), large_seen);
  EXPECT_EQ(large_seen, 12);
  EXPECT_GE(checker.max_held_batches(), 2u)
      << "never more than one batch in flight: the window was not exercised";
  std::cout << "[ INFO     ] " << total << " messages (" << large_seen << " of " << kLarge
            << " bytes) in " << rounds << " release rounds; at most "
            << checker.max_held_batches() << " batches / " << checker.max_held_bytes()
            << " bytes unsettled besides the " << checker.oversized_alone()
            << " oversized ones sent alone" << std::endl;

  absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1));
  EXPECT_TRUE(committed.ok()) << committed;
  handler.Close();
  absl::StatusOr<int> exit_code = sidecar->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

// ---------------------------------------------------------------------------
// Nonsense settlements.

// ACKs the first `k` batches of each partition, then holds every later one.
SettlePolicy AckFirstKPerPartitionThenHold(int k) {
  // Called on the handler's reader thread only.
  auto counts = std::make_shared<std::map<TopicPartitionKey, int>>();
  return [k, counts](const v1::Batch& b) {
    return (*counts)[{b.topic(), b.partition()}]++ < k ? SettleAction::kAck
                                                       : SettleAction::kHold;
  };
}

TEST_F(BadInputE2eTest, NonsenseSettlementsAreCountedAndNeverMoveACommit) {
  constexpr int kPartitions = 4;
  constexpr int64_t kMessages = 4000;
  constexpr int kAckedBatches = 3;
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> none = PrepareTopic(topic, kPartitions, 0);
  ASSERT_TRUE(none.ok()) << none.status();
  // Batches stay held across several slow reads of Kafka's committed
  // offsets; no ack deadline may expire them meanwhile (this test is about
  // settlements, not timeouts).
  SidecarProcess* sidecar =
      StartSidecar(Options(group, {topic}, {{"processing.ack_timeout_ms", "600000"}}));
  ASSERT_NE(sidecar, nullptr);
  const std::string target = sidecar->grpc_target();

  // Two streams share the partitions before any record exists, so no
  // partition has to move while batches are held.
  TestHandler h1(AckFirstKPerPartitionThenHold(kAckedBatches));
  TestHandler h2(AckFirstKPerPartitionThenHold(kAckedBatches));
  ASSERT_TRUE(h1.Connect(target).ok());
  ASSERT_TRUE(h2.Connect(target).ok());
  ASSERT_TRUE(PollUntil(
      [&] {
        const size_t a = CountForTopic(h1.Snapshot().assigned, topic);
        const size_t b = CountForTopic(h2.Snapshot().assigned, topic);
        return a > 0 && b > 0 && a + b == static_cast<size_t>(kPartitions);
      },
      absl::Seconds(60)))
      << "partitions bound: h1 " << CountForTopic(h1.Snapshot().assigned, topic) << ", h2 "
      << CountForTopic(h2.Snapshot().assigned, topic);
  ASSERT_TRUE(ProduceMessages(broker_->bootstrap(), topic, kPartitions, kMessages).ok());
  absl::StatusOr<Offsets> end = broker_->EndOffsets(topic);
  ASSERT_TRUE(end.ok()) << end.status();

  // Every partition: K batches acked, then one held.
  for (TestHandler* h : {&h1, &h2}) {
    ASSERT_TRUE(h->WaitFor(
        [&](const HandlerState& s) {
          return !s.assigned.empty() && HeldPartitions(s) == s.assigned.size();
        },
        absl::Seconds(60)))
        << "a handler holds batches of " << HeldPartitions(h->Snapshot()) << " of its "
        << h->Snapshot().assigned.size() << " partitions";
  }
  HandlerState s1 = h1.Snapshot();
  HandlerState s2 = h2.Snapshot();
  std::map<int32_t, int64_t> lowest_held;  // partition -> first held offset
  uint64_t held_messages = 0;
  uint64_t max_batch_id = 0;
  for (const HandlerState* s : {&s1, &s2}) {
    for (const auto& [id, b] : s->held) {
      const int64_t first = b.messages(0).offset();
      auto [it, inserted] = lowest_held.emplace(b.partition(), first);
      if (!inserted) it->second = std::min(it->second, first);
      held_messages += b.messages_size();
    }
    for (uint64_t id : s->batch_ids) max_batch_id = std::max(max_batch_id, id);
  }
  ASSERT_EQ(lowest_held.size(), static_cast<size_t>(kPartitions));
  std::cout << "[ INFO     ] held: " << Format(lowest_held) << " (" << held_messages
            << " messages)" << std::endl;

  // Committed offsets never pass what was really acked; here, with every
  // earlier batch acked, they reach the lowest held offset exactly.
  std::string committed_problem;
  auto check_committed = [&](bool want_equal) {
    absl::StatusOr<Offsets> committed = broker_->CommittedOffsets(group, topic);
    if (!committed.ok()) {
      committed_problem = committed.status().ToString();
      return false;
    }
    bool equal = true;
    for (const auto& [p, low] : lowest_held) {
      auto it = committed->find(p);
      const int64_t c = it == committed->end() ? 0 : it->second;
      EXPECT_LE(c, low) << "partition " << p << " committed " << c
                        << " beyond its lowest unsettled offset " << low;
      if (c != low) equal = false;
    }
    committed_problem = absl::StrCat("committed ", Format(*committed),
                                     ", lowest held ", Format(lowest_held));
    return !want_equal || equal;
  };
  ASSERT_TRUE(PollUntil([&] { return check_committed(true); }, absl::Seconds(60)))
      << committed_problem;

  absl::StatusOr<v1::GetStatsResponse> before = GetStats(target);
  ASSERT_TRUE(before.ok()) << before.status();

  // h1's held batch of one partition, one of its acked batches, h2's held
  // batch: the ids the bogus settlements twist.
  const v1::Batch held1 = s1.held.begin()->second;
  const v1::Batch held2 = s2.held.begin()->second;
  uint64_t acked1 = 0;
  for (uint64_t id : s1.batch_ids) {
    if (!s1.held.count(id)) {
      acked1 = id;
      break;
    }
  }
  ASSERT_NE(acked1, 0u);
  const int64_t held1_first = held1.messages(0).offset();
  const int64_t held1_last = held1.messages(held1.messages_size() - 1).offset();
  ASSERT_GT(held1_first, 0) << "no acked offset before the held batch";
  // Never issued: far beyond any sequence used, routed to dispatcher 0, to
  // dispatcher 1 and to a dispatcher index that does not exist.
  const uint64_t never = ((max_batch_id >> 10) + 1000000) << 10;

  struct Bogus {
    TestHandler* from;
    uint64_t batch_id;
    std::vector<int64_t> offsets;  // at most one: stale counting per
                                   // settlement or per offset agree
    int outcome;
    bool own_request;  // a Settle request of its own, else packed with others
    std::string what;
  };
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const std::vector<Bogus> bogus = {
      {&h1, held1.batch_id(), {held1_last + 1}, v1::OUTCOME_ACK, false, "offset after the batch"},
      {&h1, held1.batch_id(), {held1_first - 1}, v1::OUTCOME_ACK, false,
       "offset of an acked batch"},
      {&h1, held1.batch_id(), {-1}, v1::OUTCOME_ACK, false, "offset -1"},
      {&h1, held1.batch_id(), {kMax}, v1::OUTCOME_ACK, false, "offset INT64_MAX"},
      {&h1, held1.batch_id(), {kMin}, v1::OUTCOME_REJECT, false, "offset INT64_MIN"},
      {&h1, held1.batch_id(), {-5}, v1::OUTCOME_RETRY, false, "offset -5"},
      {&h1, held1.batch_id(), {}, v1::OUTCOME_UNSPECIFIED, false, "UNSPECIFIED, whole batch"},
      {&h1, held1.batch_id(), {held1_first}, v1::OUTCOME_UNSPECIFIED, false,
       "UNSPECIFIED, one offset"},
      {&h1, never, {}, v1::OUTCOME_ACK, true, "never issued (dispatcher 0)"},
      {&h1, never | 1, {}, v1::OUTCOME_RETRY, true, "never issued (dispatcher 1)"},
      {&h1, never | 1023, {3}, v1::OUTCOME_REJECT, true, "never issued (no such dispatcher)"},
      {&h1, std::numeric_limits<uint64_t>::max(), {}, v1::OUTCOME_ACK, true, "UINT64_MAX"},
      {&h1, held2.batch_id(), {}, v1::OUTCOME_ACK, true, "another stream's batch"},
      {&h1, held2.batch_id(), {held2.messages(0).offset()}, v1::OUTCOME_REJECT, true,
       "another stream's batch, by offset"},
      {&h2, held1.batch_id(), {}, v1::OUTCOME_RETRY, true, "another stream's batch, RETRY"},
      {&h1, acked1, {}, v1::OUTCOME_ACK, true, "an acked batch, again"},
      {&h1, acked1, {}, v1::OUTCOME_RETRY, true, "an acked batch, RETRY"},
  };
  {
    v1::ConsumeRequest packed;
    for (const Bogus& b : bogus) {
      if (b.own_request) continue;
      v1::Settlement* st = packed.mutable_settle()->add_settlements();
      st->set_batch_id(b.batch_id);
      for (int64_t o : b.offsets) st->add_offsets(o);
      st->set_outcome(static_cast<v1::Outcome>(b.outcome));
      st->set_reason(absl::StrCat("e2e bogus: ", b.what));
    }
    ASSERT_TRUE(h1.Send(packed));
    for (const Bogus& b : bogus) {
      if (!b.own_request) continue;
      ASSERT_TRUE(b.from->Settle(b.batch_id, b.offsets, static_cast<v1::Outcome>(b.outcome)))
          << b.what;
    }
  }
  const uint64_t want_stale = before->stale_settlements() + bogus.size();
  std::string last;
  EXPECT_TRUE(AwaitStats(
      sidecar, [&](const v1::GetStatsResponse& st) { return st.stale_settlements() >= want_stale; },
      absl::Seconds(30), &last))
      << "stale_settlements did not grow by " << bogus.size() << ": " << last;

  // Ignored means: nothing settled, nothing failed or retried, both
  // streams alive, commits where they were.
  absl::StatusOr<v1::GetStatsResponse> after = GetStats(target);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->stale_settlements(), want_stale)
      << bogus.size() << " bogus settlements, each naming at most one offset";
  EXPECT_EQ(after->messages_in_flight(), held_messages);
  EXPECT_EQ(after->messages_processed(), before->messages_processed());
  EXPECT_EQ(after->messages_failed(), before->messages_failed());
  EXPECT_EQ(after->messages_retried(), before->messages_retried());
  EXPECT_FALSE(h1.Snapshot().stream_done) << StatusText(h1.finish_status());
  EXPECT_FALSE(h2.Snapshot().stream_done) << StatusText(h2.finish_status());
  EXPECT_TRUE(check_committed(true)) << committed_problem;
  EXPECT_TRUE(check_committed(true)) << committed_problem;  // a later commit round
  EXPECT_EQ(h1.Snapshot().batches_received, s1.batches_received)
      << "a bogus RETRY caused a redelivery";

  // Duplicate settlements of the same batch: the second of each is stale.
  {
    absl::StatusOr<v1::GetStatsResponse> b0 = GetStats(target);
    ASSERT_TRUE(b0.ok());
    ASSERT_TRUE(h1.Settle(held1.batch_id(), {held1_first}, v1::OUTCOME_ACK));
    ASSERT_TRUE(h1.Settle(held1.batch_id(), {held1_first}, v1::OUTCOME_ACK));
    ASSERT_TRUE(h1.Settle(held1.batch_id(), {}, v1::OUTCOME_ACK));
    ASSERT_TRUE(h1.Settle(held1.batch_id(), {}, v1::OUTCOME_ACK));
    const uint64_t want_processed = b0->messages_processed() + held1.messages_size();
    EXPECT_TRUE(AwaitStats(
        sidecar,
        [&](const v1::GetStatsResponse& st) {
          return st.messages_processed() >= want_processed &&
                 st.stale_settlements() >= b0->stale_settlements() + 2;
        },
        absl::Seconds(30), &last))
        << last;
    absl::StatusOr<v1::GetStatsResponse> b1 = GetStats(target);
    ASSERT_TRUE(b1.ok());
    EXPECT_EQ(b1->stale_settlements(), b0->stale_settlements() + 2)
        << "an offset acked twice, then a batch acked twice";
    EXPECT_EQ(b1->messages_processed(), want_processed);
    // The partition of held1 moves on to its next batch, which h1 holds.
    const TopicPartitionKey tp1{held1.topic(), held1.partition()};
    ASSERT_TRUE(h1.WaitFor(
        [&](const HandlerState& s) {
          for (const auto& [id, b] : s.held) {
            if (id != held1.batch_id() && b.partition() == tp1.second) return true;
          }
          return false;
        },
        absl::Seconds(30)))
        << "no batch after the one acked by hand";
    lowest_held[held1.partition()] = held1_last + 1;
    EXPECT_TRUE(PollUntil([&] { return check_committed(true); }, absl::Seconds(30)))
        << committed_problem;
  }

  // A batch of a stream that died: its messages are redelivered under new
  // ids, so the old id is stale, also to the stream that gets them now. An
  // out-of-range outcome from the dying stream first: it must not settle.
  {
    absl::StatusOr<v1::GetStatsResponse> b0 = GetStats(target);
    ASSERT_TRUE(b0.ok());
    h2.Settle(held2.batch_id(), {}, static_cast<v1::Outcome>(99));
    h2.Settle(held2.batch_id(), {}, v1::OUTCOME_UNSPECIFIED);
    std::string odd_outcome;
    AwaitStats(
        sidecar,
        [&](const v1::GetStatsResponse& st) {
          return st.stale_settlements() >= b0->stale_settlements() + 2;
        },
        absl::Seconds(10), &odd_outcome);
    absl::StatusOr<v1::GetStatsResponse> b1 = GetStats(target);
    ASSERT_TRUE(b1.ok());
    EXPECT_EQ(b1->messages_processed(), b0->messages_processed()) << "outcome 99 settled";
    EXPECT_EQ(b1->messages_failed(), b0->messages_failed()) << "outcome 99 failed messages";
    EXPECT_EQ(b1->messages_retried(), b0->messages_retried()) << "outcome 99 retried messages";
    std::cout << "[ INFO     ] outcome 99 + UNSPECIFIED: stale_settlements +"
              << b1->stale_settlements() - b0->stale_settlements() << ", stream "
              << StatusText(h2.finish_status()) << std::endl;

    h2.Disconnect();
    // h1 gets h2's partitions and, first, the held batch again.
    const int64_t redelivered = held2.messages(0).offset();
    const TopicPartitionKey tp2{held2.topic(), held2.partition()};
    ASSERT_TRUE(h1.WaitFor(
        [&](const HandlerState& s) {
          auto it = s.distinct.find(tp2);
          return it != s.distinct.end() && it->second.count(redelivered) > 0;
        },
        absl::Seconds(60)))
        << "h2's held batch never came to h1";
    absl::StatusOr<v1::GetStatsResponse> b2 = GetStats(target);
    ASSERT_TRUE(b2.ok());
    ASSERT_TRUE(h1.Settle(held2.batch_id(), {}, v1::OUTCOME_ACK));
    EXPECT_TRUE(AwaitStats(
        sidecar,
        [&](const v1::GetStatsResponse& st) {
          return st.stale_settlements() >= b2->stale_settlements() + 1;
        },
        absl::Seconds(30), &last))
        << "the dead stream's batch id was not counted stale: " << last;
    absl::StatusOr<v1::GetStatsResponse> b3 = GetStats(target);
    ASSERT_TRUE(b3.ok());
    EXPECT_EQ(b3->stale_settlements(), b2->stale_settlements() + 1);
  }

  // Now settle everything for real: the commits reach the log end, every
  // message was processed exactly once, none failed or retried.
  h1.SetPolicy(AckAll());
  const HandlerState h2_final = h2.Snapshot();
  auto all_acked = [&](const HandlerState& s) {
        uint64_t n = 0;
        for (int32_t p = 0; p < kPartitions; ++p) {
          const TopicPartitionKey tp{topic, p};
          std::set<int64_t> all;
          if (auto it = s.acked.find(tp); it != s.acked.end()) all = it->second;
          if (auto it = h2_final.acked.find(tp); it != h2_final.acked.end()) {
            all.insert(it->second.begin(), it->second.end());
          }
          if (p == held1.partition()) {
            for (const v1::Message& m : held1.messages()) all.insert(m.offset());
          }
          n += all.size();
        }
        return n >= static_cast<uint64_t>(kMessages);
  };
  // A batch the old policy held while the new one was being set would stay
  // held: release until everything is acked. ReleaseHeld also re-acks the
  // batch acked by hand above (one more stale settlement).
  const absl::Time release_deadline = absl::Now() + absl::Minutes(2);
  bool everything_acked = false;
  while (!everything_acked) {
    h1.ReleaseHeld();
    if (!h1.WaitFor([&](const HandlerState& s) { return all_acked(s) || !s.held.empty(); },
                    release_deadline - absl::Now())) {
      break;
    }
    everything_acked = h1.WaitFor(all_acked, absl::ZeroDuration());
  }
  ASSERT_TRUE(everything_acked) << "not every message was acked";
  absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1));
  EXPECT_TRUE(committed.ok()) << committed;
  absl::StatusOr<v1::GetStatsResponse> final_stats = GetStats(target);
  ASSERT_TRUE(final_stats.ok());
  EXPECT_EQ(final_stats->messages_processed(), static_cast<uint64_t>(kMessages));
  EXPECT_EQ(final_stats->messages_failed(), 0u);
  EXPECT_EQ(final_stats->messages_retried(), 0u);
  const HandlerState f1 = h1.Snapshot();
  EXPECT_EQ(f1.received_count, f1.distinct_count) << "h1 got a message twice";
  std::cout << "[ INFO     ] final stats: " << final_stats->ShortDebugString().substr(0, 600)
            << std::endl;

  h1.Close();
  absl::StatusOr<int> exit_code = sidecar->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

// ---------------------------------------------------------------------------
// Names are bounded before anything looks at them. A 1 MB topic name or
// handler name gets a short INVALID_ARGUMENT (echoed whole, the status would
// be too large to deliver, and the client would see RESOURCE_EXHAUSTED or
// INTERNAL instead), is not logged whole, and never reaches GetStats.

// Part of the hostile-peer suite (ctest -R Hostile).
class HostileInputE2eTest : public BadInputE2eTest {};

TEST_F(HostileInputE2eTest, MegabyteNamesGetAShortInvalidArgumentAndGoNowhere) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> none = PrepareTopic(topic, 2, 0);
  ASSERT_TRUE(none.ok()) << none.status();
  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}));
  ASSERT_NE(sidecar, nullptr);
  const std::string target = sidecar->grpc_target();
  const std::string huge_topic(1 << 20, 't');
  const std::string huge_name(1 << 20, 'h');
  // Far more of either than any message or log line may quote.
  const std::string topic_run(300, 't');
  const std::string name_run(300, 'h');
  constexpr size_t kShort = 1024;
  auto head = [](const absl::Status& s) { return s.ToString().substr(0, 300); };

  {
    TestHandler h(HoldAll());
    v1::Subscribe subscribe;
    subscribe.set_handler_name("huge-topic");
    subscribe.add_topics(topic);
    subscribe.add_topics(huge_topic);
    absl::StatusOr<v1::Subscribed> sub = h.Connect(target, subscribe, absl::Seconds(30));
    ASSERT_FALSE(sub.ok()) << "a 1 MB topic name was accepted";
    EXPECT_EQ(sub.status().code(), absl::StatusCode::kInvalidArgument) << head(sub.status());
    EXPECT_LT(sub.status().message().size(), kShort) << head(sub.status());
    EXPECT_TRUE(absl::StrContains(sub.status().message(), "Subscribe.topics[1]"))
        << head(sub.status());
  }
  {
    TestHandler h(HoldAll());
    v1::Subscribe subscribe;
    subscribe.set_handler_name(huge_name);
    absl::StatusOr<v1::Subscribed> sub = h.Connect(target, subscribe, absl::Seconds(30));
    ASSERT_FALSE(sub.ok()) << "a 1 MB handler name was accepted";
    EXPECT_EQ(sub.status().code(), absl::StatusCode::kInvalidArgument) << head(sub.status());
    EXPECT_LT(sub.status().message().size(), kShort) << head(sub.status());
    EXPECT_TRUE(absl::StrContains(sub.status().message(), "Subscribe.handler_name"))
        << head(sub.status());
  }
  absl::StatusOr<std::vector<TopicPartitionKey>> paused =
      SetPartitionsPaused(target, {{huge_topic, 0}}, true);
  ASSERT_FALSE(paused.ok()) << "PausePartitions took a 1 MB topic name";
  EXPECT_EQ(paused.status().code(), absl::StatusCode::kInvalidArgument) << head(paused.status());
  EXPECT_LT(paused.status().message().size(), kShort) << head(paused.status());

  // The sidecar lives on and serves a good handler; GetStats lists it alone.
  TestHandler good(AckAll());
  v1::Subscribe subscribe;
  subscribe.set_handler_name("good");
  absl::StatusOr<v1::Subscribed> sub = good.Connect(target, subscribe, absl::Seconds(30));
  ASSERT_TRUE(sub.ok()) << sub.status();
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(target);
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->streams_size(), 1) << stats->ShortDebugString().substr(0, 2000);
  EXPECT_EQ(stats->streams(0).handler_name(), "good");
  const std::string everything = stats->SerializeAsString();
  EXPECT_FALSE(absl::StrContains(everything, name_run)) << "the handler name reached GetStats";
  EXPECT_FALSE(absl::StrContains(everything, topic_run)) << "the topic name reached GetStats";

  EXPECT_TRUE(sidecar->Running());
  EXPECT_FALSE(absl::StrContains(sidecar->log(), name_run)) << "a log line quotes the name whole";
  EXPECT_FALSE(absl::StrContains(sidecar->log(), topic_run)) << "a log line quotes the topic whole";

  good.Close();
  absl::StatusOr<int> exit_code = sidecar->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

// An Extend of 4,294,967,295 ms (49 days, the largest uint32) used to park
// a batch, and its partition's commit, for that long. It is cut to
// processing.max_extension_ms: the batch times out and comes again.
TEST_F(HostileInputE2eTest, FortyNineDayExtendIsCutToTheMaximumExtension) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, 1, 5);
  ASSERT_TRUE(end.ok()) << end.status();
  SidecarProcess* sidecar = StartSidecar(Options(
      group, {topic},
      {{"processing.ack_timeout_ms", "1000"}, {"processing.max_extension_ms", "2000"}}));
  ASSERT_NE(sidecar, nullptr);
  TestHandler handler(HoldAll());
  ASSERT_TRUE(handler.Connect(sidecar->grpc_target()).ok());
  ASSERT_TRUE(handler.WaitFor([](const HandlerState& s) { return !s.held.empty(); },
                              absl::Seconds(30)));
  const v1::Batch batch = handler.Snapshot().held.begin()->second;
  v1::ConsumeRequest extend;
  extend.mutable_extend()->add_batch_ids(batch.batch_id());
  extend.mutable_extend()->set_extend_ms(4294967295u);
  ASSERT_TRUE(handler.Send(extend));
  const absl::Time sent = absl::Now();

  // Redelivered once the 2 s cap runs out; never before the ack timeout.
  const int64_t first = batch.messages(0).offset();
  ASSERT_TRUE(handler.WaitFor(
      [&](const HandlerState& s) {
        auto it = s.received.find({topic, 0});
        if (it == s.received.end()) return false;
        for (const ReceivedMessage& m : it->second) {
          if (m.offset == first && m.delivery_attempt == 2) return true;
        }
        return false;
      },
      absl::Seconds(20)))
      << "the 49-day Extend held the batch";
  EXPECT_GE(absl::Now() - sent, absl::Milliseconds(1500));
  EXPECT_TRUE(PollUntil(
      [&] { return absl::StrContains(sidecar->log(), "processing.max_extension_ms"); },
      absl::Seconds(5)))
      << "the cut was not logged";
}

}  // namespace
}  // namespace kafka_sidecar::testing
