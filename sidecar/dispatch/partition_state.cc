#include "sidecar/dispatch/partition_state.h"

#include <algorithm>
#include <iterator>

#include "sidecar/stream/stream_session.h"

namespace kafka_sidecar {

bool PartitionState::Receive(Record record, MonoTime now) {
  if (!tracker_.Receive(record.offset)) return false;
  if (pending_.empty()) pending_since_ = now;
  pending_bytes_ += record.bytes();
  pending_.push_back(PendingRecord{std::move(record), 1});
  return true;
}

InFlightBatch& PartitionState::StartBatch(uint64_t id, std::shared_ptr<StreamSession> to,
                                          size_t n, MonoTime now) {
  InFlightBatch batch;
  batch.id = id;
  batch.stream = std::move(to);
  batch.sent_at = now;
  n = std::min(n, pending_.size());
  batch.records.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    pending_bytes_ -= pending_.front().record.bytes();
    batch.unsettled_bytes += pending_.front().record.bytes();
    batch.records.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
  if (!pending_.empty()) pending_since_ = now;
  batch.settled.assign(n, false);
  batch.unsettled = n;
  if (n > 0) delivered_upto = std::max(delivered_upto, batch.records.back().record.offset + 1);
  auto [it, inserted] = in_flight_.emplace(id, std::move(batch));
  return it->second;
}

void PartitionState::CancelBatch(uint64_t id) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return;
  std::vector<PendingRecord> back = std::move(it->second.records);
  in_flight_.erase(it);
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

SettleEffect PartitionState::Settle(const std::string& stream_id, const v1::Settlement& s,
                                    MonoTime now) {
  SettleEffect effect;
  auto it = in_flight_.find(s.batch_id());
  if (it == in_flight_.end() || it->second.stream->id() != stream_id) {
    effect.stale = s.offsets_size() == 0 ? 1 : s.offsets_size();
    return effect;
  }
  InFlightBatch& batch = it->second;
  effect.stream = batch.stream;
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

  std::vector<PendingRecord> retry;
  for (size_t i : targets) {
    batch.settled[i] = true;
    PendingRecord& r = batch.records[i];
    --batch.unsettled;
    batch.unsettled_bytes -= r.record.bytes();
    ++effect.released_messages;
    effect.released_bytes += r.record.bytes();
    switch (s.outcome()) {
      case v1::OUTCOME_RETRY:
        ++effect.retried;
        retry.push_back(PendingRecord{std::move(r.record), r.attempt + 1});
        break;
      case v1::OUTCOME_REJECT:
        ++effect.rejected;
        tracker_.Settle(r.record.offset);
        r.record.owner.reset();
        break;
      default:  // ACK; UNSPECIFIED is refused before reaching here
        ++effect.acked;
        tracker_.Settle(r.record.offset);
        r.record.owner.reset();
        break;
    }
  }
  if (batch.unsettled == 0) {
    in_flight_.erase(it);
    effect.batch_done = true;
  }
  Requeue(std::move(retry), now);
  return effect;
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
      back.push_back(PendingRecord{std::move(b.records[i].record), b.records[i].attempt + 1});
    }
    ids.push_back(b.id);
    in_flight_.erase(it++);
  }
  *records = back.size();
  Requeue(std::move(back), pending_since_);
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
