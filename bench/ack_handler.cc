// A minimal kafka-sidecar handler in C++, and the benchmark's handler: K
// streams over one channel, each subscribing, "processing" each message
// (counting it and its bytes), acking every batch as it arrives,
// reconnecting with backoff when its stream drops, and leaving on Draining,
// on SIGTERM/SIGINT, or once --expect messages are acked.
//
//   bench_ack_handler --target 127.0.0.1:50051 [--expect N] [--name NAME]
//                     [--streams K] [--delay-ms D] [--samples-out FILE]
//
// --expect N counts across all streams; on reaching it the handler closes its
// streams and prints the sidecar's GetStats as JSON. --delay-ms makes it a
// slow handler (D ms before acking each batch). --samples-out writes, at
// exit, one line per message received: "<id> <ts_us> <recv_us> <partition>",
// id and ts_us read from the bench_produce payload (-1 when absent), recv_us
// the CLOCK_REALTIME microseconds when Read() returned its batch.
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "bench/bench_tool.h"
#include "kafka_sidecar/v1/sidecar.grpc.pb.h"

namespace v1 = kafka_sidecar::v1;

namespace {

constexpr const char* kUsage =
    "usage: bench_ack_handler --target HOST:PORT [--expect N] [--name NAME] [--streams K] "
    "[--delay-ms D] [--samples-out FILE]\n";

struct Options {
  std::string target = "127.0.0.1:50051";
  std::string name = "cpp-ack-handler";
  uint64_t expect = 0;  // 0 = run until the sidecar drains or a signal
  uint32_t streams = 1;
  uint32_t delay_ms = 0;
  std::string samples_out;
};

[[noreturn]] void BadFlags(const std::string& why) {
  bench::BadFlags("bench_ack_handler", kUsage, why);
}

uint64_t ParseUint(const std::string& flag, const char* text, uint64_t min, uint64_t max) {
  return bench::ParseUint("bench_ack_handler", kUsage, flag, text, min, max);
}

Options Parse(int argc, char** argv) {
  Options o;
  if (argc % 2 != 1) BadFlags("every flag takes a value");
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--target") o.target = v;
    else if (k == "--name") o.name = v;
    else if (k == "--expect") o.expect = ParseUint(k, v, 0, UINT64_MAX);
    else if (k == "--streams") o.streams = static_cast<uint32_t>(ParseUint(k, v, 1, 1024));
    else if (k == "--delay-ms") o.delay_ms = static_cast<uint32_t>(ParseUint(k, v, 0, 3600000));
    else if (k == "--samples-out") o.samples_out = v;
    else BadFlags("unknown flag " + k);
  }
  return o;
}

using Stream = grpc::ClientReaderWriter<v1::ConsumeRequest, v1::ConsumeResponse>;

// Why the handler stops; the first reason wins.
enum class StopReason { kNone, kExpectReached, kDraining, kSignal };

// What the stream threads, the signal thread and main share.
struct Shared {
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<bool> stopping{false};  // no stream (re)connects once set

  std::mutex mu;
  std::condition_variable cv;
  StopReason reason = StopReason::kNone;  // guarded by mu
  uint32_t live_streams = 0;              // guarded by mu

  void Stop(StopReason r) {
    std::lock_guard<std::mutex> lock(mu);
    if (reason == StopReason::kNone) reason = r;
    stopping.store(true);
    cv.notify_all();
  }

  // The reconnect backoff, cut short by a stop.
  bool WaitForStop(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, d, [&] { return stopping.load(); });
  }
};

// One stream thread's open call, as the other threads reach it: the signal
// thread cancels it, main half-closes it once --expect is reached. Two locks,
// so a cancel never waits behind a Write blocked on flow control.
class Slot {
 public:
  // False (and nothing registered) once the handler is stopping, so a call
  // opened during a stop cannot escape it.
  bool Open(grpc::ClientContext* ctx, Stream* stream, const Shared& shared) {
    std::lock_guard<std::mutex> c(ctx_mu_);
    std::lock_guard<std::mutex> w(write_mu_);
    if (shared.stopping.load()) return false;
    ctx_ = ctx;
    stream_ = stream;
    writes_done_ = false;
    return true;
  }

  void Close() {
    std::lock_guard<std::mutex> c(ctx_mu_);
    std::lock_guard<std::mutex> w(write_mu_);
    ctx_ = nullptr;
    stream_ = nullptr;
  }

  // False when the stream is broken or already half-closed.
  bool Write(const v1::ConsumeRequest& req) {
    std::lock_guard<std::mutex> w(write_mu_);
    return stream_ != nullptr && !writes_done_ && stream_->Write(req);
  }

  // The sidecar ends the call on half-close, after the settlements before it.
  void HalfClose() {
    std::lock_guard<std::mutex> w(write_mu_);
    if (stream_ == nullptr || writes_done_) return;
    writes_done_ = true;
    stream_->WritesDone();
  }

  void Cancel() {
    std::lock_guard<std::mutex> c(ctx_mu_);
    if (ctx_ != nullptr) ctx_->TryCancel();
  }

 private:
  std::mutex ctx_mu_;
  std::mutex write_mu_;
  grpc::ClientContext* ctx_ = nullptr;
  Stream* stream_ = nullptr;
  bool writes_done_ = false;
};

// One call's life; true when it ended because the handler is done (no
// reconnect), false when it dropped.
bool RunStream(v1::ConsumerSidecar::Stub& stub, const Options& o, Shared& shared, Slot& slot,
               std::vector<bench::Sample>* samples) {
  grpc::ClientContext ctx;
  std::unique_ptr<Stream> stream = stub.Consume(&ctx);
  if (!slot.Open(&ctx, stream.get(), shared)) {
    ctx.TryCancel();
    stream->Finish();
    return true;
  }
  v1::ConsumeRequest subscribe;
  subscribe.mutable_subscribe()->set_handler_name(o.name);
  slot.Write(subscribe);  // a failure shows as Read() returning false

  v1::ConsumeRequest settle;
  v1::Settlement* ack = settle.mutable_settle()->add_settlements();
  ack->set_outcome(v1::OUTCOME_ACK);
  v1::ConsumeResponse resp;
  bool drained = false;
  // Reads until the sidecar ends the call, also after a half-close, since
  // Finish() must not be called with responses still to read.
  while (stream->Read(&resp)) {
    if (resp.has_batch()) {
      const int64_t recv_us = samples != nullptr ? bench::RealtimeUs() : 0;
      const v1::Batch& batch = resp.batch();
      uint64_t bytes = 0;
      for (const v1::Message& m : batch.messages()) {
        bytes += m.value().size();
        if (samples != nullptr) {
          samples->push_back(bench::SampleOf(m.value(), recv_us, batch.partition()));
        }
      }
      if (o.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.delay_ms));
      ack->set_batch_id(batch.batch_id());
      if (!slot.Write(settle)) continue;  // half-closed: the sidecar redelivers it elsewhere
      const uint64_t n = static_cast<uint64_t>(batch.messages_size());
      shared.bytes.fetch_add(bytes, std::memory_order_relaxed);
      const uint64_t total = shared.acked.fetch_add(n, std::memory_order_relaxed) + n;
      if (o.expect > 0 && total >= o.expect && !shared.stopping.load()) {
        shared.Stop(StopReason::kExpectReached);
      }
    } else if (resp.has_subscribed()) {
      std::printf("subscribed as %s to group %s\n", resp.subscribed().stream_id().c_str(),
                  resp.subscribed().group_id().c_str());
      std::fflush(stdout);
    } else if (resp.has_draining()) {
      // Everything is settled as it arrives, so there is nothing to hand back.
      std::printf("sidecar draining; acked %llu\n",
                  static_cast<unsigned long long>(shared.acked.load()));
      std::fflush(stdout);
      drained = true;
      shared.Stop(StopReason::kDraining);
      slot.HalfClose();
    }
  }
  const grpc::Status st = stream->Finish();
  slot.Close();
  if (drained || shared.stopping.load()) return true;
  std::fprintf(stderr, "stream ended: %s\n", st.ok() ? "ok" : st.error_message().c_str());
  return false;
}

void StreamThread(v1::ConsumerSidecar::Stub& stub, const Options& o, Shared& shared, Slot& slot,
                  std::vector<bench::Sample>* samples) {
  auto backoff = std::chrono::milliseconds(100);
  while (!RunStream(stub, o, shared, slot, samples)) {
    if (shared.WaitForStop(backoff)) break;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  std::lock_guard<std::mutex> lock(shared.mu);
  --shared.live_streams;
  shared.cv.notify_all();
}

void PrintStats(v1::ConsumerSidecar::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetStatsResponse stats;
  if (grpc::Status st = stub.GetStats(&ctx, v1::GetStatsRequest(), &stats); !st.ok()) {
    std::fprintf(stderr, "GetStats: %s\n", st.error_message().c_str());
    return;
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(stats, &json, opts);
  std::printf("sidecar stats:\n%s", json.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);

  // Blocked before any thread starts, so every thread (gRPC's too) inherits
  // the mask and only the sigwait thread sees them. SIGUSR1 is main's way to
  // end that thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Shared shared;
  std::vector<Slot> slots(o.streams);
  std::atomic<bool> exiting{false};
  std::thread signal_thread([&] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGUSR1) {
        if (exiting.load()) return;
        continue;
      }
      shared.Stop(StopReason::kSignal);
      for (Slot& s : slots) s.Cancel();
    }
  });

  auto channel = grpc::CreateChannel(o.target, grpc::InsecureChannelCredentials());
  auto stub = v1::ConsumerSidecar::NewStub(channel);
  const bool sampling = !o.samples_out.empty();
  std::vector<std::vector<bench::Sample>> samples(o.streams);
  if (sampling && o.expect > 0) {
    for (auto& s : samples) s.reserve(o.expect / o.streams + o.expect / 10);
  }
  shared.live_streams = o.streams;
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < o.streams; ++i) {
    threads.emplace_back(StreamThread, std::ref(*stub), std::cref(o), std::ref(shared),
                         std::ref(slots[i]), sampling ? &samples[i] : nullptr);
  }

  // Progress at most once a second; on --expect, half-close every stream, and cancel
  // what has not ended a few seconds later.
  {
    using Clock = std::chrono::steady_clock;
    std::unique_lock<std::mutex> lock(shared.mu);
    bool half_closed = false;
    Clock::time_point half_closed_at;
    auto last_report = Clock::now();
    uint64_t last_reported = 0;
    while (shared.live_streams > 0) {
      shared.cv.wait_for(lock, std::chrono::seconds(1), [&] {
        return shared.live_streams == 0 ||
               (shared.reason == StopReason::kExpectReached && !half_closed);
      });
      if (shared.live_streams == 0) break;
      const auto now = Clock::now();
      if (shared.reason == StopReason::kExpectReached && !half_closed) {
        lock.unlock();
        for (Slot& s : slots) s.HalfClose();
        lock.lock();
        half_closed = true;
        half_closed_at = now;
      } else if (half_closed && now - half_closed_at > std::chrono::seconds(5)) {
        lock.unlock();
        for (Slot& s : slots) s.Cancel();
        lock.lock();
      }
      if (const uint64_t acked = shared.acked.load();
          acked != last_reported && now - last_report >= std::chrono::seconds(1)) {
        std::printf("acked %llu messages (%llu payload bytes)\n",
                    static_cast<unsigned long long>(acked),
                    static_cast<unsigned long long>(shared.bytes.load()));
        std::fflush(stdout);
        last_report = now;
        last_reported = acked;
      }
    }
  }
  for (std::thread& t : threads) t.join();
  exiting.store(true);
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();

  std::printf("done: acked %llu messages\n", static_cast<unsigned long long>(shared.acked.load()));
  std::fflush(stdout);
  std::string error;
  const bool samples_ok = !sampling || bench::WriteSamples(o.samples_out, samples, &error);
  if (!samples_ok) std::fprintf(stderr, "bench_ack_handler: %s\n", error.c_str());
  if (shared.reason == StopReason::kExpectReached) PrintStats(*stub);
  return samples_ok ? 0 : 1;
}
