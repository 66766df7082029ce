#include "sidecar/health/health_monitor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {
namespace {

int64_t Seconds(MonoTime::duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

HealthMonitor::HealthMonitor(HealthMonitorOptions options, const Clock& clock,
                             const KafkaPartitionView* kafka, const StatsSource* stats,
                             std::vector<Dispatcher*> dispatchers, OnChange on_change)
    : options_(std::move(options)),
      clock_(clock),
      kafka_(kafka),
      stats_(stats),
      dispatchers_(std::move(dispatchers)),
      on_change_(std::move(on_change)),
      started_(clock.Now()) {
  // Not ready until the first check has seen Kafka and the group.
  current_.live = true;
  current_.ready = false;
  current_.checks.push_back(HealthCheck{"startup", false, "first health check not run yet"});
}

HealthStatus HealthMonitor::Current() const {
  MutexLock l(&mu_);
  return current_;
}

uint64_t HealthMonitor::dispatcher_restarts() const {
  MutexLock l(&mu_);
  return restarts_;
}

void HealthMonitor::MarkDraining() {
  MutexLock l(&mu_);
  current_.ready = false;
  current_.checks.push_back(HealthCheck{"shutdown", false, "draining: shutting down"});
}

std::optional<std::string> HealthMonitor::StartupFailure() const {
  MutexLock l(&mu_);
  return startup_failure_;
}

HealthCheck HealthMonitor::CheckKafka(MonoTime now, const BrokerConnectivity& c, bool* live) {
  if (c.any_broker_up) return HealthCheck{"kafka", true, "connected"};
  if (!c.last_up && options_.startup_timeout.count() > 0 &&
      now - started_ >= options_.startup_timeout) {
    MutexLock l(&mu_);
    if (!startup_failure_) {
      startup_failure_ = absl::StrCat(
          "no Kafka broker reached at ", options_.bootstrap_servers, " in ",
          Seconds(now - started_), " s since start (kafka.startup_timeout_ms)",
          c.last_error.empty() ? "" : "; last error: ", c.last_error);
    }
  }
  const MonoTime since = c.last_up.value_or(started_);
  std::string detail =
      c.last_up ? absl::StrCat("no broker connection for ", Seconds(now - since), " s")
                : absl::StrCat("no broker connection since start (", Seconds(now - since), " s)");
  if (!c.last_error.empty()) absl::StrAppend(&detail, "; last error: ", c.last_error);
  // A short outage is Kafka's to recover from; a long one fails liveness so
  // a restart gets a fresh client (and the orchestrator sees the problem).
  if (now - since >= options_.stall_timeout) *live = false;
  return HealthCheck{"kafka", false, std::move(detail)};
}

HealthCheck HealthMonitor::CheckGroup(const BrokerConnectivity& c) {
  if (c.group_joined) return HealthCheck{"group", true, absl::StrCat("joined ", options_.group_id)};
  return HealthCheck{"group", false, absl::StrCat("consumer group ", options_.group_id,
                                                  " not joined")};
}

HealthCheck HealthMonitor::CheckDispatcher(MonoTime now, Dispatcher& d, bool* live, bool* ready) {
  const std::string name = absl::StrCat("dispatcher-", d.index());
  if (std::optional<std::string> failure = d.failure()) {
    absl::Status restarted = d.Restart();
    if (restarted.ok()) {
      MutexLock l(&mu_);
      ++restarts_;
      return HealthCheck{name, true, absl::StrCat("restarted after: ", *failure)};
    }
    *ready = false;
    *live = false;
    return HealthCheck{name, false,
                       absl::StrCat("failed (", *failure, "); restart failed: ",
                                    restarted.message())};
  }
  const auto idle = now - d.last_progress();
  if (idle >= options_.stall_timeout) {
    *ready = false;
    *live = false;
    return HealthCheck{name, false,
                       absl::StrCat("hung: its loop made no progress for ", Seconds(idle), " s")};
  }
  return HealthCheck{name, true, ""};
}

void HealthMonitor::CheckStalls(MonoTime now, const v1::GetStatsResponse& stats,
                                std::vector<HealthCheck>* out) {
  std::map<TopicPartition, Progress> seen;
  for (const v1::PartitionStats& p : stats.partitions()) {
    const TopicPartition tp{p.topic(), p.partition()};
    auto it = progress_.find(tp);
    Progress progress{p.delivered(), now};
    // A paused partition is meant to stand still; one without lag has
    // nothing to deliver.
    if (it != progress_.end() && it->second.delivered == p.delivered() && !p.paused() &&
        p.lag() > 0) {
      progress.since = it->second.since;
    }
    seen[tp] = progress;
    const bool stalled = now - progress.since >= options_.stall_timeout;
    if (!stalled) {
      if (stalled_.erase(tp) > 0) spdlog::info("health: partition {} is moving again", tp.ToString());
      continue;
    }
    std::string detail = absl::StrCat("lag ", p.lag(), ", nothing delivered for ",
                                      Seconds(now - progress.since), " s");
    if (p.stream_id().empty()) absl::StrAppend(&detail, " (no handler stream connected)");
    if (stalled_.insert(tp).second) {
      spdlog::warn("health: partition {} stalled: {}", tp.ToString(), detail);
    }
    out->push_back(HealthCheck{absl::StrCat("stalled:", tp.ToString()), false, std::move(detail)});
  }
  // Partitions no longer assigned are forgotten.
  for (auto it = stalled_.begin(); it != stalled_.end();) {
    it = seen.count(*it) ? std::next(it) : stalled_.erase(it);
  }
  progress_.swap(seen);
}

bool HealthMonitor::CheckDeadLetterPauses(const v1::GetStatsResponse& stats,
                                          std::vector<HealthCheck>* out) {
  bool ok = true;
  for (const v1::PartitionStats& p : stats.partitions()) {
    if (!p.paused() || p.pause_cause() != v1::PAUSE_CAUSE_DEAD_LETTER) continue;
    ok = false;
    out->push_back(HealthCheck{absl::StrCat("dead-letter:", p.topic(), "/", p.partition()), false,
                               p.pause_reason()});
  }
  return ok;
}

HealthStatus HealthMonitor::Check() {
  const MonoTime now = clock_.Now();
  HealthStatus status;
  status.live = true;
  const BrokerConnectivity c = kafka_->Connectivity();
  status.checks.push_back(CheckKafka(now, c, &status.live));
  status.checks.push_back(CheckGroup(c));
  status.ready = status.checks[0].ok && status.checks[1].ok;
  for (Dispatcher* d : dispatchers_) {
    status.checks.push_back(CheckDispatcher(now, *d, &status.live, &status.ready));
  }
  // Stalls are reported, not acted on: neither a restart nor taking the pod
  // out of service moves a partition whose handler is missing or stuck.
  const v1::GetStatsResponse stats = stats_->Collect();
  CheckStalls(now, stats, &status.checks);
  // Not ready, still live: a restart cannot make the dead-letter topic take
  // the record, and the operator has to see it.
  if (!CheckDeadLetterPauses(stats, &status.checks)) status.ready = false;
  if (options_.readiness_checks) {
    const size_t first = status.checks.size();
    options_.readiness_checks(&status.checks);
    for (size_t i = first; i < status.checks.size(); ++i) {
      if (!status.checks[i].ok) status.ready = false;
    }
  }

  // Log what changed, once.
  std::set<std::string> failing;
  for (const HealthCheck& check : status.checks) {
    if (check.ok) continue;
    failing.insert(check.name);
    if (!failing_.count(check.name) && check.name.rfind("stalled:", 0) != 0) {
      spdlog::warn("health: {}: {}", check.name, check.detail);
    }
  }
  for (const std::string& name : failing_) {
    if (!failing.count(name) && name.rfind("stalled:", 0) != 0) spdlog::info("health: {}: ok", name);
  }
  failing_.swap(failing);

  bool changed;
  {
    MutexLock l(&mu_);
    changed = first_ || current_.live != status.live || current_.ready != status.ready;
    current_ = status;
  }
  if (changed) {
    spdlog::info("health: {}, {}", status.live ? "live" : "NOT live",
                 status.ready ? "ready" : "not ready");
    first_ = false;
    if (on_change_) on_change_(status);
  }
  return status;
}

}  // namespace kafka_sidecar
