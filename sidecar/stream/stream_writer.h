// What a stream session needs from the transport: start one write, finish.
// Implemented by the gRPC reactor; faked in tests.
#pragma once

#include <grpcpp/support/status.h>

#include "kafka_sidecar/v1/sidecar.pb.h"

namespace kafka_sidecar {

class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // At most one write is outstanding; the transport calls
  // StreamSession::OnWriteDone when it completes.
  virtual void StartWrite(const v1::ConsumeResponse* response) = 0;
  virtual void Finish(const grpc::Status& status) = 0;
};

}  // namespace kafka_sidecar
