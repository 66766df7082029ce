#include "sidecar/dispatch/dispatcher_impl.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "sidecar/dispatch/batch_builder.h"
#include "sidecar/common/quote.h"
#include "sidecar/dispatch/batch_id.h"
#include "sidecar/stream/stream_session.h"

namespace kafka_sidecar {
namespace {

constexpr Millis kIdleWait{100};
// How stale per-partition stats may be.
constexpr Millis kStatsPublishInterval{100};
// A handler's reason in a log line; the dead-letter header keeps all of it
// (up to the request limit, kMaxReasonBytes).
constexpr size_t kLoggedReasonBytes = 256;

}  // namespace

DispatcherImpl::DispatcherImpl(DispatcherOptions options, DispatchQueue* queue,
                               PartitionControl* control, SidecarStats* stats, const Clock& clock,
                               Random* random)
    : options_(options),
      queue_(queue),
      control_(control),
      stats_(stats),
      clock_(clock),
      backoff_(options.retry_backoff, options.retry_backoff_max, random) {}

DispatcherImpl::~DispatcherImpl() { Stop(); }

void DispatcherImpl::Post(DispatcherCommand command) {
  {
    MutexLock l(&mu_);
    inbox_.push_back(std::move(command));
  }
  queue_->Wake();
}

void DispatcherImpl::Start() {
  progress_ns_.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now().time_since_epoch()).count(),
      std::memory_order_relaxed);
  thread_ = std::thread([this] { Run(); });
}

void DispatcherImpl::Stop() {
  stop_.store(true);
  queue_->Wake();
  if (thread_.joinable()) thread_.join();
}

void DispatcherImpl::Run() {
  while (!stop_.load(std::memory_order_relaxed)) {
    if (!RunOnceGuarded(kIdleWait)) return;  // the health monitor restarts it
  }
  // Give back stream windows for whatever is still in flight.
  for (auto& [tp, p] : partitions_) {
    uint64_t dropped = 0;
    p->DropInFlight(&dropped);
    stats_->AddInFlight(-static_cast<int64_t>(dropped));
  }
}

bool DispatcherImpl::RunOnceGuarded(Millis max_wait) {
  // Nothing on the data path throws by design; what still can (allocation
  // failure, a broken invariant in a library) must not end the process or
  // leave this dispatcher's partitions unserved without a word.
  std::string what;
  try {
    RunOnce(max_wait);
    return true;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  spdlog::critical("dispatcher {}: loop failed: {}; its {} partitions wait for a restart",
                   options_.index, what, partitions_.size());
  MutexLock l(&failure_mu_);
  failure_ = what;
  return false;
}

MonoTime DispatcherImpl::last_progress() const {
  return MonoTime(std::chrono::nanoseconds(progress_ns_.load(std::memory_order_relaxed)));
}

std::optional<std::string> DispatcherImpl::failure() const {
  MutexLock l(&failure_mu_);
  return failure_;
}

absl::Status DispatcherImpl::Restart() {
  if (!failure()) {
    return absl::FailedPreconditionError(
        absl::StrCat("dispatcher ", options_.index, " has not failed"));
  }
  if (thread_.joinable()) thread_.join();
  Recover();
  Start();
  return absl::OkStatus();
}

void DispatcherImpl::Recover() {
  // Commands not applied yet survive; the one that was being applied when
  // the loop failed is dropped, or it would fail the loop again.
  if (next_command_ < commands_.size()) {
    std::vector<DispatcherCommand> rest(std::make_move_iterator(commands_.begin() + next_command_ + 1),
                                        std::make_move_iterator(commands_.end()));
    MutexLock l(&mu_);
    rest.insert(rest.end(), std::make_move_iterator(inbox_.begin()),
                std::make_move_iterator(inbox_.end()));
    inbox_.swap(rest);
  }
  commands_.clear();
  next_command_ = 0;
  // Records the failed loop had taken from Kafka but not yet handed to their
  // partitions: librdkafka's position is past them, so a partition that holds
  // nothing else must be sent back to the first of them.
  absl::flat_hash_map<TopicPartition, int64_t> first_unhanded;
  for (size_t i = handed_; i < fetched_.size(); ++i) {
    const FetchedRecord& f = fetched_[i];
    auto [it, inserted] = first_unhanded.try_emplace(
        TopicPartition{std::string(f.topic), f.partition}, f.record.offset);
    if (!inserted) it->second = std::min(it->second, f.record.offset);
  }
  fetched_.clear();
  batch_owner_.clear();
  dead_letter_retries_.clear();
  next_timer_ = MonoTime::max();
  last_found_ = nullptr;
  uint64_t lost_in_flight = 0;
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    PartitionState& old = *it->second;
    if (old.revoking) {
      // Its revoke is answered now, with what is safe to commit.
      FinishRevoke(old);
      partitions_.erase(it++);
      continue;
    }
    uint64_t dropped = 0;
    old.DropInFlight(&dropped);
    lost_in_flight += dropped;
    // A fresh life (new epoch: dead-letter results of the old one are
    // ignored), keeping what is not delivery state.
    auto fresh = std::make_unique<PartitionState>(old.tp(), next_epoch_++, options_.throttle);
    fresh->stream = old.rebinding ? old.next_stream : old.stream;
    fresh->manual_pause = old.manual_pause;
    fresh->stored_offset = old.stored_offset;
    // Everything from the first unsettled offset is fetched again; so is a
    // record that was fetched but never reached the partition. A partition
    // with nothing in hand fetches on from where it was.
    std::optional<int64_t> from = old.Watermark();
    if (auto f = first_unhanded.find(old.tp()); f != first_unhanded.end()) {
      from = std::min(from.value_or(f->second), f->second);
    }
    if (from || old.fetch_paused) {
      if (absl::Status s = control_->Resume(old.tp(), from); !s.ok()) {
        spdlog::error("partition {}: restart: {}", old.tp().ToString(), s.ToString());
      }
    }
    it->second = std::move(fresh);
    ++it;
  }
  stats_->AddInFlight(-static_cast<int64_t>(lost_in_flight));
  PartitionsChanged();
  {
    MutexLock l(&failure_mu_);
    failure_.reset();
  }
  spdlog::warn("dispatcher {}: restarted; {} partitions refetch from their first unsettled "
               "offset, {} in-flight messages will be delivered again",
               options_.index, partitions_.size(), lost_in_flight);
}

void DispatcherImpl::RunOnce(Millis max_wait) {
  progress_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                         clock_.Now().time_since_epoch())
                         .count(),
                     std::memory_order_relaxed);
  ProcessCommands();
  fetched_.clear();
  handed_ = 0;
  const bool drained =
      queue_->Consume(NextWait(clock_.Now(), max_wait), options_.consume_batch, &fetched_);
  const MonoTime now = clock_.Now();
  if (!fetched_.empty()) Ingest(fetched_, now);
  ProcessCommands();
  RunTimers(now);
  // Start one partition further each loop, so that when stream windows are
  // tight no partition is always served last.
  const size_t n = order_.size();
  for (size_t i = 0; i < n; ++i) {
    PartitionState& p = *order_[(next_first_ + i) % n];
    Deliver(p, drained, now);
    UpdateFetchPause(p, now);
    StoreOffset(p);
  }
  if (n > 0) next_first_ = (next_first_ + 1) % n;
  FinishRevokes(now);
  PublishStats(now);
}

Millis DispatcherImpl::NextWait(MonoTime now, Millis max_wait) const {
  MonoTime deadline = std::min(now + max_wait, next_timer_);
  for (const auto& [tp, p] : partitions_) {
    if (p->revoking) deadline = std::min(deadline, p->revoke_deadline);
    // Only a partition that could send when its batch times out sets a
    // deadline; one waiting for window room is woken by the settlement.
    if (p->pending_count() > 0 && p->stream && !p->rebinding && !p->revoking && !draining_ &&
        !p->window_blocked && !p->hold_until && !p->manual_pause && !p->dead_letter_paused() &&
        !p->throttle().paused_until() && p->in_flight_batches() < options_.partition_workers) {
      deadline = std::min(deadline, p->pending_since() + options_.batch_timeout);
    }
  }
  if (deadline <= now) return Millis(0);
  // Round up so a wait never ends just before its deadline.
  return std::chrono::ceil<Millis>(deadline - now);
}

void DispatcherImpl::ProcessCommands() {
  {
    MutexLock l(&mu_);
    if (inbox_.empty()) return;
    commands_.swap(inbox_);
  }
  for (next_command_ = 0; next_command_ < commands_.size(); ++next_command_) {
    std::visit([this](auto& cmd) { Apply(cmd); }, commands_[next_command_]);
  }
  commands_.clear();
  next_command_ = 0;
}

void DispatcherImpl::Apply(cmd::Assign& c) {
  auto& slot = partitions_[c.tp];
  if (slot != nullptr && slot->revoking) {
    // Assigned again before the revoke finished (its waiter gave up): close
    // the old life first so the new one starts clean.
    FinishRevoke(*slot);
    slot.reset();
  }
  if (slot == nullptr) {
    slot = std::make_unique<PartitionState>(c.tp, next_epoch_++, options_.throttle);
  }
  PartitionsChanged();
}

void DispatcherImpl::Apply(cmd::Revoke& c) {
  auto it = partitions_.find(c.tp);
  if (it == partitions_.end()) {
    c.result->Done(c.tp, std::nullopt);
    return;
  }
  PartitionState& p = *it->second;
  p.revoking = true;
  p.revoke_deadline = clock_.Now() + c.wait;
  p.revoke_result = c.result;
  p.revoke_started = clock_.Now();
}

void DispatcherImpl::Apply(cmd::Bind& c) {
  auto it = partitions_.find(c.tp);
  if (it == partitions_.end()) return;
  PartitionState& p = *it->second;
  if (p.stream == c.stream) {
    p.rebinding = false;
    p.next_stream.reset();
    return;
  }
  p.next_stream = std::move(c.stream);
  p.rebinding = true;
  MaybeCompleteRebind(p);
}

void DispatcherImpl::MaybeCompleteRebind(PartitionState& p) {
  // Moving a partition waits for its in-flight settlements, so the new
  // stream never sees a record before the old one has finished with earlier
  // ones (SPEC §3 partition binding).
  if (!p.rebinding || p.in_flight_batches() > 0) return;
  p.stream = std::move(p.next_stream);
  p.next_stream.reset();
  p.rebinding = false;
}

void DispatcherImpl::Apply(cmd::StreamClosed& c) {
  for (auto& [tp, p] : partitions_) {
    uint64_t returned = 0;
    for (uint64_t id : p->ReturnInFlight(c.stream_id, &returned)) batch_owner_.erase(id);
    if (returned > 0) {
      stats_->AddInFlight(-static_cast<int64_t>(returned));
      spdlog::info("partition {}: {} unsettled messages of closed stream {} queued for redelivery",
                   tp.ToString(), returned, c.stream_id);
    }
    if (p->stream && p->stream->id() == c.stream_id) p->stream.reset();
    if (p->next_stream && p->next_stream->id() == c.stream_id) p->next_stream.reset();
    MaybeCompleteRebind(*p);
  }
}

void DispatcherImpl::Apply(cmd::Settle& c) {
  const MonoTime now = clock_.Now();
  for (const v1::Settlement& s : c.settlements) ApplySettlement(c.stream_id, s, now);
}

void DispatcherImpl::ApplySettlement(const std::string& stream_id, const v1::Settlement& s,
                                     MonoTime now) {
  auto owner = batch_owner_.find(s.batch_id());
  if (owner == batch_owner_.end()) {
    stats_->RecordStale(s.offsets_size() == 0 ? 1 : s.offsets_size());
    return;
  }
  PartitionState& p = *owner->second;
  SettleEffect e = p.Settle(stream_id, s, now);
  if (e.stale > 0) stats_->RecordStale(e.stale);
  if (e.release.stream != nullptr && e.release.messages > 0) {
    e.release.stream->ReleaseWindow(e.release.messages, e.release.bytes);
    stats_->AddInFlight(-static_cast<int64_t>(e.release.messages));
    e.release.stream->processed.fetch_add(e.acked, std::memory_order_relaxed);
    e.release.stream->failed.fetch_add(e.rejected.size(), std::memory_order_relaxed);
  }
  if (e.acked > 0) stats_->RecordProcessed(p.tp(), e.acked, e.latency_ms);
  if (e.batch_done) batch_owner_.erase(owner);
  if (!e.rejected.empty()) {
    spdlog::debug("partition {}: {} messages rejected by the handler ({})", p.tp().ToString(),
                  e.rejected.size(), QuoteForLog(s.reason(), kLoggedReasonBytes));
    if (options_.rejects_count_toward_threshold) {
      CountErrors(p, e.rejected.size(), now);
    } else {
      p.counters.errors += e.rejected.size();
    }
    GiveUp(p, std::move(e.rejected), now);
  }
  if (!e.retry.empty()) {
    const size_t given_up =
        Retry(p, std::move(e.retry), s.retry_after_ms(), DeliveryCause::kRetry, now);
    if (e.release.stream != nullptr) {
      e.release.stream->failed.fetch_add(given_up, std::memory_order_relaxed);
    }
  }
  MaybeCompleteRebind(p);
}

size_t DispatcherImpl::Retry(PartitionState& p, std::vector<PendingRecord> records,
                             uint32_t retry_after_ms, DeliveryCause cause, MonoTime now) {
  CountErrors(p, records.size(), now);
  std::vector<PendingRecord> again;
  std::vector<PendingRecord> exhausted;
  for (PendingRecord& r : records) {
    ++r.retries;
    if (r.retries > options_.max_retries) {
      r.reason = absl::StrCat("retries exhausted after ", r.attempt, " deliveries",
                              r.reason.empty() ? "" : ": ", r.reason);
      exhausted.push_back(std::move(r));
    } else {
      r.cause = cause;
      again.push_back(std::move(r));
    }
  }
  if (!again.empty()) {
    p.counters.retried += again.size();
    stats_->RecordRetried(p.tp(), again.size());
    if (options_.ordering == OrderingMode::kPartition) {
      // Rewind: nothing after the earliest retried offset may be processed
      // before it, so later deliveries still out are taken back (their
      // settlements become stale) and delivery resumes at that offset once
      // its backoff is over. ACKed offsets stay settled and are skipped.
      auto first = std::min_element(again.begin(), again.end(),
                                    [](const PendingRecord& a, const PendingRecord& b) {
                                      return a.record.offset < b.record.offset;
                                    });
      const MonoTime resume = now + backoff_.Delay(first->retries, retry_after_ms);
      Withdrawn cancelled = p.CancelAfter(first->record.offset);
      Withdraw(p, cancelled);
      for (auto& r : cancelled.records) {
        r.cause = DeliveryCause::kRewind;
        again.push_back(std::move(r));
      }
      p.Redeliver(std::move(again), now);
      p.hold_until = p.hold_until ? std::max(*p.hold_until, resume) : resume;
      ScheduleTimer(*p.hold_until);
    } else {
      for (PendingRecord& r : again) {
        const MonoTime due = now + backoff_.Delay(r.retries, retry_after_ms);
        ++r.attempt;
        p.AddRetry(std::move(r), due);
        ScheduleTimer(due);
      }
    }
  }
  const size_t given_up = exhausted.size();
  if (!exhausted.empty()) GiveUp(p, std::move(exhausted), now);
  return given_up;
}

void DispatcherImpl::GiveUp(PartitionState& p, std::vector<PendingRecord> records, MonoTime) {
  p.counters.failed += records.size();
  stats_->RecordFailed(p.tp(), records.size());
  for (PendingRecord& r : records) {
    if (options_.dead_letters == nullptr) {
      // No dead-letter topic: the seed's behaviour, logged and skipped.
      spdlog::warn("partition {}: offset {} failed after {} deliveries and is skipped: {}",
                   p.tp().ToString(), r.record.offset, r.attempt,
                   r.reason.empty() ? "rejected" : QuoteForLog(r.reason, kLoggedReasonBytes));
      p.Skip(r.record.offset);
      continue;
    }
    const int64_t offset = r.record.offset;
    p.StartDeadLetter(std::move(r));
    ProduceDeadLetter(p, *p.dead_letter(offset), 0);
  }
}

void DispatcherImpl::ProduceDeadLetter(PartitionState& p, const PendingRecord& r,
                                       uint32_t failures) {
  DeadLetterInfo info{p.tp(), r.attempt, r.reason.empty() ? "rejected" : r.reason};
  options_.dead_letters->Produce(
      r.record, info,
      [this, tp = p.tp(), epoch = p.epoch(), offset = r.record.offset,
       failures](absl::Status status) {
        Post(cmd::DeadLettered{tp, epoch, offset, std::move(status), failures});
      });
}

void DispatcherImpl::Apply(cmd::DeadLettered& c) {
  PartitionState* p = Find(c.tp.topic, c.tp.partition);
  // A result for an earlier life of the partition: its next owner
  // redelivers the message from the committed offset.
  if (p == nullptr || p->epoch() != c.epoch || p->dead_letter(c.offset) == nullptr) return;
  if (!c.status.ok()) {
    DeadLetterFailed(*p, c, clock_.Now());
    return;
  }
  p->FinishDeadLetter(c.offset);
  stats_->RecordDeadLettered(p->tp(), 1);
  spdlog::debug("partition {}: offset {} dead-lettered", c.tp.ToString(), c.offset);
  if (p->dead_letter_refused.erase(c.offset) > 0 && !p->dead_letter_paused()) {
    spdlog::info("partition {}: resumed: the dead-letter topic took offset {}", c.tp.ToString(),
                 c.offset);
  }
}

void DispatcherImpl::DeadLetterFailed(PartitionState& p, cmd::DeadLettered& c, MonoTime now) {
  const uint32_t failures = c.failures + 1;
  const bool permanent = IsPermanentDeadLetterFailure(c.status);
  stats_->RecordDeadLetterFailure(p.tp(), permanent);
  const std::string error(c.status.message());
  if (permanent && options_.skip_undeliverable_dead_letters) {
    // The operator chose progress over keeping the message: the log line
    // is all that is left of it, so it says where it was.
    spdlog::error("partition {}: offset {} skipped: the dead-letter topic refuses it for good "
                  "(processing.dead_letter_on_permanent_failure: skip): {}",
                  p.tp().ToString(), c.offset, error);
    p.SkipDeadLetter(c.offset);
    stats_->RecordDeadLetterSkipped(p.tp());
    if (p.dead_letter_refused.erase(c.offset) > 0 && !p.dead_letter_paused()) {
      spdlog::info("partition {}: resumed: no refused dead letter left", p.tp().ToString());
    }
    return;
  }
  Millis delay;
  if (permanent) {
    // Committing past the message would lose it, and retrying cannot fix
    // it: stop the partition, say why everywhere an operator looks, and
    // keep trying now and then so a fixed topic resumes it by itself.
    const bool was_paused = p.dead_letter_paused();
    p.dead_letter_refused.insert_or_assign(c.offset, error);
    if (!was_paused) {
      spdlog::error("partition {}: paused: dead-lettering offset {} failed and retrying cannot "
                    "fix it: {}. Fix the topic, then ResumePartitions (or wait: it is retried "
                    "every {} s); or set processing.dead_letter_on_permanent_failure: skip",
                    p.tp().ToString(), c.offset, error,
                    options_.dead_letter_permanent_retry.count() / 1000);
      TellDeadLetterPaused(p);
    }
    delay = options_.dead_letter_permanent_retry;
  } else {
    if (p.dead_letter_refused.erase(c.offset) > 0 && !p.dead_letter_paused()) {
      spdlog::info("partition {}: resumed: the dead-letter failure of offset {} is now a "
                   "transient one",
                   p.tp().ToString(), c.offset);
    }
    // Doubling, so a dead-letter topic that is away for long is not
    // hammered by every message waiting for it.
    delay = options_.dead_letter_retry;
    for (uint32_t i = 1; i < failures && delay < options_.dead_letter_retry_max; ++i) delay *= 2;
    delay = std::min(delay, options_.dead_letter_retry_max);
    // Powers of two: the first failures, then ever more rarely.
    if ((failures & (failures - 1)) == 0) {
      spdlog::warn("partition {}: dead-lettering offset {} failed ({} in a row), retrying in "
                   "{} ms: {}",
                   p.tp().ToString(), c.offset, failures, delay.count(), error);
    }
  }
  const MonoTime due = now + delay;
  dead_letter_retries_.push_back(DeadLetterRetry{c.tp, c.epoch, c.offset, due, failures});
  ScheduleTimer(due);
}

void DispatcherImpl::TellDeadLetterPaused(PartitionState& p) {
  if (p.stream == nullptr || p.dead_letter_refused.empty()) return;
  Outgoing out = Outgoing::Make();
  v1::PartitionPaused* paused = out.response->mutable_paused();
  paused->mutable_partition()->set_topic(p.tp().topic);
  paused->mutable_partition()->set_partition(p.tp().partition);
  paused->set_reason(DeadLetterReason(p));
  paused->set_resume_in_ms(0);  // not by itself: when the topic takes the record
  p.stream->Send(std::move(out));
}

std::string DispatcherImpl::DeadLetterReason(const PartitionState& p) const {
  const auto& [offset, error] = *p.dead_letter_refused.begin();
  return absl::StrCat("dead letter refused: ", error, " (offset ", offset,
                      p.dead_letter_refused.size() > 1
                          ? absl::StrCat(" and ", p.dead_letter_refused.size() - 1, " more")
                          : "",
                      "); fix the topic, then ResumePartitions");
}

void DispatcherImpl::CountErrors(PartitionState& p, uint64_t n, MonoTime now) {
  p.counters.errors += n;
  // A pause that ran out in this same loop ends here, before the timer pass,
  // so that a pause right after it counts as a repeat.
  if (p.throttle().Expire(now)) {
    spdlog::info("partition {}: resumed after its error pause", p.tp().ToString());
  }
  if (std::optional<Millis> pause = p.throttle().RecordErrors(n, now)) {
    spdlog::warn("partition {}: paused for {} ms after {} errors within {} ms", p.tp().ToString(),
                 pause->count(), options_.throttle.threshold, options_.throttle.window.count());
    ScheduleTimer(now + *pause);
    TellPaused(p, *pause);
  }
}

void DispatcherImpl::TellPaused(PartitionState& p, Millis pause) {
  // The handler's log is where its developer looks; the sidecar's own log
  // may be in another container.
  if (p.stream == nullptr) return;
  Outgoing out = Outgoing::Make();
  v1::PartitionPaused* paused = out.response->mutable_paused();
  paused->mutable_partition()->set_topic(p.tp().topic);
  paused->mutable_partition()->set_partition(p.tp().partition);
  paused->set_reason(ThresholdReason());
  paused->set_resume_in_ms(static_cast<uint32_t>(pause.count()));
  p.stream->Send(std::move(out));
}

std::string DispatcherImpl::ThresholdReason() const {
  return absl::StrCat("error threshold: ", options_.throttle.threshold, " errors within ",
                      options_.throttle.window.count(), " ms (RETRYs and ack timeouts",
                      options_.rejects_count_toward_threshold ? " and REJECTs" : "", ")");
}

void DispatcherImpl::Withdraw(PartitionState& p, const Withdrawn& w) {
  for (const Release& r : w.releases) {
    r.stream->ReleaseWindow(r.messages, r.bytes);
    stats_->AddInFlight(-static_cast<int64_t>(r.messages));
  }
  for (uint64_t id : w.finished_batches) batch_owner_.erase(id);
  (void)p;
}

void DispatcherImpl::RunTimers(MonoTime now) {
  if (now < next_timer_) return;
  next_timer_ = MonoTime::max();
  for (auto& [tp, pp] : partitions_) {
    PartitionState& p = *pp;
    if (!p.revoking) {
      Withdrawn expired = p.TakeExpired(now);
      if (!expired.records.empty()) {
        spdlog::info("partition {}: {} messages not settled within the ack timeout",
                     tp.ToString(), expired.records.size());
        Withdraw(p, expired);
        for (auto& r : expired.records) r.reason = "ack timeout";
        Retry(p, std::move(expired.records), 0, DeliveryCause::kAckTimeout, now);
        MaybeCompleteRebind(p);
      }
    }
    if (p.hold_until && now >= *p.hold_until) p.hold_until.reset();
    if (p.throttle().Expire(now)) {
      spdlog::info("partition {}: resumed after its error pause", tp.ToString());
    }
    // Only what time itself will change. A revoking partition takes no ack
    // timeouts (its revoke deadline wakes the loop), and a retry already due
    // that could not go out waits for a settlement, window room or a resume,
    // which all wake the loop: a timer in the past would make it spin.
    if (auto t = p.NextDeadline(); t && !p.revoking) ScheduleTimer(*t);
    if (auto t = p.NextRetryDue(); t && *t > now) ScheduleTimer(*t);
    if (auto t = p.throttle().paused_until()) ScheduleTimer(*t);
    if (p.hold_until) ScheduleTimer(*p.hold_until);
  }
  std::vector<DeadLetterRetry> later;
  for (DeadLetterRetry& r : dead_letter_retries_) {
    if (r.due > now) {
      ScheduleTimer(r.due);
      later.push_back(std::move(r));
      continue;
    }
    PartitionState* p = Find(r.tp.topic, r.tp.partition);
    if (p == nullptr || p->epoch() != r.epoch) continue;
    if (const PendingRecord* pending = p->dead_letter(r.offset)) {
      ProduceDeadLetter(*p, *pending, r.failures);
    }
  }
  dead_letter_retries_ = std::move(later);
}

void DispatcherImpl::Apply(cmd::Extend& c) {
  const MonoTime now = clock_.Now();
  const Millis asked = c.extend_ms > 0 ? Millis(c.extend_ms) : options_.ack_timeout;
  // Cut, not refused: a handler still working should keep its batch. The cap
  // only stops one Extend (up to 49 days in a uint32) from parking a batch,
  // and the commit of its partition, far beyond any ack deadline; a handler
  // that needs longer extends again.
  const Millis by = std::min(asked, options_.max_extension);
  for (uint64_t id : c.batch_ids) {
    auto owner = batch_owner_.find(id);
    if (owner == batch_owner_.end()) continue;  // settled or stale: nothing to extend
    StreamSession* stream = owner->second->Extend(id, c.stream_id, now + by);
    if (stream == nullptr) continue;
    ScheduleTimer(now + by);
    if (by < asked && stream->extensions_cut.fetch_add(1, std::memory_order_relaxed) == 0) {
      spdlog::warn("stream {}: Extend asked for {} ms, cut to processing.max_extension_ms "
                   "({} ms); logged once per stream, counted when the stream ends",
                   stream->id(), asked.count(), by.count());
    }
  }
}

void DispatcherImpl::Apply(cmd::SetPaused& c) {
  const MonoTime now = clock_.Now();
  auto apply = [&](PartitionState& p) {
    if (p.revoking) return;
    if (c.paused) {
      if (!p.manual_pause) spdlog::info("partition {}: paused by request", p.tp().ToString());
      p.manual_pause = true;
      return;
    }
    if (p.manual_pause || p.throttle().paused(now)) {
      spdlog::info("partition {}: resumed by request", p.tp().ToString());
    }
    p.manual_pause = false;
    p.throttle().Clear(now);
    // The operator says the dead-letter topic is fixed: try it now rather
    // than at the next slow retry.
    if (p.dead_letter_paused()) {
      spdlog::info("partition {}: retrying {} refused dead letters now, by request",
                   p.tp().ToString(), p.dead_letter_refused.size());
      for (DeadLetterRetry& r : dead_letter_retries_) {
        if (r.tp == p.tp() && p.dead_letter_refused.count(r.offset)) r.due = now;
      }
      ScheduleTimer(now);
    }
  };
  if (c.tps.empty()) {
    for (auto& [tp, p] : partitions_) apply(*p);
    return;
  }
  for (const TopicPartition& tp : c.tps) {
    if (PartitionState* p = Find(tp.topic, tp.partition)) apply(*p);
  }
}

v1::PartitionStats DispatcherImpl::StatsOf(const PartitionState& p, MonoTime now) const {
  v1::PartitionStats s;
  s.set_topic(p.tp().topic);
  s.set_partition(p.tp().partition);
  // The cause an operator must act on first: a dead-letter pause outlasts
  // a resume by request.
  if (p.dead_letter_paused()) {
    s.set_paused(true);
    s.set_pause_cause(v1::PAUSE_CAUSE_DEAD_LETTER);
    s.set_pause_reason(DeadLetterReason(p));
  } else if (p.manual_pause) {
    s.set_paused(true);
    s.set_pause_cause(v1::PAUSE_CAUSE_REQUEST);
    s.set_pause_reason("paused by request");
  } else if (p.throttle().paused(now)) {
    s.set_paused(true);
    s.set_pause_cause(v1::PAUSE_CAUSE_ERROR_THRESHOLD);
    const auto left = std::chrono::duration_cast<Millis>(*p.throttle().paused_until() - now);
    s.set_pause_reason(absl::StrCat(ThresholdReason(), "; resumes in ", left.count(), " ms"));
  } else if (p.fetch_paused) {
    s.set_pause_reason("fetch paused: handler behind (backpressure)");
  }
  s.set_committed_offset(p.stored_offset.value_or(-1));
  s.set_in_flight(p.in_flight_records());
  s.set_delivered(p.counters.delivered);
  s.set_processed(p.counters.processed);
  s.set_failed(p.counters.failed);
  s.set_retried(p.counters.retried);
  s.set_errors(p.counters.errors);
  s.set_dead_letter_pending(p.dead_letter_count());
  if (p.stream) s.set_stream_id(p.stream->id());
  return s;
}

void DispatcherImpl::PublishStats(MonoTime now) {
  if (now < next_publish_) return;
  next_publish_ = now + kStatsPublishInterval;
  std::vector<v1::PartitionStats> out;
  out.reserve(partitions_.size());
  for (const auto& [tp, p] : partitions_) out.push_back(StatsOf(*p, now));
  MutexLock l(&stats_mu_);
  published_stats_.swap(out);
}

std::vector<v1::PartitionStats> DispatcherImpl::PartitionStatsSnapshot() const {
  MutexLock l(&stats_mu_);
  return published_stats_;
}

void DispatcherImpl::Apply(cmd::Drain&) { draining_ = true; }

PartitionState* DispatcherImpl::Find(std::string_view topic, int32_t partition) {
  // Records come in runs of one partition; remember the last lookup.
  if (last_found_ != nullptr && last_found_->tp().partition == partition &&
      last_found_->tp().topic == topic) {
    return last_found_;
  }
  auto it = partitions_.find(TopicPartition{std::string(topic), partition});
  last_found_ = it == partitions_.end() ? nullptr : it->second.get();
  return last_found_;
}

void DispatcherImpl::Ingest(std::vector<FetchedRecord>& records, MonoTime now) {
  for (handed_ = 0; handed_ < records.size(); ++handed_) {
    FetchedRecord& f = records[handed_];
    PartitionState* p = Find(f.topic, f.partition);
    if (p == nullptr) {
      // The Assign command is posted before the partition's fetch starts,
      // so it may still be in the inbox.
      last_found_ = nullptr;
      ProcessCommands();
      p = Find(f.topic, f.partition);
    }
    if (p == nullptr || p->revoking) {
      // Not ours (any more): the partition's next owner reads it from the
      // committed offset.
      continue;
    }
    p->Receive(std::move(f.record), now);
  }
}

bool DispatcherImpl::SendBatch(PartitionState& p, InFlightBatch& batch, MonoTime now) {
  StreamSession& stream = *batch.stream;
  const uint64_t id = batch.id;
  const size_t n = batch.records.size();
  if (!stream.Send(BuildBatch(id, p.tp(), batch.records))) {
    // The stream closed under us; its StreamClosed command rebinds.
    const uint64_t bytes = batch.unsettled_bytes;
    p.CancelBatch(id);
    stream.ReleaseWindow(n, bytes);
    return false;
  }
  batch_owner_[id] = &p;
  ScheduleTimer(now + options_.ack_timeout);
  DeliveryCauseCounts causes{};
  for (const PendingRecord& r : batch.records) ++causes[static_cast<size_t>(r.cause)];
  stats_->RecordDelivered(p.tp(), causes);
  stats_->AddInFlight(static_cast<int64_t>(n));
  stream.delivered.fetch_add(n, std::memory_order_relaxed);
  return true;
}

void DispatcherImpl::Deliver(PartitionState& p, bool queue_drained, MonoTime now) {
  p.window_blocked = false;
  if (draining_ || p.revoking || p.rebinding || p.stream == nullptr) return;
  if (p.manual_pause || p.dead_letter_paused() || p.throttle().paused(now)) return;
  StreamSession& stream = *p.stream;
  const size_t max_batch =
      std::min<size_t>(options_.batch_size, stream.options().max_batch_messages);
  const MonoTime deadline = now + options_.ack_timeout;

  // ordering: none. Retries whose backoff is over go out on their own,
  // ahead of new records.
  while (p.in_flight_batches() < options_.partition_workers && p.NextRetryDue() &&
         *p.NextRetryDue() <= now) {
    std::vector<PendingRecord> due = p.TakeDueRetries(now, max_batch);
    const size_t n = stream.AcquireWindow(
        due.size(), [&due](size_t i) { return due[i].record.bytes(); }, this);
    for (size_t i = n; i < due.size(); ++i) p.AddRetry(std::move(due[i]), now);
    if (n == 0) {
      p.window_blocked = true;
      return;
    }
    due.resize(n);
    InFlightBatch& batch =
        p.StartBatchOf(MakeBatchId(next_sequence_++, options_.index), p.stream, std::move(due),
                       now, deadline);
    if (!SendBatch(p, batch, now)) return;
  }
  if (auto t = p.NextRetryDue(); t && *t > now) ScheduleTimer(*t);

  if (p.hold_until && now < *p.hold_until) return;  // rewound: waiting out the backoff
  while (p.in_flight_batches() < options_.partition_workers && p.pending_count() > 0) {
    const bool ready = p.pending_count() >= max_batch || queue_drained ||
                       now - p.pending_since() >= options_.batch_timeout;
    if (!ready) return;
    const size_t wanted = std::min(p.pending_count(), max_batch);
    const size_t n = stream.AcquireWindow(
        wanted, [&p](size_t i) { return p.pending_at(i).record.bytes(); }, this);
    if (n == 0) {
      p.window_blocked = true;  // woken when the window has room
      return;
    }
    InFlightBatch& batch =
        p.StartBatch(MakeBatchId(next_sequence_++, options_.index), p.stream, n, now, deadline);
    if (!SendBatch(p, batch, now)) return;
  }
}

void DispatcherImpl::UpdateFetchPause(PartitionState& p, MonoTime now) {
  // Hysteresis, so a partition at the limit does not flap.
  // Records waiting out a retry backoff are held undelivered too.
  const size_t waiting = p.pending_count() + p.retry_count();
  if (waiting >= options_.max_pending_messages ||
      p.pending_bytes() >= options_.max_pending_bytes) {
    p.memory_full = true;
  } else if (waiting <= options_.max_pending_messages / 2 &&
             p.pending_bytes() <= options_.max_pending_bytes / 2) {
    p.memory_full = false;
  }
  bool want = p.memory_full || p.manual_pause || p.dead_letter_paused() || p.throttle().paused(now);
  // A partition on its way out, or a sidecar shutting down, fetches no more.
  if (p.revoking || draining_) want = want || p.fetch_paused;
  if (want == p.fetch_paused) return;
  std::optional<int64_t> from;
  if (p.tracker().last_received() >= 0) from = p.tracker().last_received() + 1;
  absl::Status s = want ? control_->Pause(p.tp()) : control_->Resume(p.tp(), from);
  if (!s.ok()) {
    spdlog::warn("partition {}: {} fetch failed: {}", p.tp().ToString(),
                 want ? "pausing" : "resuming", s.ToString());
    return;
  }
  p.fetch_paused = want;
  spdlog::debug("partition {}: fetch {}, {} messages waiting", p.tp().ToString(),
                want ? "paused" : "resumed", p.pending_count());
}

void DispatcherImpl::StoreOffset(PartitionState& p) {
  std::optional<int64_t> offset = p.Watermark();
  if (options_.commit_on_delivery && p.delivered_upto >= 0) offset = p.delivered_upto;
  if (!offset || offset == p.stored_offset) return;
  if (p.stored_offset && *offset < *p.stored_offset) return;  // never backwards
  if (absl::Status s = control_->StoreOffset(p.tp(), *offset); !s.ok()) {
    spdlog::debug("partition {}: storing offset {} failed: {}", p.tp().ToString(), *offset,
                  s.ToString());
    return;
  }
  p.stored_offset = offset;
}

void DispatcherImpl::FinishRevokes(MonoTime now) {
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    PartitionState& p = *it->second;
    // Dead letters still being produced count as in flight: the commit
    // cannot pass them until Kafka has them.
    const bool busy = p.in_flight_batches() > 0 || p.dead_letter_count() > 0;
    if (!p.revoking || (busy && now < p.revoke_deadline)) {
      ++it;
      continue;
    }
    FinishRevoke(p);
    partitions_.erase(it++);
    PartitionsChanged();
  }
}

void DispatcherImpl::PartitionsChanged() {
  next_publish_ = MonoTime::min();
  order_.clear();
  for (auto& [tp, p] : partitions_) order_.push_back(p.get());
  partition_count_.store(partitions_.size());
}

void DispatcherImpl::FinishRevoke(PartitionState& p) {
  uint64_t dropped = 0;
  for (uint64_t id : p.DropInFlight(&dropped)) batch_owner_.erase(id);
  if (dropped > 0) {
    stats_->AddInFlight(-static_cast<int64_t>(dropped));
    stats_->RecordGivenUpOnRevoke(dropped);
    spdlog::warn("partition {}: revoked with {} messages unsettled after {} ms; they will be "
                 "redelivered by the partition's next owner",
                 p.tp().ToString(), dropped,
                 std::chrono::duration_cast<Millis>(clock_.Now() - p.revoke_started).count());
  }
  std::optional<int64_t> offset = p.Watermark();
  if (options_.commit_on_delivery && p.delivered_upto >= 0) offset = p.delivered_upto;
  p.revoke_result->Done(p.tp(), offset);
  if (last_found_ == &p) last_found_ = nullptr;
}

}  // namespace kafka_sidecar
