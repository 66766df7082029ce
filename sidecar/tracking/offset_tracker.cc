#include "sidecar/tracking/offset_tracker.h"

#include <algorithm>

namespace kafka_sidecar {

bool OffsetTracker::Receive(int64_t offset) {
  if (offset <= last_received_ || offset < 0) return false;
  last_received_ = offset;
  window_.push_back(Entry{offset, false});
  ++unsettled_;
  return true;
}

OffsetTracker::Entry* OffsetTracker::Find(int64_t offset) {
  auto it = std::lower_bound(window_.begin(), window_.end(), offset,
                             [](const Entry& e, int64_t o) { return e.offset < o; });
  if (it == window_.end() || it->offset != offset) return nullptr;
  return &*it;
}

OffsetTracker::SettleResult OffsetTracker::Settle(int64_t offset) {
  Entry* e = Find(offset);
  if (e == nullptr || e->settled) return SettleResult::kStale;
  e->settled = true;
  --unsettled_;
  while (!window_.empty() && window_.front().settled) window_.pop_front();
  return SettleResult::kSettled;
}

bool OffsetTracker::IsUnsettled(int64_t offset) const {
  auto it = std::lower_bound(window_.begin(), window_.end(), offset,
                             [](const Entry& e, int64_t o) { return e.offset < o; });
  return it != window_.end() && it->offset == offset && !it->settled;
}

std::optional<int64_t> OffsetTracker::Watermark() const {
  if (last_received_ < 0) return std::nullopt;
  if (window_.empty()) return last_received_ + 1;
  return window_.front().offset;
}

}  // namespace kafka_sidecar
