#include "sidecar/coordinator/coordinator.h"

#include <algorithm>

#include "spdlog/spdlog.h"
#include "sidecar/binding/partition_binder.h"
#include "sidecar/dispatch/batch_id.h"
#include "sidecar/stream/stream_session.h"

namespace kafka_sidecar {
namespace {

void AddTp(const TopicPartition& tp, google::protobuf::RepeatedPtrField<v1::TopicPartition>* out) {
  v1::TopicPartition* p = out->Add();
  p->set_topic(tp.topic);
  p->set_partition(tp.partition);
}

Outgoing DrainingMessage(absl::Duration deadline) {
  Outgoing out = Outgoing::Make();
  out.response->mutable_draining()->set_deadline_ms(
      static_cast<uint32_t>(absl::ToInt64Milliseconds(deadline)));
  return out;
}

}  // namespace

Coordinator::Coordinator(std::vector<Dispatcher*> dispatchers, SidecarStats* stats)
    : dispatchers_(std::move(dispatchers)), stats_(stats) {}

std::vector<int> Coordinator::AddPartitions(const std::vector<TopicPartition>& tps) {
  std::vector<int> owners;
  MutexLock l(&mu_);
  std::vector<size_t> load(dispatchers_.size(), 0);
  for (const auto& [tp, a] : partitions_) ++load[a.dispatcher];
  for (const TopicPartition& tp : tps) {
    auto it = partitions_.find(tp);
    int owner;
    if (it != partitions_.end()) {
      owner = it->second.dispatcher;
    } else {
      owner = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
      ++load[owner];
      partitions_[tp] = Assigned{owner, ""};
      dispatchers_[owner]->Post(cmd::Assign{tp});
    }
    owners.push_back(owner);
  }
  RebindLocked();
  return owners;
}

std::vector<std::pair<TopicPartition, int64_t>> Coordinator::RevokePartitions(
    const std::vector<TopicPartition>& tps, absl::Duration wait) {
  auto result = std::make_shared<RevokeResult>(tps.size());
  {
    MutexLock l(&mu_);
    std::map<std::string, v1::AssignmentChange> changes;
    for (const TopicPartition& tp : tps) {
      auto it = partitions_.find(tp);
      if (it == partitions_.end()) {
        result->Done(tp, std::nullopt);
        continue;
      }
      if (!it->second.stream_id.empty()) AddTp(tp, changes[it->second.stream_id].mutable_revoked());
      dispatchers_[it->second.dispatcher]->Post(
          cmd::Revoke{tp, result, absl::ToChronoMilliseconds(wait)});
      partitions_.erase(it);
    }
    SendChangesLocked(changes);
    RebindLocked();
  }
  // Dispatchers answer by the deadline they were given; the margin covers a
  // loop iteration.
  if (!result->WaitFor(wait + absl::Seconds(5))) {
    spdlog::error("revoke: dispatchers did not release all partitions in time");
  }
  std::vector<std::pair<TopicPartition, int64_t>> offsets;
  for (const auto& [tp, offset] : result->offsets()) {
    if (offset) offsets.emplace_back(tp, *offset);
  }
  return offsets;
}

void Coordinator::OpenStream(std::shared_ptr<StreamSession> stream) {
  MutexLock l(&mu_);
  if (draining_) stream->Send(DrainingMessage(drain_deadline_));
  streams_[stream->id()] = std::move(stream);
  RebindLocked();
}

void Coordinator::CloseStream(const std::string& stream_id) {
  MutexLock l(&mu_);
  if (streams_.erase(stream_id) == 0) return;
  // Every dispatcher may hold batches of this stream, also for partitions
  // that moved away from it.
  for (Dispatcher* d : dispatchers_) d->Post(cmd::StreamClosed{stream_id});
  RebindLocked();
}

void Coordinator::Settle(const std::string& stream_id, v1::Settle* settle) {
  std::vector<std::vector<v1::Settlement>> per_dispatcher(dispatchers_.size());
  uint64_t stale = 0;
  for (v1::Settlement& s : *settle->mutable_settlements()) {
    const size_t owner = DispatcherOfBatch(s.batch_id());
    if (owner >= dispatchers_.size() || s.outcome() == v1::OUTCOME_UNSPECIFIED ||
        (s.outcome() != v1::OUTCOME_ACK && s.outcome() != v1::OUTCOME_RETRY &&
         s.outcome() != v1::OUTCOME_REJECT)) {
      stale += s.offsets_size() == 0 ? 1 : s.offsets_size();
      continue;
    }
    per_dispatcher[owner].push_back(std::move(s));
  }
  if (stale > 0) stats_->RecordStale(stale);
  for (size_t i = 0; i < per_dispatcher.size(); ++i) {
    if (per_dispatcher[i].empty()) continue;
    dispatchers_[i]->Post(cmd::Settle{stream_id, std::move(per_dispatcher[i])});
  }
}

void Coordinator::Extend(const std::string& stream_id, const v1::Extend& extend) {
  std::vector<std::vector<uint64_t>> per_dispatcher(dispatchers_.size());
  for (uint64_t id : extend.batch_ids()) {
    const size_t owner = DispatcherOfBatch(id);
    if (owner < dispatchers_.size()) per_dispatcher[owner].push_back(id);
  }
  for (size_t i = 0; i < per_dispatcher.size(); ++i) {
    if (per_dispatcher[i].empty()) continue;
    dispatchers_[i]->Post(cmd::Extend{stream_id, std::move(per_dispatcher[i]), extend.extend_ms()});
  }
}

std::vector<TopicPartition> Coordinator::SetPaused(const std::vector<TopicPartition>& tps,
                                                   bool paused) {
  MutexLock l(&mu_);
  std::vector<std::vector<TopicPartition>> per_dispatcher(dispatchers_.size());
  std::vector<TopicPartition> acted;
  auto take = [&](const TopicPartition& tp, const Assigned& a) {
    per_dispatcher[a.dispatcher].push_back(tp);
    acted.push_back(tp);
  };
  if (tps.empty()) {
    for (const auto& [tp, a] : partitions_) take(tp, a);
  } else {
    for (const TopicPartition& tp : tps) {
      auto it = partitions_.find(tp);
      if (it != partitions_.end()) take(tp, it->second);
    }
  }
  for (size_t i = 0; i < per_dispatcher.size(); ++i) {
    // An empty list would mean "all" to the dispatcher.
    if (per_dispatcher[i].empty()) continue;
    dispatchers_[i]->Post(cmd::SetPaused{std::move(per_dispatcher[i]), paused});
  }
  return acted;
}

std::vector<v1::PartitionStats> Coordinator::PartitionStats() const {
  std::vector<v1::PartitionStats> out;
  for (const Dispatcher* d : dispatchers_) {
    for (auto& p : d->PartitionStatsSnapshot()) out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const v1::PartitionStats& a, const v1::PartitionStats& b) {
    return std::make_tuple(std::cref(a.topic()), a.partition()) <
           std::make_tuple(std::cref(b.topic()), b.partition());
  });
  return out;
}

std::vector<v1::StreamStats> Coordinator::StreamStats(MonoTime now) const {
  MutexLock l(&mu_);
  std::map<std::string, v1::StreamStats> by_id;
  for (const auto& [id, s] : streams_) {
    if (!s->subscribed()) continue;
    v1::StreamStats& out = by_id[id];
    out.set_stream_id(id);
    out.set_handler_name(s->options().handler_name);
    out.set_peer(s->options().peer);
    out.set_in_flight(s->in_flight_messages());
    out.set_delivered(s->delivered.load(std::memory_order_relaxed));
    out.set_processed(s->processed.load(std::memory_order_relaxed));
    out.set_failed(s->failed.load(std::memory_order_relaxed));
    out.set_connected_seconds(std::chrono::duration<double>(now - s->connected_at()).count());
  }
  for (const auto& [tp, a] : partitions_) {
    auto it = by_id.find(a.stream_id);
    if (it != by_id.end()) AddTp(tp, it->second.mutable_partitions());
  }
  std::vector<v1::StreamStats> out;
  out.reserve(by_id.size());
  for (auto& [id, s] : by_id) out.push_back(std::move(s));
  return out;
}

void Coordinator::Drain(absl::Duration deadline) {
  MutexLock l(&mu_);
  draining_ = true;
  drain_deadline_ = deadline;
  for (Dispatcher* d : dispatchers_) d->Post(cmd::Drain{});
  for (auto& [id, s] : streams_) s->Send(DrainingMessage(deadline));
}

void Coordinator::RebindLocked() {
  std::map<TopicPartition, std::string> current;
  for (const auto& [tp, a] : partitions_) current[tp] = a.stream_id;
  std::vector<BinderStream> streams;
  for (const auto& [id, s] : streams_) streams.push_back(BinderStream{id, s->options().topics});
  std::map<TopicPartition, std::string> next = ComputeBindings(current, streams);

  std::map<std::string, v1::AssignmentChange> changes;
  for (auto& [tp, a] : partitions_) {
    const std::string& to = next[tp];
    if (to == a.stream_id) continue;
    if (!a.stream_id.empty() && streams_.count(a.stream_id)) {
      AddTp(tp, changes[a.stream_id].mutable_revoked());
    }
    std::shared_ptr<StreamSession> target;
    if (!to.empty()) {
      target = streams_[to];
      AddTp(tp, changes[to].mutable_assigned());
    }
    a.stream_id = to;
    dispatchers_[a.dispatcher]->Post(cmd::Bind{tp, std::move(target)});
  }
  SendChangesLocked(changes);
}

void Coordinator::SendChangesLocked(std::map<std::string, v1::AssignmentChange>& changes) {
  for (auto& [id, change] : changes) {
    auto s = streams_.find(id);
    if (s == streams_.end()) continue;
    Outgoing out = Outgoing::Make();
    *out.response->mutable_assignment() = std::move(change);
    s->second->Send(std::move(out));
  }
}

}  // namespace kafka_sidecar
