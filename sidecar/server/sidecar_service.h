// The ConsumerSidecar gRPC service (callback API).
#pragma once

#include <atomic>

#include "kafka_sidecar/v1/sidecar.grpc.pb.h"
#include "sidecar/common/clock.h"
#include "sidecar/config/config.h"
#include "sidecar/coordinator/coordinator.h"
#include "sidecar/stats/stats_source.h"

namespace kafka_sidecar {

class SidecarService final : public v1::ConsumerSidecar::CallbackService {
 public:
  SidecarService(const Config& config, Coordinator* coordinator, const StatsSource* stats,
                 const Clock& clock);

  grpc::ServerBidiReactor<v1::ConsumeRequest, v1::ConsumeResponse>* Consume(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override;
  grpc::ServerUnaryReactor* PausePartitions(grpc::CallbackServerContext* context,
                                            const v1::PartitionsRequest* request,
                                            v1::PartitionsResponse* response) override;
  grpc::ServerUnaryReactor* ResumePartitions(grpc::CallbackServerContext* context,
                                             const v1::PartitionsRequest* request,
                                             v1::PartitionsResponse* response) override;

 private:
  grpc::ServerUnaryReactor* SetPaused(grpc::CallbackServerContext* context,
                                      const v1::PartitionsRequest& request,
                                      v1::PartitionsResponse* response, bool paused);

  const Config& config_;
  Coordinator* const coordinator_;
  const StatsSource* const stats_;
  const Clock& clock_;
  std::atomic<uint64_t> next_stream_{1};
};

}  // namespace kafka_sidecar
