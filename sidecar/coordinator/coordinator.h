// Joins the Kafka side and the stream side: knows which dispatcher owns each
// assigned partition and which stream it is bound to, rebinds when streams
// or assignments change, and routes settlements to the owning dispatcher.
// Called from the Kafka control thread and from gRPC threads; its maps sit
// behind one mutex, touched only on assignment and stream changes.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sidecar/common/clock.h"
#include "sidecar/common/mutex.h"
#include "absl/time/time.h"
#include "kafka_sidecar/v1/sidecar.pb.h"
#include "sidecar/common/topic_partition.h"
#include "sidecar/dispatch/dispatcher.h"
#include "sidecar/stats/sidecar_stats.h"

namespace kafka_sidecar {

class StreamSession;

class Coordinator {
 public:
  Coordinator(std::vector<Dispatcher*> dispatchers, SidecarStats* stats);

  // Kafka control thread. Chooses an owner for each new partition and tells
  // it; returns the owners' indexes, in order.
  std::vector<int> AddPartitions(const std::vector<TopicPartition>& tps);
  // Unbinds the partitions, asks their dispatchers to finish them (waiting
  // up to `wait` for in-flight settlements) and returns the offsets to
  // commit. A partition missing from the result had nothing to commit.
  std::vector<std::pair<TopicPartition, int64_t>> RevokePartitions(
      const std::vector<TopicPartition>& tps, absl::Duration wait);

  // gRPC threads. OpenStream binds partitions to a subscribed stream;
  // CloseStream takes them back and has its unsettled messages redelivered.
  void OpenStream(std::shared_ptr<StreamSession> stream);
  void CloseStream(const std::string& stream_id);
  // Routes settlements to their dispatchers; unroutable ones are stale.
  void Settle(const std::string& stream_id, v1::Settle* settle);

  // Pushes ack deadlines of the stream's batches out.
  void Extend(const std::string& stream_id, const v1::Extend& extend);

  // Any thread. Pauses or resumes deliveries and fetching of the given
  // partitions (empty = every assigned one); returns those that are assigned
  // here and so were acted on.
  std::vector<TopicPartition> SetPaused(const std::vector<TopicPartition>& tps, bool paused);
  // Per-partition stats from every dispatcher, with the binding filled in.
  std::vector<v1::PartitionStats> PartitionStats() const;
  // One entry per connected, subscribed stream, with the partitions bound to
  // it; `now` gives connected_seconds.
  std::vector<v1::StreamStats> StreamStats(MonoTime now) const;

  // Shutdown: no new deliveries; streams are told to settle within `deadline`.
  void Drain(absl::Duration deadline);

 private:
  void RebindLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells each stream what it gained and lost.
  void SendChangesLocked(std::map<std::string, v1::AssignmentChange>& changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct Assigned {
    int dispatcher = 0;
    std::string stream_id;  // "" = unbound
  };

  const std::vector<Dispatcher*> dispatchers_;
  SidecarStats* const stats_;

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<StreamSession>> streams_ ABSL_GUARDED_BY(mu_);
  std::map<TopicPartition, Assigned> partitions_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration drain_deadline_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kafka_sidecar
