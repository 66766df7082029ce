// Scale-out and scale-in of a consumer group, the most ordinary event of a
// Kubernetes deployment, under both group protocols: sidecars go
// 1 -> 2 -> 3 -> 2 -> 1 while a paced (slow) handler per sidecar works
// through a backlog, fetching pauses for backpressure, and an operator
// pauses and resumes random partitions by RPC. One extra member joins and
// is stopped by SIGTERM within 2 s, before its rebalance has completed; of
// the members that leave, one goes by SIGTERM and one by SIGKILL.
//
// For every step it measures, from the handlers' own record of what arrived
// when and what they acked:
//   - duplicates: deliveries of an offset after some handler had acked it;
//   - the longest stall of each partition: time without a delivery while it
//     still has a backlog, not counting operator pauses;
// and asserts:
//   - every offset delivered, commits at the log end;
//   - no "(lost)" revoke in any sidecar's log (nothing here loses an
//     assignment: the SIGKILLed member cannot log at all);
//   - duplicates on kept partitions: none; on moved partitions of a graceful
//     step: at most what can be in flight on them (one batch each); on the
//     SIGKILLed member's partitions: at most what it had delivered beyond its
//     last commit;
//   - kept partitions never stall longer than 5 s, and no partition longer
//     than 10 s.
// One line per step starts with SCALE-OUT, one per run with SCALE-OUT-RUN.
//
// SCALE_OUT_SIDECAR_BINARY runs the scenario against another build of
// the sidecar (the classic protocol only needs keys every version has), to
// compare figures across librdkafka versions.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/pacer.h"
#include "tests/support/ports.h"
#include "tests/support/sidecar_process.h"
#include "tests/support/test_handler.h"

namespace kafka_sidecar::testing {
namespace {

constexpr int kPartitions = 6;
constexpr int64_t kMessages = 400000;
// Across all handlers: slow enough that every sidecar's per-partition buffer
// fills and fetching pauses, fast enough that the run does not drag.
constexpr double kRate = 4000;
constexpr int kBatchSize = 500;
constexpr absl::Duration kKeptStallLimit = absl::Seconds(5);
constexpr absl::Duration kAnyStallLimit = absl::Seconds(10);
// Session timeout of the group (client side for classic, broker side for
// consumer): a SIGKILLed member's partitions move after it.
constexpr int kSessionTimeoutMs = 6000;

using PartitionOffset = std::pair<int32_t, int64_t>;

struct Delivery {
  absl::Time at;
  int member;
  int32_t partition;
  int64_t offset;
};

// What every handler saw, in one place: arrivals, acks, and the arrivals of
// offsets some handler had already acked.
class DeliveryLog {
 public:
  void Arrived(int member, const v1::Batch& batch) {
    const absl::Time now = absl::Now();
    std::lock_guard<std::mutex> lock(mu_);
    for (const v1::Message& m : batch.messages()) {
      deliveries_.push_back(Delivery{now, member, batch.partition(), m.offset()});
      const PartitionOffset key{batch.partition(), m.offset()};
      if (acked_.count(key)) duplicates_.push_back(deliveries_.back());
      first_seen_.insert(key);
      highest_[batch.partition()] = std::max(highest_[batch.partition()], m.offset());
    }
    last_arrival_[batch.partition()] = now;
  }

  void Acked(const v1::Batch& batch) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const v1::Message& m : batch.messages()) acked_.insert({batch.partition(), m.offset()});
  }

  std::vector<Delivery> deliveries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return deliveries_;
  }
  std::vector<Delivery> duplicates() const {
    std::lock_guard<std::mutex> lock(mu_);
    return duplicates_;
  }
  size_t distinct() const {
    std::lock_guard<std::mutex> lock(mu_);
    return first_seen_.size();
  }
  size_t acked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_.size();
  }
  std::set<PartitionOffset> first_seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return first_seen_;
  }
  // Partition -> (last arrival, highest offset delivered).
  std::map<int32_t, std::pair<absl::Time, int64_t>> progress() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<int32_t, std::pair<absl::Time, int64_t>> out;
    for (const auto& [p, at] : last_arrival_) out[p] = {at, highest_.at(p)};
    return out;
  }
  // Last offset delivered to `member` on `partition`, or -1.
  int64_t LastDelivered(int member, int32_t partition) const {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t last = -1;
    for (const Delivery& d : deliveries_) {
      if (d.member == member && d.partition == partition) last = std::max(last, d.offset);
    }
    return last;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Delivery> deliveries_;
  std::vector<Delivery> duplicates_;
  std::set<PartitionOffset> acked_;
  std::set<PartitionOffset> first_seen_;
  std::map<int32_t, absl::Time> last_arrival_;
  std::map<int32_t, int64_t> highest_;
};

struct Interval {
  absl::Time from;
  absl::Time to;
};

// Pauses a random partition on every live sidecar, resumes it a little
// later, and watches GetStats for fetching paused by backpressure. Pausing is
// what an operator does by RPC: it acts wherever the partition is assigned
// now.
class Operator {
 public:
  Operator(std::string topic, uint32_t seed) : topic_(std::move(topic)), random_(seed) {}
  ~Operator() { Stop(); }

  void SetTargets(std::vector<std::string> targets) {
    std::lock_guard<std::mutex> lock(mu_);
    targets_ = std::move(targets);
  }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  std::map<int32_t, std::vector<Interval>> pauses() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pauses_;
  }
  int pause_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& [p, list] : pauses_) n += static_cast<int>(list.size());
    return n;
  }
  bool saw_backpressure() const { return saw_backpressure_.load(); }

 private:
  // The operator's rhythm, not a synchronisation: false once stopped.
  bool Idle(absl::Duration d) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, absl::ToChronoNanoseconds(d), [this] { return stop_; });
  }

  std::vector<std::string> Targets() {
    std::lock_guard<std::mutex> lock(mu_);
    return targets_;
  }

  void PollBackpressure() {
    for (const std::string& target : Targets()) {
      absl::StatusOr<v1::GetStatsResponse> stats = GetStats(target, absl::Seconds(2));
      if (!stats.ok()) continue;
      for (const v1::PartitionStats& p : stats->partitions()) {
        if (p.pause_reason().find("backpressure") != std::string::npos) {
          saw_backpressure_.store(true);
        }
      }
    }
  }

  void Run() {
    std::uniform_int_distribution<int32_t> pick(0, kPartitions - 1);
    while (Idle(absl::Milliseconds(900))) {
      PollBackpressure();
      const int32_t partition = pick(random_);
      const absl::Time from = absl::Now();
      for (const std::string& target : Targets()) {
        // A sidecar on its way out may not answer; the pause is then moot.
        (void)SetPartitionsPaused(target, {{topic_, partition}}, true, absl::Seconds(2));
      }
      const bool go_on = Idle(absl::Milliseconds(600));
      for (const std::string& target : Targets()) {
        (void)SetPartitionsPaused(target, {{topic_, partition}}, false, absl::Seconds(2));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        // A sidecar that gets the partition meanwhile starts it unpaused;
        // the slack covers the resume reaching the one that has it.
        pauses_[partition].push_back(Interval{from, absl::Now() + absl::Milliseconds(300)});
      }
      if (!go_on) return;
    }
  }

  const std::string topic_;
  std::mt19937 random_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::string> targets_;
  std::map<int32_t, std::vector<Interval>> pauses_;
  std::atomic<bool> saw_backpressure_{false};
  std::thread thread_;
};

struct Member {
  int index = 0;
  std::string name;
  SidecarProcess* sidecar = nullptr;
  TestHandler* handler = nullptr;
  absl::Time launched;
  bool alive = false;
};

enum class StepKind { kJoin, kJoinAndQuickLeave, kLeaveSigterm, kLeaveSigkill };

struct Step {
  std::string name;
  StepKind kind;
  absl::Time from;
  absl::Time to;
  std::map<int32_t, int> owner_before;  // partition -> member
  std::map<int32_t, int> owner_after;
  std::optional<absl::Time> new_member_launched;
  int new_member = -1;
  int killed_member = -1;
  // SIGKILL: what the killed member delivered beyond the committed offsets.
  int64_t uncommitted_at_kill = 0;
};

struct StepFigures {
  std::set<int32_t> moved;
  std::set<int32_t> kept;
  size_t kept_duplicates = 0;
  size_t moved_duplicates = 0;
  int64_t moved_bound = 0;
  absl::Duration kept_stall;
  absl::Duration any_stall;
  int32_t any_stall_partition = -1;
  std::optional<absl::Duration> join_to_first_delivery;
};

std::string Seconds(absl::Duration d) {
  return absl::StrFormat("%.2fs", absl::ToDoubleSeconds(d));
}

class ScaleOutE2eTest : public E2eTest, public ::testing::WithParamInterface<std::string> {
 protected:
  bool consumer_protocol() const { return GetParam() == "consumer"; }

  std::map<std::string, std::string> Overrides() const {
    std::map<std::string, std::string> o = {
        // The production defaults, not the harness's small batches.
        {"processing.batch_size", std::to_string(kBatchSize)},
        {"processing.max_in_flight_messages", "5000"},
        {"processing.commit_interval_ms", "1000"},
        {"processing.drain_timeout_ms", "10000"},
        // Nothing here is redelivered for an ack deadline.
        {"processing.ack_timeout_ms", "600000"},
    };
    if (consumer_protocol()) {
      o["kafka.group_protocol"] = "consumer";
    } else {
      o["kafka.session_timeout_ms"] = std::to_string(kSessionTimeoutMs);
      o["kafka.heartbeat_interval_ms"] = "1000";
    }
    return o;
  }

  SidecarOptions MemberOptions(const std::string& group, const std::string& topic) const {
    SidecarOptions options = Options(group, {topic}, Overrides());
    if (const char* other = std::getenv("SCALE_OUT_SIDECAR_BINARY")) options.binary = other;
    return options;
  }

  void Log(const std::string& line) const {
    std::cout << "[ STEP     ] +"
              << absl::FormatDuration(absl::Trunc(absl::Now() - start_, absl::Milliseconds(10)))
              << " " << line << std::endl;
  }

  // Starts a sidecar and its paced handler; the sidecar is waited for only
  // when `wait_ready` (a member stopped at once is not).
  Member* Join(const SidecarOptions& options, bool wait_ready) {
    auto m = std::make_unique<Member>();
    m->index = static_cast<int>(members_.size());
    m->name = absl::StrCat("member-", m->index);
    m->launched = absl::Now();
    m->sidecar = LaunchSidecar(options);
    if (m->sidecar == nullptr) return nullptr;
    const absl::Duration ready_within = wait_ready ? absl::Seconds(60) : absl::Milliseconds(1400);
    if (absl::Status ready = m->sidecar->WaitUntilReady(ready_within); !ready.ok()) {
      ADD_FAILURE() << m->name << " not ready: " << ready;
      return nullptr;
    }
    const int index = m->index;
    auto handler = std::make_unique<TestHandler>(
        [this, index](const v1::Batch& batch) {
          log_.Arrived(index, batch);
          pacer_->Take(static_cast<size_t>(batch.messages_size()));
          log_.Acked(batch);
          return SettleAction::kAck;
        });
    v1::Subscribe subscribe;
    subscribe.set_handler_name(m->name);
    absl::StatusOr<v1::Subscribed> subscribed =
        handler->Connect(m->sidecar->grpc_target(), subscribe, absl::Seconds(30));
    if (!subscribed.ok()) {
      ADD_FAILURE() << m->name << " could not subscribe: " << subscribed.status();
      return nullptr;
    }
    m->handler = handler.get();
    handlers_.push_back(std::move(handler));
    m->alive = true;
    members_.push_back(std::move(m));
    UpdateOperatorTargets();
    return members_.back().get();
  }

  void UpdateOperatorTargets() {
    std::vector<std::string> targets;
    for (const auto& m : members_) {
      if (m->alive) targets.push_back(m->sidecar->grpc_target());
    }
    operator_->SetTargets(std::move(targets));
  }

  void Leave(Member* m, bool kill) {
    m->alive = false;
    UpdateOperatorTargets();
    const absl::Time t = absl::Now();
    absl::StatusOr<int> code = kill ? m->sidecar->Kill() : m->sidecar->Terminate(absl::Seconds(60));
    ASSERT_TRUE(code.ok()) << m->name << ": " << code.status();
    EXPECT_EQ(*code, kill ? 128 + 9 : 0) << m->name << " exited with " << *code;
    Log(absl::StrCat(m->name, kill ? " killed (SIGKILL)" : " terminated (SIGTERM), exit code ",
                     kill ? "" : std::to_string(*code), " in ", Seconds(absl::Now() - t)));
    if (m->handler->WaitForFinish(absl::Seconds(30)) == std::nullopt) m->handler->Disconnect();
  }

  // What the member's stream is bound to now, read in place: a Snapshot()
  // would copy every message the handler ever received.
  static std::set<TopicPartitionKey> AssignedOf(const TestHandler& h) {
    std::set<TopicPartitionKey> out;
    h.WaitFor(
        [&out](const HandlerState& s) {
          out = s.assigned;
          return true;
        },
        absl::ZeroDuration());
    return out;
  }

  // Partition -> member, as the live members' AssignmentChanges say.
  std::map<int32_t, int> Owners() const {
    std::map<int32_t, int> owners;
    for (const auto& m : members_) {
      if (!m->alive) continue;
      for (const auto& [topic, partition] : AssignedOf(*m->handler)) {
        owners[partition] = m->index;
      }
    }
    return owners;
  }

  int LiveMembers() const {
    return static_cast<int>(std::count_if(members_.begin(), members_.end(),
                                          [](const auto& m) { return m->alive; }));
  }

  // Settled: every partition bound to exactly one live member, each live
  // member holding some, and every partition with a backlog delivered
  // within the last 3 s.
  bool Settled(const Offsets& end) const {
    std::map<int32_t, int> bound;
    for (const auto& m : members_) {
      if (!m->alive) continue;
      const std::set<TopicPartitionKey> assigned = AssignedOf(*m->handler);
      if (assigned.empty()) return false;
      for (const auto& [topic, partition] : assigned) ++bound[partition];
    }
    if (static_cast<int>(bound.size()) != kPartitions) return false;
    for (const auto& [p, n] : bound) {
      if (n != 1) return false;
    }
    const absl::Time now = absl::Now();
    const auto progress = log_.progress();
    for (int32_t p = 0; p < kPartitions; ++p) {
      auto it = progress.find(p);
      if (it == progress.end()) return false;
      const bool backlog = it->second.second + 1 < end.at(p);
      if (backlog && now - it->second.first > absl::Seconds(3)) return false;
    }
    return true;
  }

  // Runs one membership change and waits until the group has settled, at
  // least `at_least` after it began.
  void RunStep(const std::string& name, StepKind kind, const std::function<void(Step*)>& change,
               absl::Duration at_least, const Offsets& end) {
    Step step;
    step.name = name;
    step.kind = kind;
    step.owner_before = Owners();
    step.from = absl::Now();
    Log(absl::StrCat("step ", name, ": begins with ", LiveMembers(), " members"));
    change(&step);
    if (::testing::Test::HasFatalFailure()) return;
    const bool settled = PollUntil(
        [&] { return absl::Now() - step.from >= at_least && Settled(end); }, absl::Seconds(90),
        absl::Milliseconds(100));
    EXPECT_TRUE(settled) << "step " << name << ": the group did not settle within 90 s";
    step.to = absl::Now();
    step.owner_after = Owners();
    Log(absl::StrCat("step ", name, ": settled after ", Seconds(step.to - step.from), " with ",
                     LiveMembers(), " members"));
    steps_.push_back(std::move(step));
  }

  // The longest time within [from, to) that `partition` went without a
  // delivery while it had a backlog, not counting operator pauses.
  absl::Duration LongestStall(const std::vector<absl::Time>& times, absl::Time backlog_end,
                              const std::vector<Interval>& pauses, absl::Time from,
                              absl::Time to) const {
    to = std::min(to, backlog_end);
    if (to <= from) return absl::ZeroDuration();
    std::vector<absl::Time> points;
    absl::Time before = absl::InfinitePast();
    for (absl::Time t : times) {
      if (t < from) before = std::max(before, t);
      if (t >= from && t < to) points.push_back(t);
    }
    // A gap that began before the step counts from its start.
    points.insert(points.begin(), before == absl::InfinitePast() ? from : before);
    points.push_back(to);
    absl::Duration longest;
    for (size_t i = 1; i < points.size(); ++i) {
      const absl::Time a = std::max(points[i - 1], from);
      const absl::Time b = points[i];
      if (b <= a) continue;
      absl::Duration gap = b - a;
      for (const Interval& pause : pauses) {
        const absl::Time x = std::max(a, pause.from);
        const absl::Time y = std::min(b, pause.to);
        if (y > x) gap -= y - x;
      }
      longest = std::max(longest, gap);
    }
    return longest;
  }

  StepFigures Measure(const Step& step, const Offsets& end,
                      const std::map<int32_t, std::vector<Interval>>& pauses) const {
    StepFigures f;
    const std::vector<Delivery> deliveries = log_.deliveries();
    std::map<int32_t, std::set<int>> receivers;  // who got each partition in the step
    std::map<int32_t, std::vector<absl::Time>> times;
    std::map<int32_t, absl::Time> backlog_end;   // last offset first delivered
    for (const Delivery& d : deliveries) {
      times[d.partition].push_back(d.at);
      if (d.offset + 1 == end.at(d.partition) && !backlog_end.count(d.partition)) {
        backlog_end[d.partition] = d.at;
      }
      if (d.at >= step.from && d.at < step.to) receivers[d.partition].insert(d.member);
      if (step.new_member >= 0 && d.member == step.new_member && !f.join_to_first_delivery) {
        f.join_to_first_delivery = d.at - *step.new_member_launched;
      }
    }
    for (int32_t p = 0; p < kPartitions; ++p) {
      auto before = step.owner_before.find(p);
      auto after = step.owner_after.find(p);
      const bool same_owner = before != step.owner_before.end() &&
                              after != step.owner_after.end() && before->second == after->second;
      const bool one_receiver =
          receivers[p].empty() || (receivers[p].size() == 1 && same_owner &&
                                   *receivers[p].begin() == before->second);
      (same_owner && one_receiver ? f.kept : f.moved).insert(p);
    }
    // What one partition can have unsettled: partition_workers (1) batches.
    f.moved_bound = static_cast<int64_t>(f.moved.size()) * kBatchSize;
    if (step.kind == StepKind::kLeaveSigkill) f.moved_bound += step.uncommitted_at_kill;
    for (const Delivery& d : log_.duplicates()) {
      if (d.at < step.from || d.at >= step.to) continue;
      (f.kept.count(d.partition) ? f.kept_duplicates : f.moved_duplicates) += 1;
    }
    for (int32_t p = 0; p < kPartitions; ++p) {
      const absl::Time done =
          backlog_end.count(p) ? backlog_end.at(p) : absl::InfiniteFuture();
      auto pp = pauses.find(p);
      const absl::Duration stall =
          LongestStall(times[p], done, pp == pauses.end() ? std::vector<Interval>{} : pp->second,
                       step.from, step.to);
      if (f.kept.count(p)) f.kept_stall = std::max(f.kept_stall, stall);
      if (stall > f.any_stall) {
        f.any_stall = stall;
        f.any_stall_partition = p;
      }
    }
    return f;
  }

  absl::Time start_ = absl::Now();
  DeliveryLog log_;
  std::shared_ptr<Pacer> pacer_ = std::make_shared<Pacer>(kRate);
  std::unique_ptr<Operator> operator_;
  std::vector<std::unique_ptr<Member>> members_;
  std::vector<std::unique_ptr<TestHandler>> handlers_;
  std::vector<Step> steps_;
};

TEST_P(ScaleOutE2eTest, JoinsAndLeavesKeepPartitionsAndRedeliverOnlyWhatMoved) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  if (consumer_protocol()) {
    // The consumer protocol's session and heartbeat are the broker's; an
    // operator tunes them per group. Short ones keep the SIGKILL step brief.
    absl::Status configured = broker_->SetGroupConfig(
        group, {{"consumer.session.timeout.ms", std::to_string(kSessionTimeoutMs)},
                {"consumer.heartbeat.interval.ms", "1000"}});
    ASSERT_TRUE(configured.ok()) << configured;
  }
  const absl::Time produce_start = absl::Now();
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(Sum(*end), kMessages) << Format(*end);
  Log(absl::StrCat("produced ", kMessages, " messages in ", Seconds(absl::Now() - produce_start)));
  operator_ = std::make_unique<Operator>(topic, 20261205);
  const SidecarOptions options = MemberOptions(group, topic);

  Member* first = Join(options, /*wait_ready=*/true);
  ASSERT_NE(first, nullptr);
  operator_->Start();
  ASSERT_TRUE(PollUntil([&] { return Settled(*end) && log_.acked() >= 10000; },
                        absl::Seconds(60)))
      << "the first member never got going";
  Log(absl::StrCat("first member consuming; ", log_.acked(), " acked"));

  Member* second = nullptr;
  Member* third = nullptr;
  auto join_step = [&](const std::string& name, Member** joined) {
    RunStep(name, StepKind::kJoin, [&](Step* s) {
      *joined = Join(options, true);
      ASSERT_NE(*joined, nullptr);
      s->new_member = (*joined)->index;
      s->new_member_launched = (*joined)->launched;
    }, absl::Seconds(8), *end);
  };
  join_step("join 1->2", &second);
  ASSERT_FALSE(HasFatalFailure());
  join_step("join 2->3", &third);
  ASSERT_FALSE(HasFatalFailure());
  RunStep("join+SIGTERM within 2 s", StepKind::kJoinAndQuickLeave, [&](Step*) {
    Member* brief = Join(options, false);
    ASSERT_NE(brief, nullptr);
    const absl::Duration left = absl::Milliseconds(1500) - (absl::Now() - brief->launched);
    // The point of the step: stopped 1.5 s after its start, before its
    // rebalance completes (a deliberate timing, not a wait for anything).
    if (left > absl::ZeroDuration()) absl::SleepFor(left);
    Leave(brief, /*kill=*/false);
  }, absl::Seconds(8), *end);
  ASSERT_FALSE(HasFatalFailure());
  RunStep("leave 3->2 (SIGTERM)", StepKind::kLeaveSigterm, [&](Step*) {
    Leave(third, /*kill=*/false);
  }, absl::Seconds(8), *end);
  ASSERT_FALSE(HasFatalFailure());
  RunStep("leave 2->1 (SIGKILL)", StepKind::kLeaveSigkill, [&](Step* s) {
    Leave(second, /*kill=*/true);
    s->killed_member = second->index;
    // Nothing commits the killed member's partitions until they move.
    absl::StatusOr<Offsets> committed = broker_->CommittedOffsets(group, topic);
    ASSERT_TRUE(committed.ok()) << committed.status();
    for (const auto& [partition, member] : s->owner_before) {
      if (member != second->index) continue;
      const int64_t last = log_.LastDelivered(second->index, partition);
      const auto c = committed->find(partition);
      const int64_t from = c == committed->end() ? 0 : c->second;
      s->uncommitted_at_kill += std::max<int64_t>(0, last + 1 - from);
    }
  }, absl::Seconds(kSessionTimeoutMs / 1000 + 4), *end);
  ASSERT_FALSE(HasFatalFailure());

  // The rest as fast as the last member goes.
  pacer_->SetRate(0);
  const bool all = PollUntil([&] { return log_.distinct() >= static_cast<size_t>(kMessages); },
                             absl::Minutes(3));
  operator_->Stop();
  EXPECT_TRUE(all) << "delivered " << log_.distinct() << " of " << kMessages;
  absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(2));
  EXPECT_TRUE(committed.ok()) << committed;
  Leave(first, /*kill=*/false);

  // Every offset of the log was delivered.
  const std::set<PartitionOffset> seen = log_.first_seen();
  int64_t missing = 0;
  for (const auto& [partition, end_offset] : *end) {
    for (int64_t o = 0; o < end_offset; ++o) missing += seen.count({partition, o}) ? 0 : 1;
  }
  EXPECT_EQ(missing, 0) << "offsets never delivered";

  // No member lost an assignment: every change here is graceful, and the
  // killed member cannot log.
  for (const auto& m : members_) {
    const std::string log = m->sidecar->log();
    EXPECT_EQ(log.find("(lost)"), std::string::npos)
        << m->name << " lost partitions:\n" << Tail(log, 6000);
  }
  EXPECT_TRUE(operator_->saw_backpressure())
      << "fetching never paused for backpressure: the handler was not slow enough";
  EXPECT_GT(operator_->pause_count(), 10) << "the operator hardly paused anything";

  const auto pauses = operator_->pauses();
  size_t total_duplicates = 0;
  absl::Duration worst_kept, worst_any;
  for (const Step& step : steps_) {
    const StepFigures f = Measure(step, *end, pauses);
    total_duplicates += f.kept_duplicates + f.moved_duplicates;
    worst_kept = std::max(worst_kept, f.kept_stall);
    worst_any = std::max(worst_any, f.any_stall);
    std::cout << "SCALE-OUT protocol=" << GetParam() << " step=\"" << step.name
              << "\" moved=" << f.moved.size() << " kept=" << f.kept.size()
              << " duplicates=" << f.kept_duplicates + f.moved_duplicates
              << " (kept " << f.kept_duplicates << ", moved " << f.moved_duplicates
              << ", bound " << f.moved_bound << ") longest_kept_stall=" << Seconds(f.kept_stall)
              << " longest_stall=" << Seconds(f.any_stall) << " (partition "
              << f.any_stall_partition << ")"
              << (f.join_to_first_delivery
                      ? absl::StrCat(" join_to_first_delivery=", Seconds(*f.join_to_first_delivery))
                      : std::string())
              << std::endl;
    EXPECT_EQ(f.kept_duplicates, 0u) << step.name << ": kept partitions redelivered acked offsets";
    EXPECT_LE(static_cast<int64_t>(f.moved_duplicates), f.moved_bound)
        << step.name << ": more duplicates than could have been in flight on what moved";
    EXPECT_LE(f.kept_stall, kKeptStallLimit) << step.name << ": a kept partition stalled";
    EXPECT_LE(f.any_stall, kAnyStallLimit)
        << step.name << ": partition " << f.any_stall_partition << " stalled";
  }
  std::cout << "SCALE-OUT-RUN protocol=" << GetParam() << " messages=" << kMessages
            << " deliveries=" << log_.deliveries().size() << " duplicates=" << total_duplicates
            << " longest_kept_stall=" << Seconds(worst_kept)
            << " longest_stall=" << Seconds(worst_any)
            << " operator_pauses=" << operator_->pause_count() << std::endl;
}

// A member stopped before it owns any partition (more members than
// partitions, or stopped while its first rebalance is still under way) must
// leave the group at once: until it does, the coordinator counts it, and a
// rebalance in progress waits for it for a whole session timeout (45 s by
// default, the setting here). The group's member count is read from the
// coordinator by Kafka's own tool.
TEST_P(ScaleOutE2eTest, AMemberWithoutPartitionsLeavesTheGroupOnSigterm) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  ASSERT_TRUE(broker_->CreateTopic(topic, 1).ok());
  std::map<std::string, std::string> overrides;
  if (consumer_protocol()) overrides["kafka.group_protocol"] = "consumer";
  const SidecarOptions options = Options(group, {topic}, overrides);
  auto members = [&] {
    absl::StatusOr<int> n = broker_->GroupMemberCount(group);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  };

  SidecarProcess* owner = LaunchSidecar(options);
  ASSERT_NE(owner, nullptr);
  ASSERT_TRUE(PollUntil([&] { return members() == 1; }, absl::Seconds(60)));
  const int idle_http = PickFreePort();
  SidecarOptions idle_options = options;
  idle_options.overrides["server.http_listen"] = absl::StrCat("\"127.0.0.1:", idle_http, "\"");
  idle_options.overrides["observability.health_check_interval_ms"] = "200";
  SidecarProcess* idle = LaunchSidecar(idle_options);
  ASSERT_NE(idle, nullptr);
  ASSERT_TRUE(PollUntil([&] { return members() == 2; }, absl::Seconds(60)))
      << "the second member never joined";
  // Its join completed, with nothing assigned: the group check of its
  // readiness probe (a member stopped while its JoinGroup is still pending
  // leaves by another path).
  ASSERT_TRUE(PollUntil(
      [&] {
        absl::StatusOr<HttpResponse> ready = HttpGet(idle_http, "/readyz");
        return ready.ok() && ready->status == 200;
      },
      absl::Seconds(60)))
      << idle->log();

  const absl::Time stopped = absl::Now();
  absl::StatusOr<int> code = idle->Terminate(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(PollUntil([&] { return members() == 1; }, absl::Seconds(15)))
      << "the stopped member stayed in the group (no LeaveGroup; it goes only when its "
         "session expires)";
  std::cout << "[ STEP     ] the idle member was out of the group "
            << absl::FormatDuration(absl::Trunc(absl::Now() - stopped, absl::Milliseconds(10)))
            << " after SIGTERM" << std::endl;
}

INSTANTIATE_TEST_SUITE_P(GroupProtocols, ScaleOutE2eTest, ::testing::Values("classic", "consumer"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace kafka_sidecar::testing
