// A response queued for a stream, built once on an arena that lives until
// gRPC has finished writing it.
#pragma once

#include <algorithm>
#include <memory>

#include <google/protobuf/arena.h>
#include <grpcpp/support/callback_common.h>

#include "kafka_sidecar/v1/sidecar.pb.h"

namespace kafka_sidecar {

struct Outgoing {
  std::unique_ptr<google::protobuf::Arena> arena;
  v1::ConsumeResponse* response = nullptr;

  // An arena sized for `bytes` of payload, so a batch is one allocation.
  static Outgoing Make(size_t bytes = 0);
};

inline Outgoing Outgoing::Make(size_t bytes) {
  google::protobuf::ArenaOptions opts;
  opts.start_block_size = std::max<size_t>(256, bytes);
  opts.max_block_size = std::max<size_t>(opts.start_block_size, 1 << 20);
  Outgoing o;
  o.arena = std::make_unique<google::protobuf::Arena>(opts);
  o.response = google::protobuf::Arena::CreateMessage<v1::ConsumeResponse>(o.arena.get());
  return o;
}

}  // namespace kafka_sidecar
