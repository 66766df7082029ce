#include "sidecar/binding/partition_binder.h"

#include <algorithm>
#include <deque>

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

  // Even out. Find, from the most loaded stream A, a shortest chain of
  // streams A -> X -> ... -> Z, each able to take one partition of the one
  // before, ending at a stream Z holding at least two fewer than A; shift one
  // partition along each link. A loses one, Z gains one, the streams between
  // keep their count, so the sum of squared loads falls and the loop ends.
  // With one topic every chain is a single direct move from the most to the
  // least loaded stream, which keeps moves (each a drain and rebind) minimal;
  // longer chains balance streams whose topic filters overlap.
  while (true) {
    absl::flat_hash_map<std::string, std::vector<const TopicPartition*>> held;
    for (const auto& [tp, id] : result) {
      if (!id.empty()) held[id].push_back(&tp);
    }
    std::vector<const BinderStream*> sources;
    for (const auto& s : streams) sources.push_back(&s);
    std::stable_sort(sources.begin(), sources.end(), [&](const BinderStream* a, const BinderStream* b) {
      return load[a->id] > load[b->id];
    });
    bool shifted = false;
    for (const BinderStream* source : sources) {
      const size_t top = load[source->id];
      if (top < 2) break;
      // BFS; `via[y]` = (stream before y, partition it hands to y).
      absl::flat_hash_map<std::string, std::pair<std::string, const TopicPartition*>> via;
      std::deque<std::string> frontier{source->id};
      via[source->id] = {"", nullptr};
      std::string end_id;
      while (!frontier.empty() && end_id.empty()) {
        const std::string x = frontier.front();
        frontier.pop_front();
        for (const TopicPartition* tp : held[x]) {
          for (const auto& y : streams) {
            if (via.count(y.id) || !Accepts(y, tp->topic)) continue;
            via[y.id] = {x, tp};
            if (load[y.id] + 2 <= top) {
              end_id = y.id;
              break;
            }
            frontier.push_back(y.id);
          }
          if (!end_id.empty()) break;
        }
      }
      if (end_id.empty()) continue;
      for (std::string y = end_id; y != source->id;) {
        const auto& [x, tp] = via[y];
        result[*tp] = y;
        y = x;
      }
      --load[source->id];
      ++load[end_id];
      shifted = true;
      break;
    }
    if (!shifted) break;
  }
  return result;
}

}  // namespace kafka_sidecar
