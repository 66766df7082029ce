// kafka-sidecar: load the configuration (sidecar/app/command_line.h), run the
// sidecar until SIGTERM or SIGINT (exit 0) or until it cannot go on, such as
// no Kafka broker reached at start-up (exit 1), then shut down gracefully. Everything else
// lives in sidecar_core.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "absl/status/status.h"
#include "sidecar/app/command_line.h"
#include "sidecar/app/sidecar_app.h"
#include "sidecar/common/logging.h"
#include "sidecar/config/config.h"
#include "sidecar/dev/dev_cluster.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  // Flags, --help/--version/--validate/--print-config and the layered
  // configuration: everything that ends before the sidecar starts.
  kafka_sidecar::Config config;
  bool dev = false;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (const std::optional<int> exit_code = kafka_sidecar::HandleCommandLine(
          args, kafka_sidecar::ProcessEnvironment(), std::cout, std::cerr, &config, &dev)) {
    return *exit_code;
  }
  if (absl::Status s = kafka_sidecar::SetUpLogging(config.observability); !s.ok()) {
    std::fprintf(stderr, "kafka-sidecar: %s\n", std::string(s.message()).c_str());
    return 2;
  }

  // Block the shutdown signals in every thread (all are started after this)
  // and take them synchronously here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // Raised by the app itself when it cannot go on (SidecarApp::fatal_error).
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // --dev: the cluster lives until after the sidecar has shut down.
  std::unique_ptr<kafka_sidecar::DevCluster> dev_cluster;
  if (dev) {
    kafka_sidecar::DevClusterOptions options;
    options.topic = config.kafka.topics.front();
    options.dead_letter_topic = config.processing.dead_letter_topic;
    auto started = kafka_sidecar::DevCluster::Start(options);
    if (!started.ok()) {
      spdlog::critical("start-up failed: {}", started.status().ToString());
      return 1;
    }
    dev_cluster = std::move(*started);
    config.kafka.bootstrap_servers = dev_cluster->bootstrap_servers();
  }

  auto app = kafka_sidecar::SidecarApp::Create(config, [] { kill(getpid(), SIGUSR1); });
  if (!app.ok()) {
    spdlog::critical("start-up failed: {}", app.status().ToString());
    return 2;
  }
  if (absl::Status s = (*app)->Start(); !s.ok()) {
    spdlog::critical("start-up failed: {}", s.ToString());
    return 1;
  }
  int sig = 0;
  absl::Status fatal;
  while (true) {
    sigwait(&signals, &sig);
    if (sig != SIGUSR1) break;
    fatal = (*app)->fatal_error();
    if (!fatal.ok()) break;
    // A SIGUSR1 from outside: not ours to act on.
  }
  if (!fatal.ok()) {
    spdlog::critical("start-up failed: {}; exiting", std::string(fatal.message()));
  } else {
    spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  }
  absl::Status s = (*app)->Shutdown();
  app->reset();
  return s.ok() && fatal.ok() ? 0 : 1;
}
