#include "sidecar/server/sidecar_service.h"

#include "absl/strings/str_cat.h"
#include "sidecar/server/consume_reactor.h"
#include "sidecar/server/request_limits.h"

namespace kafka_sidecar {

SidecarService::SidecarService(const Config& config, Coordinator* coordinator,
                               const StatsSource* stats, const Clock& clock)
    : SidecarService(config, coordinator, stats, clock, /*operator_listener=*/false,
                     std::make_shared<std::atomic<uint64_t>>(1)) {}

SidecarService::SidecarService(const Config& config, Coordinator* coordinator,
                               const StatsSource* stats, const Clock& clock,
                               bool operator_listener,
                               std::shared_ptr<std::atomic<uint64_t>> next_stream)
    : config_(config),
      coordinator_(coordinator),
      stats_(stats),
      clock_(clock),
      operator_access_(OperatorAccessPolicy::FromConfig(config.server, operator_listener)),
      next_stream_(std::move(next_stream)) {}

std::unique_ptr<SidecarService> SidecarService::ForOperatorListener() const {
  return std::unique_ptr<SidecarService>(new SidecarService(
      config_, coordinator_, stats_, clock_, /*operator_listener=*/true, next_stream_));
}

grpc::ServerBidiReactor<v1::ConsumeRequest, v1::ConsumeResponse>* SidecarService::Consume(
    grpc::CallbackServerContext* context) {
  return new ConsumeReactor(context, config_, coordinator_, clock_,
                            absl::StrCat("stream-", next_stream_->fetch_add(1)));
}

grpc::ServerUnaryReactor* SidecarService::GetStats(grpc::CallbackServerContext* context,
                                                   const v1::GetStatsRequest*,
                                                   v1::GetStatsResponse* response) {
  *response = stats_->Collect();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* SidecarService::PausePartitions(grpc::CallbackServerContext* context,
                                                          const v1::PartitionsRequest* request,
                                                          v1::PartitionsResponse* response) {
  if (grpc::Status denied = operator_access_.Check(*context, "PausePartitions"); !denied.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(denied);
    return reactor;
  }
  return SetPaused(context, *request, response, true);
}

grpc::ServerUnaryReactor* SidecarService::ResumePartitions(grpc::CallbackServerContext* context,
                                                           const v1::PartitionsRequest* request,
                                                           v1::PartitionsResponse* response) {
  if (grpc::Status denied = operator_access_.Check(*context, "ResumePartitions"); !denied.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(denied);
    return reactor;
  }
  return SetPaused(context, *request, response, false);
}

grpc::ServerUnaryReactor* SidecarService::SetPaused(grpc::CallbackServerContext* context,
                                                    const v1::PartitionsRequest& request,
                                                    v1::PartitionsResponse* response,
                                                    bool paused) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = CheckPartitionsRequest(request); !s.ok()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message())));
    return reactor;
  }
  std::vector<TopicPartition> tps;
  for (const v1::TopicPartition& tp : request.partitions()) {
    tps.push_back(TopicPartition{tp.topic(), tp.partition()});
  }
  // Partitions not assigned here are left out of the answer, so the caller
  // sees what was acted on.
  for (const TopicPartition& tp : coordinator_->SetPaused(tps, paused)) {
    v1::TopicPartition* out = response->add_partitions();
    out->set_topic(tp.topic);
    out->set_partition(tp.partition);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace kafka_sidecar
