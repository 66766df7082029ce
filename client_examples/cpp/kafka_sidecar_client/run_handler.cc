#include "kafka_sidecar_client/run_handler.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>

#include "kafka_sidecar_client/log.h"

namespace kafka_sidecar_client {

RunResult RunHandler(const std::string& target, Handler handler, Options options) {
  // Blocked before gRPC starts its threads, which inherit the mask: the
  // signals can then only be taken by sigwait() below, where calling into
  // the client is safe (a signal handler could not lock a mutex).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const Options log_options = options;
  Client client(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()),
                std::move(handler), std::move(options));
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
  LogLine(log_options, std::string("done (") +
                           (result == RunResult::kDrained ? "drained" : "stopped") +
                           "): acked " + std::to_string(client.counts().acked) + ", retried " +
                           std::to_string(client.counts().retried) + ", rejected " +
                           std::to_string(client.counts().rejected));
  return result;
}

}  // namespace kafka_sidecar_client
