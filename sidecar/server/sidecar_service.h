// The ConsumerSidecar gRPC service (callback API).
#pragma once

#include <atomic>
#include <memory>

#include "kafka_sidecar/v1/sidecar.grpc.pb.h"
#include "sidecar/common/clock.h"
#include "sidecar/config/config.h"
#include "sidecar/coordinator/coordinator.h"
#include "sidecar/server/operator_access.h"
#include "sidecar/stats/stats_source.h"

namespace kafka_sidecar {

class SidecarService final : public v1::ConsumerSidecar::CallbackService {
 public:
  // The service of server.grpc_listen: operator RPCs as
  // server.operator_rpcs allows.
  SidecarService(const Config& config, Coordinator* coordinator, const StatsSource* stats,
                 const Clock& clock);

  // The same service for server.operator_listen, where operator RPCs are
  // always allowed. Stream ids stay unique across both.
  std::unique_ptr<SidecarService> ForOperatorListener() const;

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

  SidecarService(const Config& config, Coordinator* coordinator, const StatsSource* stats,
                 const Clock& clock, bool operator_listener,
                 std::shared_ptr<std::atomic<uint64_t>> next_stream);

  const Config& config_;
  Coordinator* const coordinator_;
  const StatsSource* const stats_;
  const Clock& clock_;
  OperatorAccess operator_access_;
  const std::shared_ptr<std::atomic<uint64_t>> next_stream_;
};

}  // namespace kafka_sidecar
