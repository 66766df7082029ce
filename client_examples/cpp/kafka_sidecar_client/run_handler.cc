#include "kafka_sidecar_client/run_handler.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>

#include "kafka_sidecar_client/log.h"

namespace kafka_sidecar_client {
namespace {

std::string Summary(RunResult result, const Counts& counts) {
  return std::string("done (") + (result == RunResult::kDrained ? "drained" : "stopped") +
         "): processed " + std::to_string(counts.processed) + ", retried " +
         std::to_string(counts.retried) + ", failed " + std::to_string(counts.failed);
}

}  // namespace

RunResult RunHandler(const std::string& target, Handler handler, Options options) {
  // Client does the same; resolved here too so the log names it.
  if (options.handler_name.empty()) options.handler_name = HandlerNameFromEnv();
  const Options log_options = options;
  const bool handle_signals = options.handle_signals;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  if (handle_signals) {
    // Blocked before gRPC starts its threads, which inherit the mask: the
    // signals can then only be taken by sigwait() below, where calling into
    // the client is safe (a signal handler could not lock a mutex).
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  }

  Client client(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()),
                std::move(handler), std::move(options));
  LogLine(log_options, "connecting to " + target + " as " + log_options.handler_name);
  if (!handle_signals) {
    const RunResult result = client.Run();
    LogLine(log_options, Summary(result, client.counts()));
    return result;
  }

  std::atomic<bool> done{false};
  std::thread signal_thread([&] {
    int signal_number = 0;
    while (sigwait(&signals, &signal_number) == 0) {
      if (done) return;
      LogLine(log_options, "signal " + std::to_string(signal_number) + ": settling and stopping");
      client.Stop();
    }
  });
  const RunResult result = client.Run();
  done = true;
  // Wakes sigwait(); it sees done and returns.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  LogLine(log_options, Summary(result, client.counts()));
  return result;
}

}  // namespace kafka_sidecar_client
