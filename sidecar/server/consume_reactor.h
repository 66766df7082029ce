// The server side of one Consume stream (gRPC callback API): one read and
// at most one write in flight, reactions that never block, deleted in
// OnDone. Requests are validated here; the stream's state lives in its
// StreamSession and settlements go to the coordinator.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "kafka_sidecar/v1/sidecar.pb.h"
#include "sidecar/common/clock.h"
#include "sidecar/config/config.h"
#include "sidecar/coordinator/coordinator.h"
#include "sidecar/stream/stream_session.h"
#include "sidecar/stream/stream_writer.h"

namespace kafka_sidecar {

class StreamRegistry;

class ConsumeReactor final : public grpc::ServerBidiReactor<v1::ConsumeRequest, v1::ConsumeResponse>,
                             public StreamWriter {
 public:
  ConsumeReactor(grpc::CallbackServerContext* context, const Config& config,
                 Coordinator* coordinator, const Clock& clock,
                 std::string stream_id);

  // StreamWriter.
  void StartWrite(const v1::ConsumeResponse* response) override;
  void Finish(const grpc::Status& status) override;

  // Reactions.
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  void HandleSubscribe(const v1::Subscribe& subscribe);
  // Ends the stream with `status`; its unsettled messages are redelivered.
  void End(const grpc::Status& status);

  grpc::CallbackServerContext* const context_;
  const Config& config_;
  Coordinator* const coordinator_;
  std::shared_ptr<StreamSession> session_;
  v1::ConsumeRequest request_;
  bool ended_ = false;  // reactions on one stream never run concurrently
};

}  // namespace kafka_sidecar
