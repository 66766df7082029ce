// End-to-end fault injection: the kafka-sidecar binary between a real Kafka
// broker and C++ test handlers, with processes killed under it. SPEC section
// 3: at-least-once delivery, per-partition order, commits at the lowest
// unsettled offset, stream loss, rebalance, broker loss.
//
// Every scenario consumes the same 200,000 messages (6 partitions, 100-byte
// values, produced up front) and checks, over all handler instances of the
// run:
//   - every produced (partition, offset) was acked at least once;
//   - after the last sidecar is stopped with SIGTERM, the group's committed
//     offsets, read with Kafka's own tool, equal the log-end offsets;
//   - per handler instance and partition, offsets seen for the first time
//     arrive in strictly increasing order (a restarted sidecar redelivers
//     from the committed offset, so a handler of a new process starts over;
//     within one handler only first sightings are ordered);
//   - each delivered record carries the key produced for its offset.
// and prints one line per scenario:
//   CRASH-REPORT scenario=X produced=N received=R distinct=D acked=A
//       duplicates=R-D lost=L ...
// where received counts every delivery to any handler, distinct the
// distinct (partition, offset) delivered, acked the distinct ones acked, and
// duplicates = received - distinct (redeliveries).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

constexpr int kPartitions = 6;
constexpr int64_t kMessages = 200000;
constexpr size_t kValueSize = 100;

// Short enough that a SIGKILLed member's partitions move to its successor
// within seconds (a new process is a new dynamic member: the old one's
// partitions are free only once its session expired), long enough not to
// expire live members on a loaded two-core machine.
std::map<std::string, std::string> CrashOverrides() {
  return {
      {"kafka.session_timeout_ms", "6000"},
      {"kafka.heartbeat_interval_ms", "1000"},
      {"processing.commit_interval_ms", "200"},
      {"processing.drain_timeout_ms", "10000"},
      // Redeliveries here come from the faults injected, never from an ack
      // deadline (a held batch in scenario b must come back because its
      // handler crashed, and exactly once).
      {"processing.ack_timeout_ms", "600000"},
  };
}

// The union of offsets acked over several handler instances (and any
// settlements a test sent by hand).
class AckLedger {
 public:
  bool Add(const TopicPartitionKey& tp, int64_t offset) {
    if (!acked_[tp].insert(offset).second) return false;
    ++count_;
    return true;
  }
  void Absorb(const std::map<TopicPartitionKey, std::set<int64_t>>& acked) {
    for (const auto& [tp, offsets] : acked) {
      for (int64_t o : offsets) Add(tp, o);
    }
  }
  bool Contains(const TopicPartitionKey& tp, int64_t offset) const {
    auto it = acked_.find(tp);
    return it != acked_.end() && it->second.count(offset) > 0;
  }
  uint64_t count() const { return count_; }
  // |this ∪ other|.
  uint64_t CountWith(const std::map<TopicPartitionKey, std::set<int64_t>>& other) const {
    uint64_t n = count_;
    for (const auto& [tp, offsets] : other) {
      auto it = acked_.find(tp);
      for (int64_t o : offsets) {
        if (it == acked_.end() || it->second.count(o) == 0) ++n;
      }
    }
    return n;
  }

 private:
  std::map<TopicPartitionKey, std::set<int64_t>> acked_;
  uint64_t count_ = 0;
};

std::map<TopicPartitionKey, std::set<int64_t>> AckedSets(const TestHandler& h,
                                                         const std::string& topic) {
  std::map<TopicPartitionKey, std::set<int64_t>> out;
  for (int32_t p = 0; p < kPartitions; ++p) {
    std::set<int64_t> acked = h.AckedOffsets(topic, p);
    if (!acked.empty()) out[{topic, p}] = std::move(acked);
  }
  return out;
}

uint64_t SizeOf(const std::map<TopicPartitionKey, std::set<int64_t>>& sets) {
  uint64_t n = 0;
  for (const auto& [tp, s] : sets) n += s.size();
  return n;
}

enum class WaitResult { kReached, kStreamEnded, kTimedOut };

const char* Name(WaitResult r) {
  switch (r) {
    case WaitResult::kReached:
      return "reached";
    case WaitResult::kStreamEnded:
      return "stream ended";
    case WaitResult::kTimedOut:
      return "timed out";
  }
  return "?";
}

// Waits until `prev` ∪ (what `h` acked) holds `target` offsets, or `h`'s
// stream ends, or `deadline`. Event-driven: each round waits for `h` to ack
// at least as many messages as are still missing, which it must do before
// the union can reach the target (acks of offsets already in `prev` do not
// count, so there may be a few rounds).
WaitResult WaitForMergedAcked(const AckLedger& prev, const TestHandler& h,
                              const std::string& topic, uint64_t target,
                              absl::Time deadline, uint64_t* have_out = nullptr) {
  while (true) {
    const bool done = h.finish_status().has_value();
    const auto acked = AckedSets(h, topic);
    const uint64_t have = prev.CountWith(acked);
    if (have_out != nullptr) *have_out = have;
    if (have >= target) return WaitResult::kReached;
    if (done) return WaitResult::kStreamEnded;
    const uint64_t need = SizeOf(acked) + (target - have);
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration() ||
        !h.WaitFor(
            [need](const HandlerState& s) {
              return s.acked_count >= need || s.stream_done;
            },
            left)) {
      return WaitResult::kTimedOut;
    }
  }
}

// "p3:[1200-1299] p3:[1400]" for the first `max_ranges` runs of offsets.
std::string Ranges(const std::map<int32_t, std::vector<int64_t>>& offsets,
                   size_t max_ranges = 30) {
  std::vector<std::string> parts;
  for (const auto& [p, list] : offsets) {
    size_t i = 0;
    while (i < list.size() && parts.size() < max_ranges) {
      size_t j = i;
      while (j + 1 < list.size() && list[j + 1] == list[j] + 1) ++j;
      parts.push_back(list[i] == list[j]
                          ? absl::StrCat("p", p, ":[", list[i], "]")
                          : absl::StrCat("p", p, ":[", list[i], "-", list[j], "]"));
      i = j + 1;
    }
  }
  return absl::StrJoin(parts, " ");
}

class CrashE2eTest : public E2eTest {
 protected:
  // A new handler subscribed to `sidecar`, owned by the test (so its state
  // counts in VerifyRun), or nullptr after recording the failure.
  TestHandler* StartHandler(SidecarProcess* sidecar, SettlePolicy policy,
                            const std::string& name) {
    auto handler = std::make_unique<TestHandler>(std::move(policy));
    v1::Subscribe subscribe;
    subscribe.set_handler_name(name);
    absl::StatusOr<v1::Subscribed> subscribed =
        handler->Connect(sidecar->grpc_target(), subscribe, absl::Seconds(60));
    if (!subscribed.ok()) {
      ADD_FAILURE() << name << " could not subscribe to " << sidecar->grpc_target()
                    << ": " << subscribed.status();
      return nullptr;
    }
    handlers_.push_back(std::move(handler));
    return handlers_.back().get();
  }

  void Log(const std::string& line) {
    std::cout << "[ STEP     ] +" << absl::FormatDuration(absl::Trunc(
                                        absl::Now() - start_, absl::Milliseconds(10)))
              << " " << line << std::endl;
  }

  void SetUp() override {
    E2eTest::SetUp();
    start_ = absl::Now();
  }

  void TearDown() override {
    // Handlers first: their streams point at sidecars the fixture kills.
    for (auto& h : handlers_) h->Disconnect();
    E2eTest::TearDown();
    handlers_.clear();
  }

  // Terminates `sidecar` with SIGTERM and expects a clean exit.
  void TerminateCleanly(SidecarProcess* sidecar, const std::string& what) {
    const absl::Time t = absl::Now();
    absl::StatusOr<int> code = sidecar->Terminate(absl::Seconds(60));
    ASSERT_TRUE(code.ok()) << what << ": " << code.status();
    EXPECT_EQ(*code, 0) << what << " exited with " << *code;
    Log(absl::StrCat(what, " terminated (SIGTERM) with exit code ", *code, " in ",
                     absl::FormatDuration(absl::Now() - t)));
  }

  // The checks every scenario ends with, over every handler instance the
  // test created; `extra` holds acks a test sent by hand.
  void VerifyRun(const std::string& scenario, const std::string& topic,
                 const Offsets& end, const Offsets& committed,
                 const AckLedger& extra, const std::string& more_report = "") {
    std::vector<HandlerState> states;
    for (const auto& h : handlers_) states.push_back(h->Snapshot());

    AckLedger all = extra;
    uint64_t received = 0;
    std::map<TopicPartitionKey, std::set<int64_t>> distinct;
    uint64_t distinct_count = 0;
    uint64_t order_violations = 0;
    uint64_t key_mismatches = 0;
    std::vector<std::string> order_examples;
    std::vector<std::string> key_examples;
    for (size_t hi = 0; hi < states.size(); ++hi) {
      const HandlerState& s = states[hi];
      all.Absorb(s.acked);
      received += s.received_count;
      for (const auto& [tp, msgs] : s.received) {
        std::set<int64_t>& d = distinct[tp];
        std::set<int64_t> seen;
        int64_t last_first = -1;
        for (const ReceivedMessage& m : msgs) {
          if (d.insert(m.offset).second) ++distinct_count;
          if (m.key != KeyFor(m.offset * kPartitions + tp.second)) {
            if (key_mismatches++ < 5) {
              key_examples.push_back(absl::StrCat("handler #", hi, " p", tp.second,
                                                  " offset ", m.offset, " key '", m.key,
                                                  "'"));
            }
          }
          if (!seen.insert(m.offset).second) continue;  // a redelivery
          if (m.offset <= last_first) {
            if (order_violations++ < 10) {
              order_examples.push_back(
                  absl::StrCat("handler #", hi, " p", tp.second, ": first sight of ",
                               m.offset, " after first sight of ", last_first,
                               " (attempt ", m.delivery_attempt, ", batch ",
                               m.batch_id, ")"));
            }
          }
          last_first = std::max(last_first, m.offset);
        }
      }
    }

    int64_t produced = 0;
    uint64_t lost = 0;
    std::map<int32_t, std::vector<int64_t>> lost_offsets;
    for (const auto& [p, end_offset] : end) {
      produced += end_offset;
      for (int64_t o = 0; o < end_offset; ++o) {
        if (!all.Contains({topic, p}, o)) {
          ++lost;
          lost_offsets[p].push_back(o);
        }
      }
    }
    // Never acked yet below the committed offset: Kafka considers them done,
    // so no consumer will ever see them again (an at-least-once violation).
    // The rest of the never-acked offsets were still to come (a stall).
    uint64_t committed_past = 0;
    std::map<int32_t, std::vector<int64_t>> committed_past_offsets;
    for (const auto& [p, list] : lost_offsets) {
      auto c = committed.find(p);
      for (int64_t o : list) {
        if (c != committed.end() && o < c->second) {
          ++committed_past;
          committed_past_offsets[p].push_back(o);
        }
      }
    }
    // Delivered but never acked by anyone, and never delivered at all.
    uint64_t never_delivered = 0;
    for (const auto& [p, list] : lost_offsets) {
      for (int64_t o : list) {
        auto it = distinct.find({topic, p});
        if (it == distinct.end() || it->second.count(o) == 0) ++never_delivered;
      }
    }

    // Where each later handler instance started per partition (its first
    // delivery: the committed offset, or a redelivery) against the highest
    // offset earlier instances had acked: the gap is what came twice.
    {
      std::map<int32_t, int64_t> acked_upto;  // highest offset acked so far
      for (size_t hi = 0; hi < states.size(); ++hi) {
        const HandlerState& s = states[hi];
        if (hi > 0) {
          std::map<int32_t, int64_t> first;
          int64_t gap = 0;
          for (const auto& [tp, msgs] : s.received) {
            if (msgs.empty()) continue;
            first[tp.second] = msgs.front().offset;
            auto it = acked_upto.find(tp.second);
            if (it != acked_upto.end() && it->second + 1 > msgs.front().offset) {
              gap += it->second + 1 - msgs.front().offset;
            }
          }
          std::cout << "[ INFO     ] handler #" << hi << " started at " << Format(first)
                    << "; earlier handlers had acked up to " << Format(acked_upto)
                    << " (" << gap << " offsets again)" << std::endl;
        }
        for (const auto& [tp, offsets] : s.acked) {
          if (offsets.empty()) continue;
          int64_t& upto = acked_upto.emplace(tp.second, -1).first->second;
          upto = std::max(upto, *offsets.rbegin());
        }
      }
    }

    std::cout << "CRASH-REPORT scenario=" << scenario << " produced=" << produced
              << " received=" << received << " distinct=" << distinct_count
              << " acked=" << all.count()
              << " duplicates=" << (received - distinct_count) << " lost=" << lost
              << " committed_past_unacked=" << committed_past
              << " handlers=" << states.size()
              << " order_violations=" << order_violations
              << " elapsed=" << absl::FormatDuration(absl::Trunc(absl::Now() - start_,
                                                                 absl::Milliseconds(100)))
              << (more_report.empty() ? "" : " ") << more_report << std::endl;

    // For the first lost runs: what each handler received just before and
    // after, so a skip (delivery jumping over the run) shows as such.
    std::string around;
    {
      int runs = 0;
      for (const auto& [p, list] : lost_offsets) {
        for (size_t i = 0; i < list.size() && runs < 3;) {
          size_t j = i;
          while (j + 1 < list.size() && list[j + 1] == list[j] + 1) ++j;
          const int64_t lo = list[i], hi = list[j];
          ++runs;
          absl::StrAppend(&around, "\n  p", p, ":[", lo, "-", hi, "]:");
          for (size_t hidx = 0; hidx < states.size(); ++hidx) {
            auto it = states[hidx].received.find({topic, p});
            if (it == states[hidx].received.end()) continue;
            const auto& msgs = it->second;
            // Each time this handler's deliveries went from below the run
            // straight to above it (nothing of the run can arrive: it was
            // never delivered), the last arrival below and the first above.
            constexpr size_t kNone = static_cast<size_t>(-1);
            size_t below = kNone;
            int reported = 0;
            for (size_t k = 0; k < msgs.size() && reported < 3; ++k) {
              if (msgs[k].offset < lo) {
                below = k;
              } else if (below != kNone) {
                const ReceivedMessage& a = msgs[below];
                const ReceivedMessage& b = msgs[k];
                absl::StrAppend(&around, " handler #", hidx, " went from ", a.offset,
                                " (arrival #", below, ", batch ", a.batch_id, ") to ",
                                b.offset, " (arrival #", k, ", batch ", b.batch_id,
                                ", attempt ", b.delivery_attempt, ");");
                ++reported;
                below = kNone;
              }
            }
          }
          i = j + 1;
        }
      }
    }
    EXPECT_EQ(committed_past, 0u)
        << "the group committed past " << committed_past
        << " offsets no handler ever acked (committed " << Format(committed)
        << "): " << Ranges(committed_past_offsets) << around;
    EXPECT_EQ(lost, 0u) << lost << " produced offsets were never acked ("
                        << never_delivered << " of them never delivered to any handler): "
                        << Ranges(lost_offsets) << around;
    EXPECT_EQ(order_violations, 0u)
        << "first deliveries out of offset order:\n  "
        << absl::StrJoin(order_examples, "\n  ");
    EXPECT_EQ(key_mismatches, 0u) << "records with the wrong key:\n  "
                                  << absl::StrJoin(key_examples, "\n  ");
  }

  // After SIGTERM of the last sidecar: Kafka's committed offsets are the
  // log end.
  Offsets ExpectCommittedAtEnd(const std::string& group, const std::string& topic,
                                        const Offsets& end) {
    absl::StatusOr<Offsets> committed = broker_->CommittedOffsets(group, topic);
    EXPECT_TRUE(committed.ok()) << committed.status();
    if (!committed.ok()) return {};
    EXPECT_TRUE(CommittedAtEnd(*committed, end))
        << "after the last sidecar stopped, group " << group << " has committed "
        << Format(*committed) << ", log end " << Format(end);
    Log(absl::StrCat("committed after shutdown ", Format(*committed),
                     ", log end ", Format(end)));
    return *committed;
  }

  absl::StatusOr<Offsets> PrepareBigTopic(const std::string& topic) {
    const absl::Time t = absl::Now();
    absl::StatusOr<Offsets> end =
        PrepareTopic(topic, kPartitions, kMessages, kValueSize);
    if (end.ok()) {
      Log(absl::StrCat("produced ", kMessages, " messages to ", kPartitions,
                       " partitions in ", absl::FormatDuration(absl::Now() - t), ": ",
                       Format(*end)));
    }
    return end;
  }

  // Why a wait failed: counts, sidecar stats, handler stream status.
  std::string Describe(const std::vector<SidecarProcess*>& sidecars,
                       const TestHandler* handler) {
    std::string out;
    for (SidecarProcess* s : sidecars) {
      if (s == nullptr) continue;
      absl::StatusOr<v1::GetStatsResponse> stats = GetStats(s->grpc_target());
      absl::StrAppend(&out, "\n  sidecar pid ", s->pid(),
                      s->Running() ? " running" : " NOT RUNNING", "; stats: ",
                      stats.ok() ? stats->ShortDebugString() : stats.status().ToString());
    }
    if (handler != nullptr) {
      const HandlerState st = handler->Snapshot();
      absl::StrAppend(&out, "\n  handler: received ", st.received_count, ", acked ",
                      st.acked_count, ", batches ", st.batches_received, ", held ",
                      st.held.size(), ", assigned ", st.assigned.size(), " partitions",
                      st.stream_done ? ", stream ended: " : ", stream open",
                      st.finish_status ? st.finish_status->error_message() : "");
    }
    return out;
  }

  absl::Time start_;
  std::vector<std::unique_ptr<TestHandler>> handlers_;
};

// (a) The sidecar is SIGKILLed three times during the run and restarted
// (same group, new process, a new handler each time).
TEST_F(CrashE2eTest, SigkilledSidecarLosesNothing) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareBigTopic(topic);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(Sum(*end), kMessages) << Format(*end);
  const SidecarOptions options = Options(group, {topic}, CrashOverrides());

  AckLedger finished;  // acks of handlers whose sidecar was killed
  SidecarProcess* sidecar = StartSidecar(options);
  ASSERT_NE(sidecar, nullptr);
  TestHandler* handler = StartHandler(sidecar, AckAll(), "crash-a-0");
  ASSERT_NE(handler, nullptr);
  Log("sidecar #0 and handler #0 up");

  const double kill_at[] = {0.20, 0.45, 0.70};
  for (size_t k = 0; k < std::size(kill_at); ++k) {
    const uint64_t target = static_cast<uint64_t>(kill_at[k] * kMessages);
    uint64_t have = 0;
    const WaitResult r = WaitForMergedAcked(finished, *handler, topic, target,
                                            absl::Now() + absl::Minutes(3), &have);
    ASSERT_EQ(r, WaitResult::kReached)
        << "waiting for " << target << " acked before kill #" << k << ": " << Name(r)
        << " at " << have << Describe({sidecar}, handler);
    absl::StatusOr<int> code = sidecar->Kill();
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 128 + 9);
    // The kernel closes the killed process's sockets, so the stream ends.
    std::optional<grpc::Status> finish = handler->WaitForFinish(absl::Seconds(30));
    if (!finish.has_value()) handler->Disconnect();
    const HandlerState s = handler->Snapshot();
    finished.Absorb(s.acked);
    Log(absl::StrCat("SIGKILLed sidecar #", k, " at ", have, " acked overall (its handler: ",
                     s.received_count, " received, ", s.acked_count, " acked); stream ended: ",
                     finish ? finish->error_message() : "no, cancelled"));

    sidecar = StartSidecar(options);
    ASSERT_NE(sidecar, nullptr);
    handler = StartHandler(sidecar, AckAll(), absl::StrCat("crash-a-", k + 1));
    ASSERT_NE(handler, nullptr);
    Log(absl::StrCat("sidecar #", k + 1, " and handler #", k + 1, " up"));
  }

  uint64_t have = 0;
  const WaitResult r = WaitForMergedAcked(finished, *handler, topic, kMessages,
                                          absl::Now() + absl::Minutes(2), &have);
  EXPECT_EQ(r, WaitResult::kReached) << "waiting for all " << kMessages << " acked: "
                                     << Name(r) << " at " << have
                                     << Describe({sidecar}, handler);
  Log(absl::StrCat("all acked: ", have));
  if (r == WaitResult::kReached) {
    absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(2));
    EXPECT_TRUE(committed.ok()) << committed << Describe({sidecar}, handler);
    Log("committed offsets reached the log end");
  }
  TerminateCleanly(sidecar, "last sidecar");
  const Offsets committed = ExpectCommittedAtEnd(group, topic, *end);
  VerifyRun("a", topic, *end, committed, AckLedger(), "sigkills=3");
}

// (b) The handler crashes (its stream is cancelled) while it holds unsettled
// batches, three times; the sidecar keeps running. Before each crash it acks
// the first half of every held batch by offset, so the crash really happens
// mid-batch. Only what was unsettled may come again, with a raised
// delivery_attempt, to the next handler.
TEST_F(CrashE2eTest, HandlerCrashMidBatchLosesNothing) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareBigTopic(topic);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(Sum(*end), kMessages) << Format(*end);
  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}, CrashOverrides()));
  ASSERT_NE(sidecar, nullptr);

  AckLedger ledger;  // crashed handlers' acks and the partial acks by hand
  struct Crash {
    size_t handler_index;
    std::map<TopicPartitionKey, std::set<int64_t>> unsettled;  // must come again
    std::map<TopicPartitionKey, std::set<int64_t>> partially_acked;  // must not
    uint64_t unsettled_count = 0;
  };
  std::vector<Crash> crashes;

  const double crash_at[] = {0.20, 0.45, 0.70};
  for (size_t k = 0; k < std::size(crash_at); ++k) {
    // Acks whole batches until it has acked its share, then holds every
    // batch: with partition_workers 1 that is one held batch per partition.
    auto budget = std::make_shared<std::atomic<int64_t>>(
        static_cast<int64_t>(crash_at[k] * kMessages) - static_cast<int64_t>(ledger.count()));
    SettlePolicy policy = [budget](const v1::Batch& batch) {
      if (budget->load() <= 0) return SettleAction::kHold;
      budget->fetch_sub(batch.messages_size());
      return SettleAction::kAck;
    };
    TestHandler* handler = StartHandler(sidecar, policy, absl::StrCat("crash-b-", k));
    ASSERT_NE(handler, nullptr);
    auto held_partitions = [](const HandlerState& s) {
      std::set<int32_t> partitions;
      for (const auto& [id, batch] : s.held) partitions.insert(batch.partition());
      return partitions.size();
    };
    ASSERT_TRUE(handler->WaitFor(
        [&](const HandlerState& s) {
          return held_partitions(s) == static_cast<size_t>(kPartitions) || s.stream_done;
        },
        absl::Minutes(3)))
        << "handler #" << k << " never held a batch of every partition"
        << Describe({sidecar}, handler);
    ASSERT_FALSE(handler->Snapshot().stream_done) << Describe({sidecar}, handler);

    // Mid-batch: ack the first half of every held batch by offset.
    const HandlerState before = handler->Snapshot();
    Crash crash;
    crash.handler_index = handlers_.size() - 1;
    uint64_t held_messages = 0;
    uint64_t partial = 0;
    for (const auto& [id, batch] : before.held) {
      const TopicPartitionKey tp{batch.topic(), batch.partition()};
      held_messages += batch.messages_size();
      std::vector<int64_t> half;
      for (int i = 0; i < batch.messages_size(); ++i) {
        const int64_t o = batch.messages(i).offset();
        if (i < batch.messages_size() / 2) {
          half.push_back(o);
          crash.partially_acked[tp].insert(o);
        } else {
          crash.unsettled[tp].insert(o);
          ++crash.unsettled_count;
        }
      }
      if (half.empty()) continue;
      ASSERT_TRUE(handler->Settle(id, half, v1::OUTCOME_ACK))
          << "stream closed before the partial ack";
      for (int64_t o : half) ledger.Add(tp, o);
      partial += half.size();
    }
    // The partial acks are processed before the crash: the sidecar's
    // in-flight count drops to what is still unsettled (nothing else can be
    // in flight: every partition has its one batch held).
    uint64_t in_flight = 0;
    const bool processed = PollUntil(
        [&] {
          absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sidecar->grpc_target());
          if (stats.ok()) in_flight = stats->messages_in_flight();
          return stats.ok() && in_flight == held_messages - partial;
        },
        absl::Seconds(30));
    EXPECT_TRUE(processed) << "after acking " << partial << " of " << held_messages
                           << " held messages, the sidecar reports " << in_flight
                           << " in flight (want " << held_messages - partial << ")";

    handler->Disconnect();  // the crash: the rest of the held batches stay unsettled
    const HandlerState s = handler->Snapshot();
    ledger.Absorb(s.acked);
    Log(absl::StrCat("handler #", k, " crashed holding ", before.held.size(), " batches (",
                     held_messages, " messages, ", partial, " of them acked by offset); ",
                     ledger.count(), " acked overall"));
    crashes.push_back(std::move(crash));
  }

  TestHandler* last = StartHandler(sidecar, AckAll(), "crash-b-final");
  ASSERT_NE(last, nullptr);
  uint64_t have = 0;
  const WaitResult r = WaitForMergedAcked(ledger, *last, topic, kMessages,
                                          absl::Now() + absl::Minutes(2), &have);
  EXPECT_EQ(r, WaitResult::kReached) << "waiting for all " << kMessages << " acked: "
                                     << Name(r) << " at " << have
                                     << Describe({sidecar}, last);
  Log(absl::StrCat("all acked: ", have));
  if (r == WaitResult::kReached) {
    absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(2));
    EXPECT_TRUE(committed.ok()) << committed << Describe({sidecar}, last);
  }

  // What each crash left unsettled came to the next handler, with a raised
  // delivery_attempt; what it had acked by offset did not come again.
  uint64_t expected_redeliveries = 0;
  for (const Crash& crash : crashes) {
    expected_redeliveries += crash.unsettled_count;
    const HandlerState next = handlers_[crash.handler_index + 1]->Snapshot();
    uint64_t missing = 0, not_raised = 0, partial_again = 0;
    std::string examples;
    for (const auto& [tp, offsets] : crash.unsettled) {
      std::map<int64_t, uint32_t> first_attempt;
      auto it = next.received.find(tp);
      if (it != next.received.end()) {
        for (const ReceivedMessage& m : it->second) first_attempt.emplace(m.offset, m.delivery_attempt);
      }
      for (int64_t o : offsets) {
        auto f = first_attempt.find(o);
        if (f == first_attempt.end()) {
          if (missing++ < 5) absl::StrAppend(&examples, " missing p", tp.second, "/", o);
        } else if (f->second < 2) {
          if (not_raised++ < 5) {
            absl::StrAppend(&examples, " p", tp.second, "/", o, " attempt ", f->second);
          }
        }
      }
      for (int64_t o : crash.partially_acked.count(tp) ? crash.partially_acked.at(tp)
                                                       : std::set<int64_t>()) {
        if (first_attempt.count(o)) {
          if (partial_again++ < 5) absl::StrAppend(&examples, " acked-again p", tp.second, "/", o);
        }
      }
    }
    EXPECT_EQ(missing, 0u) << "handler #" << crash.handler_index + 1
                           << " never got unsettled messages of the crashed handler:"
                           << examples;
    EXPECT_EQ(not_raised, 0u) << "redeliveries without a raised delivery_attempt:"
                              << examples;
    EXPECT_EQ(partial_again, 0u)
        << "messages acked by offset before the crash were delivered again:" << examples;
  }

  TerminateCleanly(sidecar, "sidecar");
  const Offsets committed = ExpectCommittedAtEnd(group, topic, *end);
  uint64_t received = 0;
  for (const auto& h : handlers_) received += h->Snapshot().received_count;
  // One sidecar process: the only redeliveries are the crashed handlers'
  // unsettled messages.
  EXPECT_EQ(received, static_cast<uint64_t>(kMessages) + expected_redeliveries)
      << "deliveries beyond the produced messages plus the " << expected_redeliveries
      << " unsettled at the crashes";
  VerifyRun("b", topic, *end, committed, ledger,
            absl::StrCat("handler_crashes=3 unsettled_at_crashes=", expected_redeliveries));
}

// (c) A second and a third sidecar join the group, each with its own handler,
// and leave again (SIGTERM) while the run continues; the first runs to the
// end. Acks are paced so that the membership changes happen mid-run.
TEST_F(CrashE2eTest, SidecarsJoinAndLeaveLosesNothing) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareBigTopic(topic);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(Sum(*end), kMessages) << Format(*end);
  const SidecarOptions options = Options(group, {topic}, CrashOverrides());
  auto pacer = std::make_shared<Pacer>(8000);

  SidecarProcess* first = StartSidecar(options);
  ASSERT_NE(first, nullptr);
  TestHandler* h1 = StartHandler(first, PacedAck(pacer), "crash-c-1");
  ASSERT_NE(h1, nullptr);
  ASSERT_TRUE(h1->WaitFor(
      [](const HandlerState& s) { return s.acked_count >= kMessages / 10 || s.stream_done; },
      absl::Minutes(2)))
      << Describe({first}, h1);
  Log(absl::StrCat("first sidecar acked ", h1->Snapshot().acked_count));

  // Each joiner must really take part: get partitions and ack messages.
  constexpr uint64_t kJoinerAcks = 2000;
  SidecarProcess* joiners[2] = {nullptr, nullptr};
  TestHandler* joiner_handlers[2] = {nullptr, nullptr};
  for (int j = 0; j < 2; ++j) {
    joiners[j] = StartSidecar(options);
    ASSERT_NE(joiners[j], nullptr);
    joiner_handlers[j] = StartHandler(joiners[j], PacedAck(pacer), absl::StrCat("crash-c-", j + 2));
    ASSERT_NE(joiner_handlers[j], nullptr);
    ASSERT_TRUE(joiner_handlers[j]->WaitFor(
        [](const HandlerState& s) { return s.acked_count >= kJoinerAcks || s.stream_done; },
        absl::Minutes(2)))
        << "sidecar #" << j + 2 << " never acked " << kJoinerAcks
        << Describe({first, joiners[j]}, joiner_handlers[j]);
    const HandlerState s = joiner_handlers[j]->Snapshot();
    ASSERT_FALSE(s.stream_done) << Describe({joiners[j]}, joiner_handlers[j]);
    Log(absl::StrCat("sidecar #", j + 2, " joined: ", s.assigned.size(),
                     " partitions, acked ", s.acked_count, "; first handler holds ",
                     h1->Snapshot().assigned.size(), " partitions"));
  }

  AckLedger left;  // the joiners' acks once they have left
  for (int j = 0; j < 2; ++j) {
    TerminateCleanly(joiners[j], absl::StrCat("sidecar #", j + 2));
    std::optional<grpc::Status> finish = joiner_handlers[j]->WaitForFinish(absl::Seconds(30));
    EXPECT_TRUE(finish.has_value()) << "handler of sidecar #" << j + 2
                                    << " still open after its sidecar exited";
    const HandlerState s = joiner_handlers[j]->Snapshot();
    EXPECT_FALSE(s.draining.empty()) << "sidecar #" << j + 2 << " sent no Draining";
    left.Absorb(s.acked);
  }
  const uint64_t h1_acked_at_leave = h1->Snapshot().acked_count;
  const uint64_t merged_at_leave = left.CountWith(AckedSets(*h1, topic));
  Log(absl::StrCat("both joiners left at ", merged_at_leave, " acked overall"));
  EXPECT_LT(merged_at_leave, static_cast<uint64_t>(kMessages))
      << "the run was over before the joiners left: the scenario tested nothing";
  pacer->SetRate(0);

  uint64_t have = 0;
  const WaitResult r = WaitForMergedAcked(left, *h1, topic, kMessages,
                                          absl::Now() + absl::Minutes(2), &have);
  EXPECT_EQ(r, WaitResult::kReached) << "waiting for all " << kMessages << " acked: "
                                     << Name(r) << " at " << have << Describe({first}, h1);
  Log(absl::StrCat("all acked: ", have));
  EXPECT_GT(h1->Snapshot().acked_count, h1_acked_at_leave)
      << "the first sidecar did not go on after the others left";
  EXPECT_EQ(h1->Snapshot().assigned.size(), static_cast<size_t>(kPartitions))
      << "the first sidecar's stream did not get every partition back";
  if (r == WaitResult::kReached) {
    absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(2));
    EXPECT_TRUE(committed.ok()) << committed << Describe({first}, h1);
  }
  TerminateCleanly(first, "first sidecar");
  const Offsets committed = ExpectCommittedAtEnd(group, topic, *end);
  VerifyRun("c", topic, *end, committed, AckLedger(), "joined=2 left=2");
}

// (d) The Kafka broker process is stopped mid-run and started again (same
// port, same data). The sidecar must recover by itself; the handler stays
// connected, or reconnects if the sidecar ends its stream.
TEST_F(CrashE2eTest, BrokerRestartLosesNothing) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareBigTopic(topic);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(Sum(*end), kMessages) << Format(*end);
  auto pacer = std::make_shared<Pacer>(10000);

  SidecarProcess* sidecar = StartSidecar(Options(group, {topic}, CrashOverrides()));
  ASSERT_NE(sidecar, nullptr);
  TestHandler* handler = StartHandler(sidecar, PacedAck(pacer), "crash-d-0");
  ASSERT_NE(handler, nullptr);
  AckLedger finished;  // acks of handlers whose stream ended

  uint64_t have = 0;
  WaitResult r = WaitForMergedAcked(finished, *handler, topic, kMessages / 5,
                                    absl::Now() + absl::Minutes(2), &have);
  ASSERT_EQ(r, WaitResult::kReached) << Name(r) << " at " << have
                                     << Describe({sidecar}, handler);

  const absl::Time stop_start = absl::Now();
  absl::Status stopped = broker_->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped;
  const uint64_t acked_at_stop = finished.CountWith(AckedSets(*handler, topic));
  Log(absl::StrCat("broker stopped in ", absl::FormatDuration(absl::Now() - stop_start),
                   " with ", have, " acked when the stop began, ", acked_at_stop,
                   " when it was down"));
  const absl::Time restart_start = absl::Now();
  absl::Status restarted = broker_->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  const uint64_t acked_at_restart = finished.CountWith(AckedSets(*handler, topic));
  const uint64_t handler_acked_at_restart = handler->Snapshot().acked_count;
  Log(absl::StrCat("broker restarted in ", absl::FormatDuration(absl::Now() - restart_start),
                   "; ", acked_at_restart, " acked"));
  EXPECT_TRUE(sidecar->Running()) << "the sidecar exited while the broker was down";
  EXPECT_LT(acked_at_restart, static_cast<uint64_t>(kMessages))
      << "everything was consumed before the broker came back: the scenario tested nothing";
  pacer->SetRate(0);

  // Informational: the first ack after the restart (it may still come from
  // records fetched before the outage; completing the run is the proof).
  const bool resumed = handler->WaitFor(
      [&](const HandlerState& s) {
        return s.acked_count > handler_acked_at_restart || s.stream_done;
      },
      absl::Minutes(2));
  Log(absl::StrCat("first ack after the restart: ", resumed ? "yes" : "NO"));

  int reconnects = 0;
  const absl::Time deadline = absl::Now() + absl::Minutes(2);
  while (true) {
    r = WaitForMergedAcked(finished, *handler, topic, kMessages, deadline, &have);
    if (r != WaitResult::kStreamEnded) break;
    const HandlerState s = handler->Snapshot();
    finished.Absorb(s.acked);
    Log(absl::StrCat("handler stream ended (",
                     s.finish_status ? s.finish_status->error_message() : "", ") at ",
                     have, " acked; sidecar ", sidecar->Running() ? "running" : "NOT running"));
    ASSERT_TRUE(sidecar->Running()) << "the sidecar exited after the broker restart";
    ASSERT_LT(++reconnects, 10) << "the handler's stream keeps ending";
    handler = StartHandler(sidecar, AckAll(), absl::StrCat("crash-d-", reconnects));
    ASSERT_NE(handler, nullptr);
  }
  EXPECT_EQ(r, WaitResult::kReached) << "waiting for all " << kMessages << " acked: "
                                     << Name(r) << " at " << have
                                     << Describe({sidecar}, handler);
  Log(absl::StrCat("all acked: ", have, " (", reconnects, " handler reconnects)"));
  if (r == WaitResult::kReached) {
    absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(2));
    EXPECT_TRUE(committed.ok()) << committed << Describe({sidecar}, handler);
  }
  TerminateCleanly(sidecar, "sidecar");
  const Offsets committed = ExpectCommittedAtEnd(group, topic, *end);
  VerifyRun("d", topic, *end, committed, AckLedger(),
            absl::StrCat("broker_restarts=1 acked_at_stop=", acked_at_stop,
                         " acked_at_restart=", acked_at_restart,
                         " handler_reconnects=", reconnects));
}

}  // namespace
}  // namespace kafka_sidecar::testing
