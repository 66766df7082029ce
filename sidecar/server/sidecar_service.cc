#include "sidecar/server/sidecar_service.h"

#include "absl/strings/str_cat.h"
#include "sidecar/server/consume_reactor.h"

namespace kafka_sidecar {

SidecarService::SidecarService(const Config& config, Coordinator* coordinator,
                               SidecarStats* stats, const Clock& clock)
    : config_(config), coordinator_(coordinator), stats_(stats), clock_(clock) {}

grpc::ServerBidiReactor<v1::ConsumeRequest, v1::ConsumeResponse>* SidecarService::Consume(
    grpc::CallbackServerContext* context) {
  return new ConsumeReactor(context, config_, coordinator_, clock_,
                            absl::StrCat("stream-", next_stream_.fetch_add(1)));
}

grpc::ServerUnaryReactor* SidecarService::GetStats(grpc::CallbackServerContext* context,
                                                   const v1::GetStatsRequest*,
                                                   v1::GetStatsResponse* response) {
  stats_->Fill(response);
  response->set_group_id(config_.kafka.group_id);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* SidecarService::PausePartitions(grpc::CallbackServerContext* context,
                                                          const v1::PartitionsRequest*,
                                                          v1::PartitionsResponse*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                               "PausePartitions is not available in this version"));
  return reactor;
}

grpc::ServerUnaryReactor* SidecarService::ResumePartitions(grpc::CallbackServerContext* context,
                                                           const v1::PartitionsRequest*,
                                                           v1::PartitionsResponse*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                               "ResumePartitions is not available in this version"));
  return reactor;
}

}  // namespace kafka_sidecar
