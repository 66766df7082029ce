#include "sidecar/dispatch/dispatcher_impl.h"

#include <algorithm>

#include "spdlog/spdlog.h"
#include "sidecar/dispatch/batch_builder.h"
#include "sidecar/dispatch/batch_id.h"
#include "sidecar/stream/stream_session.h"

namespace kafka_sidecar {
namespace {

constexpr Millis kIdleWait{100};

}  // namespace

DispatcherImpl::DispatcherImpl(DispatcherOptions options, DispatchQueue* queue,
                               PartitionControl* control, SidecarStats* stats, const Clock& clock)
    : options_(options), queue_(queue), control_(control), stats_(stats), clock_(clock) {}

DispatcherImpl::~DispatcherImpl() { Stop(); }

void DispatcherImpl::Post(DispatcherCommand command) {
  {
    absl::MutexLock l(&mu_);
    inbox_.push_back(std::move(command));
  }
  queue_->Wake();
}

void DispatcherImpl::Start() {
  thread_ = std::thread([this] { Run(); });
}

void DispatcherImpl::Stop() {
  stop_.store(true);
  queue_->Wake();
  if (thread_.joinable()) thread_.join();
}

void DispatcherImpl::Run() {
  while (!stop_.load(std::memory_order_relaxed)) RunOnce(kIdleWait);
  // Give back stream windows for whatever is still in flight.
  for (auto& [tp, p] : partitions_) {
    uint64_t dropped = 0;
    p->DropInFlight(&dropped);
    stats_->AddInFlight(-static_cast<int64_t>(dropped));
  }
}

void DispatcherImpl::RunOnce(Millis max_wait) {
  ProcessCommands();
  fetched_.clear();
  queue_->Consume(NextWait(clock_.Now(), max_wait), options_.consume_batch, &fetched_);
  const MonoTime now = clock_.Now();
  const bool drained = fetched_.size() < options_.consume_batch;
  if (!fetched_.empty()) Ingest(fetched_, now);
  ProcessCommands();
  // Start one partition further each loop, so that when stream windows are
  // tight no partition is always served last.
  const size_t n = order_.size();
  for (size_t i = 0; i < n; ++i) {
    PartitionState& p = *order_[(next_first_ + i) % n];
    Deliver(p, drained, now);
    UpdateFetchPause(p);
    StoreOffset(p);
  }
  if (n > 0) next_first_ = (next_first_ + 1) % n;
  FinishRevokes(now);
}

Millis DispatcherImpl::NextWait(MonoTime now, Millis max_wait) const {
  MonoTime deadline = now + max_wait;
  for (const auto& [tp, p] : partitions_) {
    if (p->revoking) deadline = std::min(deadline, p->revoke_deadline);
    // Only a partition that could send when its batch times out sets a
    // deadline; one waiting for window room is woken by the settlement.
    if (p->pending_count() > 0 && p->stream && !p->rebinding && !p->revoking && !draining_ &&
        !p->window_blocked && p->in_flight_batches() < options_.partition_workers) {
      deadline = std::min(deadline, p->pending_since() + options_.batch_timeout);
    }
  }
  if (deadline <= now) return Millis(0);
  // Round up so a wait never ends just before its deadline.
  return std::chrono::ceil<Millis>(deadline - now);
}

void DispatcherImpl::ProcessCommands() {
  {
    absl::MutexLock l(&mu_);
    if (inbox_.empty()) return;
    commands_.swap(inbox_);
  }
  for (auto& c : commands_) std::visit([this](auto& cmd) { Apply(cmd); }, c);
  commands_.clear();
}

void DispatcherImpl::Apply(cmd::Assign& c) {
  auto& slot = partitions_[c.tp];
  if (slot != nullptr && slot->revoking) {
    // Assigned again before the revoke finished (its waiter gave up): close
    // the old life first so the new one starts clean.
    FinishRevoke(*slot);
    slot.reset();
  }
  if (slot == nullptr) slot = std::make_unique<PartitionState>(c.tp);
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
  if (e.stream != nullptr && e.released_messages > 0) {
    e.stream->ReleaseWindow(e.released_messages, e.released_bytes);
    stats_->AddInFlight(-static_cast<int64_t>(e.released_messages));
    e.stream->processed.fetch_add(e.acked, std::memory_order_relaxed);
    e.stream->failed.fetch_add(e.rejected, std::memory_order_relaxed);
  }
  if (e.acked > 0) stats_->RecordProcessed(e.acked, e.latency_ms);
  if (e.rejected > 0) {
    stats_->RecordFailed(p.tp(), e.rejected);
    spdlog::warn("partition {}: {} messages rejected by the handler ({})", p.tp().ToString(),
                 e.rejected, s.reason());
  }
  if (e.retried > 0) stats_->RecordRetried(p.tp(), e.retried);
  if (e.batch_done) {
    batch_owner_.erase(owner);
    MaybeCompleteRebind(p);
  }
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
  for (FetchedRecord& f : records) {
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

void DispatcherImpl::Deliver(PartitionState& p, bool queue_drained, MonoTime now) {
  p.window_blocked = false;
  if (draining_ || p.revoking || p.rebinding || p.stream == nullptr) return;
  StreamSession& stream = *p.stream;
  const size_t max_batch =
      std::min<size_t>(options_.batch_size, stream.options().max_batch_messages);
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
    const uint64_t id = MakeBatchId(next_sequence_++, options_.index);
    Outgoing out = BuildBatch(id, p, n);
    InFlightBatch& batch = p.StartBatch(id, p.stream, n, now);
    const uint64_t bytes = batch.unsettled_bytes;
    if (!stream.Send(std::move(out))) {
      // The stream closed under us; its StreamClosed command rebinds.
      p.CancelBatch(id);
      stream.ReleaseWindow(n, bytes);
      return;
    }
    batch_owner_[id] = &p;
    stats_->RecordDelivered(n);
    stats_->AddInFlight(static_cast<int64_t>(n));
    stream.delivered.fetch_add(n, std::memory_order_relaxed);
  }
}

void DispatcherImpl::UpdateFetchPause(PartitionState& p) {
  const bool full = p.pending_count() >= options_.max_pending_messages ||
                    p.pending_bytes() >= options_.max_pending_bytes;
  const bool low = p.pending_count() <= options_.max_pending_messages / 2 &&
                   p.pending_bytes() <= options_.max_pending_bytes / 2;
  if (full && !p.fetch_paused) {
    if (absl::Status s = control_->Pause(p.tp()); !s.ok()) {
      spdlog::warn("partition {}: pausing fetch failed: {}", p.tp().ToString(), s.ToString());
      return;
    }
    p.fetch_paused = true;
    spdlog::debug("partition {}: fetch paused, {} messages waiting", p.tp().ToString(),
                  p.pending_count());
  } else if (low && p.fetch_paused && !p.revoking && !draining_) {
    if (absl::Status s = control_->Resume(p.tp()); !s.ok()) {
      spdlog::warn("partition {}: resuming fetch failed: {}", p.tp().ToString(), s.ToString());
      return;
    }
    p.fetch_paused = false;
  }
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
    if (!p.revoking || (p.in_flight_batches() > 0 && now < p.revoke_deadline)) {
      ++it;
      continue;
    }
    FinishRevoke(p);
    partitions_.erase(it++);
    PartitionsChanged();
  }
}

void DispatcherImpl::PartitionsChanged() {
  order_.clear();
  for (auto& [tp, p] : partitions_) order_.push_back(p.get());
  partition_count_.store(partitions_.size());
}

void DispatcherImpl::FinishRevoke(PartitionState& p) {
  uint64_t dropped = 0;
  for (uint64_t id : p.DropInFlight(&dropped)) batch_owner_.erase(id);
  if (dropped > 0) {
    stats_->AddInFlight(-static_cast<int64_t>(dropped));
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
