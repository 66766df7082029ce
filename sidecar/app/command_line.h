// The kafka-sidecar command line: what to do, which file, which overrides.
//
//   kafka-sidecar [--config FILE] [--dev] [--KEY=VALUE | --KEY VALUE ...]
//                 [--validate | --print-config]
//   kafka-sidecar --version | --help
//   kafka-sidecar --probe URL       (exit 0 on a 2xx answer, else 1)
//
// KEY is any dotted key of the key table (config_keys.h), including
// kafka.properties.NAME. Exit codes: 0 ok, 2 bad usage or configuration
// (running the sidecar itself exits 1 when it fails after start-up).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sidecar/config/config.h"
#include "sidecar/config/config_overrides.h"

namespace kafka_sidecar {

enum class CommandAction { kRun, kValidate, kPrintConfig, kVersion, kHelp, kProbe };

struct CommandLine {
  CommandAction action = CommandAction::kRun;
  std::optional<std::string> config_file;  // --config
  std::vector<ConfigOverride> flags;       // --KEY=VALUE, in order
  // --dev: no Kafka needed; an in-process mock cluster with a demo topic and
  // sample messages (sidecar/dev/dev_cluster.h).
  bool dev = false;
  // --probe URL: GET it and exit; the container health check of an image
  // without curl (sidecar/admin/health_probe.h).
  std::string probe_url;
};

// The configuration --dev starts from (file, environment and flags still
// apply on top): topic "demo" with dead letters to "demo.dlt", group
// "kafka-sidecar-dev". kafka.bootstrap_servers is replaced by the mock
// cluster's address at start-up.
Config DevDefaults();

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // a failure while running; a failed probe
inline constexpr int kExitUsage = 2;  // bad flags or bad configuration

// `args` without the program name. Errors say what is wrong with which flag
// ("unknown flag --foo", "--config needs a value") and never repeat a value.
absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

// --help: the flags, every key with its default (from the key table), the
// environment variable naming rule and the precedence of the sources.
std::string UsageText();

// The process's environment as name/value pairs.
Environment ProcessEnvironment();

// Everything the command line can ask for short of running the sidecar:
// usage errors, --help, --version, loading and validating the layered
// configuration, --validate, --print-config. Returns the exit code when the
// process should exit now; otherwise stores the configuration to run with in
// `*config` and returns nullopt.
// `*dev` (if given) tells whether --dev was asked for.
std::optional<int> HandleCommandLine(const std::vector<std::string>& args,
                                     const Environment& environment,
                                     std::ostream& out, std::ostream& err,
                                     Config* config, bool* dev = nullptr);

}  // namespace kafka_sidecar
