#include "sidecar/stats/stats_collector.h"

#include <algorithm>
#include <utility>

#include "sidecar/kafka/rdkafka_version.h"

namespace kafka_sidecar {

StatsCollector::StatsCollector(StatsIdentity identity, const SidecarStats* stats,
                               const Coordinator* coordinator, const KafkaPartitionView* kafka,
                               const Clock& clock)
    : identity_(std::move(identity)),
      librdkafka_version_(RdKafkaVersion()),
      stats_(stats),
      coordinator_(coordinator),
      kafka_(kafka),
      clock_(clock) {}

v1::GetStatsResponse StatsCollector::Collect() const {
  v1::GetStatsResponse out;
  stats_->Fill(&out);
  out.set_group_id(identity_.group_id);
  out.set_group_protocol(identity_.group_protocol);
  out.set_sidecar_version(KAFKA_SIDECAR_VERSION);
  out.set_librdkafka_version(librdkafka_version_);
  for (v1::PartitionStats& p : coordinator_->PartitionStats()) {
    // The dispatcher's committed_offset is the offset it has stored for the
    // next commit; the broker's committed offset wins once known, and lag is
    // measured from it (what a restart would re-read).
    if (kafka_ != nullptr) {
      if (auto o = kafka_->Offsets(TopicPartition{p.topic(), p.partition()})) {
        if (o->committed_offset >= 0) p.set_committed_offset(o->committed_offset);
        if (o->high_watermark >= 0) {
          p.set_high_watermark(o->high_watermark);
          // Nothing committed yet: everything still in the log is behind.
          const int64_t from = p.committed_offset() >= 0 ? p.committed_offset()
                                                         : std::max<int64_t>(0, o->low_watermark);
          p.set_lag(std::max<int64_t>(0, o->high_watermark - from));
        }
      }
    }
    *out.add_partitions() = std::move(p);
  }
  for (v1::StreamStats& s : coordinator_->StreamStats(clock_.Now())) {
    *out.add_streams() = std::move(s);
  }
  return out;
}

}  // namespace kafka_sidecar
