#include "sidecar/binding/partition_binder.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"

namespace kafka_sidecar {
namespace {

bool Accepts(const BinderStream& s, const std::string& topic) {
  return s.topics.empty() || std::find(s.topics.begin(), s.topics.end(), topic) != s.topics.end();
}

}  // namespace

std::map<TopicPartition, std::string> ComputeBindings(
    const std::map<TopicPartition, std::string>& current, const std::vector<BinderStream>& streams) {
  absl::flat_hash_map<std::string, const BinderStream*> by_id;
  absl::flat_hash_map<std::string, size_t> load;
  for (const auto& s : streams) {
    by_id[s.id] = &s;
    load[s.id] = 0;
  }

  // Keep bindings that are still valid.
  std::map<TopicPartition, std::string> result;
  for (const auto& [tp, id] : current) {
    auto it = by_id.find(id);
    if (!id.empty() && it != by_id.end() && Accepts(*it->second, tp.topic)) {
      result[tp] = id;
      ++load[id];
    } else {
      result[tp] = "";
    }
  }

  auto least_loaded = [&](const std::string& topic) -> const BinderStream* {
    const BinderStream* best = nullptr;
    for (const auto& s : streams) {
      if (!Accepts(s, topic)) continue;
      if (best == nullptr || load[s.id] < load[best->id]) best = &s;
    }
    return best;
  };

  // Bind the unbound.
  for (auto& [tp, id] : result) {
    if (!id.empty()) continue;
    if (const BinderStream* s = least_loaded(tp.topic)) {
      id = s->id;
      ++load[id];
    }
  }

  // Even out: move a partition from a stream to an eligible one holding at
  // least two fewer. Each move lowers the sum of squared loads, so this ends.
  bool moved = true;
  while (moved) {
    moved = false;
    for (auto& [tp, id] : result) {
      if (id.empty()) continue;
      const BinderStream* target = least_loaded(tp.topic);
      if (target != nullptr && load[target->id] + 1 < load[id]) {
        --load[id];
        id = target->id;
        ++load[id];
        moved = true;
      }
    }
  }
  return result;
}

}  // namespace kafka_sidecar
