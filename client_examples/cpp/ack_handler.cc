// A minimal kafka-sidecar handler in C++: subscribes, "processes" each
// message (counts it and its bytes), acks every batch, reconnects with
// backoff when the stream drops, and settles what it holds on Draining.
//
//   ack_handler --target 127.0.0.1:50051 [--expect N] [--name NAME]
//
// With --expect N it exits once N messages are acked, printing the
// sidecar's GetStats as JSON.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "kafka_sidecar/v1/sidecar.grpc.pb.h"

namespace v1 = kafka_sidecar::v1;

namespace {

struct Options {
  std::string target = "127.0.0.1:50051";
  std::string name = "cpp-ack-handler";
  uint64_t expect = 0;  // 0 = run until the sidecar drains
};

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--target") o.target = argv[i + 1];
    else if (k == "--name") o.name = argv[i + 1];
    else if (k == "--expect") o.expect = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      std::exit(2);
    }
  }
  return o;
}

// One stream's life; returns true when the sidecar said it is draining or
// the expected count was reached (nothing more to do).
bool RunStream(v1::ConsumerSidecar::Stub& stub, const Options& o, uint64_t* acked) {
  grpc::ClientContext ctx;
  auto stream = stub.Consume(&ctx);
  v1::ConsumeRequest req;
  req.mutable_subscribe()->set_handler_name(o.name);
  if (!stream->Write(req)) return false;
  v1::ConsumeResponse resp;
  uint64_t bytes = 0;
  auto last_report = std::chrono::steady_clock::now();
  while (stream->Read(&resp)) {
    if (resp.has_subscribed()) {
      std::printf("subscribed as %s to group %s\n", resp.subscribed().stream_id().c_str(),
                  resp.subscribed().group_id().c_str());
    } else if (resp.has_batch()) {
      // The work: here, count messages and payload bytes.
      for (const auto& m : resp.batch().messages()) bytes += m.value().size();
      v1::ConsumeRequest settle;
      v1::Settlement* s = settle.mutable_settle()->add_settlements();
      s->set_batch_id(resp.batch().batch_id());
      s->set_outcome(v1::OUTCOME_ACK);
      if (!stream->Write(settle)) break;
      *acked += resp.batch().messages_size();
      const auto now = std::chrono::steady_clock::now();
      if (now - last_report > std::chrono::seconds(1)) {
        std::printf("acked %llu messages (%llu payload bytes this stream)\n",
                    static_cast<unsigned long long>(*acked), static_cast<unsigned long long>(bytes));
        std::fflush(stdout);
        last_report = now;
      }
      if (o.expect > 0 && *acked >= o.expect) {
        stream->WritesDone();
        stream->Finish();
        return true;
      }
    } else if (resp.has_draining()) {
      // Everything is settled as it arrives, so there is nothing to hand back.
      std::printf("sidecar draining; acked %llu\n", static_cast<unsigned long long>(*acked));
      stream->WritesDone();
      stream->Finish();
      return true;
    }
  }
  grpc::Status st = stream->Finish();
  std::fprintf(stderr, "stream ended: %s\n", st.ok() ? "ok" : st.error_message().c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  auto channel = grpc::CreateChannel(o.target, grpc::InsecureChannelCredentials());
  auto stub = v1::ConsumerSidecar::NewStub(channel);
  uint64_t acked = 0;
  auto backoff = std::chrono::milliseconds(100);
  while (!RunStream(*stub, o, &acked)) {
    std::this_thread::sleep_for(backoff);  // reconnect backoff, not synchronisation
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  std::printf("done: acked %llu messages\n", static_cast<unsigned long long>(acked));
  if (o.expect > 0) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::GetStatsResponse stats;
    if (grpc::Status st = stub->GetStats(&ctx, v1::GetStatsRequest(), &stats); st.ok()) {
      std::string json;
      google::protobuf::util::JsonPrintOptions opts;
      opts.add_whitespace = true;
      opts.preserve_proto_field_names = true;
      opts.always_print_primitive_fields = true;
      (void)google::protobuf::util::MessageToJsonString(stats, &json, opts);
      std::printf("sidecar stats:\n%s", json.c_str());
    }
  }
  return 0;
}
