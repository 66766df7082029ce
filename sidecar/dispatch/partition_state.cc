#include "sidecar/dispatch/partition_state.h"

#include <algorithm>
#include <iterator>

#include "sidecar/stream/stream_session.h"

namespace kafka_sidecar {

bool PartitionState::Receive(Record record, MonoTime now) {
  if (!tracker_.Receive(record.offset)) return false;
  if (pending_.empty()) pending_since_ = now;
  pending_bytes_ += record.bytes();
  pending_.push_back(PendingRecord{std::move(record), 1, 0, {}});
  return true;
}

InFlightBatch& PartitionState::AddBatch(InFlightBatch batch) {
  batch.settled.assign(batch.records.size(), false);
  batch.unsettled = batch.records.size();
  batch.unsettled_bytes = 0;
  for (const auto& r : batch.records) batch.unsettled_bytes += r.record.bytes();
  if (!batch.records.empty()) {
    delivered_upto = std::max(delivered_upto, batch.records.back().record.offset + 1);
  }
  counters.delivered += batch.records.size();
  auto [it, inserted] = in_flight_.emplace(batch.id, std::move(batch));
  return it->second;
}

InFlightBatch& PartitionState::StartBatch(uint64_t id, std::shared_ptr<StreamSession> to,
                                          size_t n, MonoTime now, MonoTime deadline) {
  InFlightBatch batch;
  batch.id = id;
  batch.stream = std::move(to);
  batch.sent_at = now;
  batch.deadline = deadline;
  n = std::min(n, pending_.size());
  batch.records.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    pending_bytes_ -= pending_.front().record.bytes();
    batch.records.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
  if (!pending_.empty()) pending_since_ = now;
  return AddBatch(std::move(batch));
}

InFlightBatch& PartitionState::StartBatchOf(uint64_t id, std::shared_ptr<StreamSession> to,
                                            std::vector<PendingRecord> records, MonoTime now,
                                            MonoTime deadline) {
  InFlightBatch batch;
  batch.id = id;
  batch.stream = std::move(to);
  batch.sent_at = now;
  batch.deadline = deadline;
  batch.records = std::move(records);
  return AddBatch(std::move(batch));
}

void PartitionState::CancelBatch(uint64_t id) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return;
  std::vector<PendingRecord> back = std::move(it->second.records);
  in_flight_.erase(it);
  counters.delivered -= back.size();
  // Never delivered after all: at-most-once must not commit past them.
  if (!back.empty()) delivered_upto = std::min(delivered_upto, back.front().record.offset);
  Requeue(std::move(back), pending_since_);
}

void PartitionState::Requeue(std::vector<PendingRecord> records, MonoTime now) {
  if (records.empty()) return;
  if (pending_.empty()) pending_since_ = now;
  for (const auto& r : records) pending_bytes_ += r.record.bytes();
  auto by_offset = [](const PendingRecord& a, const PendingRecord& b) {
    return a.record.offset < b.record.offset;
  };
  std::sort(records.begin(), records.end(), by_offset);
  if (pending_.empty() || records.back().record.offset < pending_.front().record.offset) {
    // The common case: everything returned precedes what was never sent.
    for (auto it = records.rbegin(); it != records.rend(); ++it) pending_.push_front(std::move(*it));
    return;
  }
  std::deque<PendingRecord> merged;
  std::merge(std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.end()),
             std::make_move_iterator(records.begin()), std::make_move_iterator(records.end()),
             std::back_inserter(merged), by_offset);
  pending_ = std::move(merged);
}

void PartitionState::Redeliver(std::vector<PendingRecord> records, MonoTime now) {
  for (auto& r : records) ++r.attempt;
  Requeue(std::move(records), now);
}

SettleEffect PartitionState::Settle(const std::string& stream_id, const v1::Settlement& s,
                                    MonoTime now) {
  SettleEffect effect;
  auto it = in_flight_.find(s.batch_id());
  if (it == in_flight_.end() || it->second.stream->id() != stream_id) {
    effect.stale = s.offsets_size() == 0 ? 1 : s.offsets_size();
    return effect;
  }
  InFlightBatch& batch = it->second;
  effect.release.stream = batch.stream;
  effect.latency_ms = ToMillis(now - batch.sent_at);

  std::vector<size_t> targets;
  if (s.offsets_size() == 0) {
    for (size_t i = 0; i < batch.records.size(); ++i) {
      if (!batch.settled[i]) targets.push_back(i);
    }
  } else {
    targets.reserve(s.offsets_size());
    for (int64_t offset : s.offsets()) {
      auto pos = std::lower_bound(
          batch.records.begin(), batch.records.end(), offset,
          [](const PendingRecord& r, int64_t o) { return r.record.offset < o; });
      const size_t i = pos - batch.records.begin();
      if (pos == batch.records.end() || pos->record.offset != offset || batch.settled[i]) {
        ++effect.stale;
        continue;
      }
      batch.settled[i] = true;  // also dedupes offsets repeated in one settlement
      targets.push_back(i);
    }
  }

  for (size_t i : targets) {
    batch.settled[i] = true;
    PendingRecord& r = batch.records[i];
    --batch.unsettled;
    batch.unsettled_bytes -= r.record.bytes();
    ++effect.release.messages;
    effect.release.bytes += r.record.bytes();
    switch (s.outcome()) {
      case v1::OUTCOME_RETRY:
        r.reason = s.reason();
        effect.retry.push_back(std::move(r));
        break;
      case v1::OUTCOME_REJECT:
        r.reason = s.reason();
        effect.rejected.push_back(std::move(r));
        break;
      default:  // ACK; UNSPECIFIED is refused before reaching here
        ++effect.acked;
        tracker_.Settle(r.record.offset);
        r.record.owner.reset();
        break;
    }
  }
  counters.processed += effect.acked;
  if (batch.unsettled == 0) {
    in_flight_.erase(it);
    effect.batch_done = true;
  }
  return effect;
}

StreamSession* PartitionState::Extend(uint64_t id, const std::string& stream_id,
                                      MonoTime deadline) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end() || it->second.stream->id() != stream_id) return nullptr;
  // Extend only ever pushes the deadline out (SPEC §3).
  it->second.deadline = std::max(it->second.deadline, deadline);
  return it->second.stream.get();
}

Withdrawn PartitionState::TakeExpired(MonoTime now) {
  Withdrawn out;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    InFlightBatch& b = it->second;
    if (b.deadline > now) {
      ++it;
      continue;
    }
    Release release{b.stream, b.unsettled, b.unsettled_bytes};
    for (size_t i = 0; i < b.records.size(); ++i) {
      if (!b.settled[i]) out.records.push_back(std::move(b.records[i]));
    }
    out.releases.push_back(std::move(release));
    out.finished_batches.push_back(b.id);
    in_flight_.erase(it++);
  }
  return out;
}

std::optional<MonoTime> PartitionState::NextDeadline() const {
  std::optional<MonoTime> next;
  for (const auto& [id, b] : in_flight_) {
    if (!next || b.deadline < *next) next = b.deadline;
  }
  return next;
}

Withdrawn PartitionState::CancelAfter(int64_t offset) {
  Withdrawn out;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    InFlightBatch& b = it->second;
    Release release{b.stream, 0, 0};
    for (size_t i = 0; i < b.records.size(); ++i) {
      if (b.settled[i] || b.records[i].record.offset <= offset) continue;
      b.settled[i] = true;
      --b.unsettled;
      b.unsettled_bytes -= b.records[i].record.bytes();
      ++release.messages;
      release.bytes += b.records[i].record.bytes();
      out.records.push_back(std::move(b.records[i]));
    }
    if (release.messages > 0) out.releases.push_back(std::move(release));
    if (b.unsettled == 0) {
      out.finished_batches.push_back(b.id);
      in_flight_.erase(it++);
    } else {
      ++it;
    }
  }
  return out;
}

void PartitionState::AddRetry(PendingRecord record, MonoTime due) {
  retry_waiting_.emplace(due, std::move(record));
}

std::vector<PendingRecord> PartitionState::TakeDueRetries(MonoTime now, size_t max) {
  std::vector<PendingRecord> due;
  while (!retry_waiting_.empty() && due.size() < max && retry_waiting_.begin()->first <= now) {
    due.push_back(std::move(retry_waiting_.begin()->second));
    retry_waiting_.erase(retry_waiting_.begin());
  }
  std::sort(due.begin(), due.end(), [](const PendingRecord& a, const PendingRecord& b) {
    return a.record.offset < b.record.offset;
  });
  return due;
}

std::optional<MonoTime> PartitionState::NextRetryDue() const {
  if (retry_waiting_.empty()) return std::nullopt;
  return retry_waiting_.begin()->first;
}

void PartitionState::StartDeadLetter(PendingRecord record) {
  const int64_t offset = record.record.offset;
  dead_letters_.insert_or_assign(offset, std::move(record));
}

const PendingRecord* PartitionState::dead_letter(int64_t offset) const {
  auto it = dead_letters_.find(offset);
  return it == dead_letters_.end() ? nullptr : &it->second;
}

bool PartitionState::FinishDeadLetter(int64_t offset) {
  auto it = dead_letters_.find(offset);
  if (it == dead_letters_.end()) return false;
  dead_letters_.erase(it);
  tracker_.Settle(offset);
  ++counters.dead_lettered;
  return true;
}

bool PartitionState::SkipDeadLetter(int64_t offset) {
  if (dead_letters_.erase(offset) == 0) return false;
  tracker_.Settle(offset);
  return true;
}

std::vector<uint64_t> PartitionState::ReturnInFlight(const std::string& stream_id,
                                                     uint64_t* records) {
  std::vector<uint64_t> ids;
  std::vector<PendingRecord> back;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    InFlightBatch& b = it->second;
    if (b.stream->id() != stream_id) {
      ++it;
      continue;
    }
    for (size_t i = 0; i < b.records.size(); ++i) {
      if (b.settled[i]) continue;
      b.records[i].cause = DeliveryCause::kStreamLost;
      back.push_back(std::move(b.records[i]));
    }
    ids.push_back(b.id);
    in_flight_.erase(it++);
  }
  *records = back.size();
  Redeliver(std::move(back), pending_since_);
  return ids;
}

std::vector<uint64_t> PartitionState::DropInFlight(uint64_t* records) {
  std::vector<uint64_t> ids;
  *records = 0;
  for (auto& [id, b] : in_flight_) {
    ids.push_back(id);
    *records += b.unsettled;
    if (b.unsettled > 0) b.stream->ReleaseWindow(b.unsettled, b.unsettled_bytes);
  }
  in_flight_.clear();
  return ids;
}

uint64_t PartitionState::in_flight_records() const {
  uint64_t n = 0;
  for (const auto& [id, b] : in_flight_) n += b.unsettled;
  return n;
}

bool PartitionState::HasInFlightOn(const std::string& stream_id) const {
  for (const auto& [id, b] : in_flight_) {
    if (b.stream->id() == stream_id) return true;
  }
  return false;
}

}  // namespace kafka_sidecar
