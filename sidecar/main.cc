// kafka-sidecar: load the configuration, run the sidecar until SIGTERM or
// SIGINT, then shut down gracefully. Everything else lives in sidecar_core.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "sidecar/app/sidecar_app.h"
#include "sidecar/common/logging.h"
#include "sidecar/config/config_loader.h"
#include "spdlog/spdlog.h"

namespace {

constexpr char kUsage[] =
    "usage: kafka-sidecar --config FILE\n"
    "       kafka-sidecar --version | --help\n"
    "\n"
    "Consumes Kafka and streams per-partition batches over gRPC to a handler.\n"
    "See README.md for the configuration reference.\n";

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--version") {
      std::printf("kafka-sidecar %s\n", KAFKA_SIDECAR_VERSION);
      return 0;
    } else if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(9);
    } else {
      std::fprintf(stderr, "kafka-sidecar: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "kafka-sidecar: --config FILE is required\n%s", kUsage);
    return 2;
  }
  absl::StatusOr<kafka_sidecar::Config> config = kafka_sidecar::LoadConfigFile(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "kafka-sidecar: invalid configuration: %s\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  if (absl::Status s = kafka_sidecar::SetUpLogging(config->observability); !s.ok()) {
    std::fprintf(stderr, "kafka-sidecar: %s\n", std::string(s.message()).c_str());
    return 2;
  }

  // Block the shutdown signals in every thread (all are started after this)
  // and take them synchronously here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto app = kafka_sidecar::SidecarApp::Create(*config);
  if (!app.ok()) {
    spdlog::critical("start-up failed: {}", app.status().ToString());
    return 2;
  }
  if (absl::Status s = (*app)->Start(); !s.ok()) {
    spdlog::critical("start-up failed: {}", s.ToString());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  absl::Status s = (*app)->Shutdown();
  app->reset();
  return s.ok() ? 0 : 1;
}
