#include "sidecar/app/command_line.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sidecar/admin/health_probe.h"
#include "sidecar/app/sidecar_app.h"
#include "sidecar/config/config_keys.h"
#include "sidecar/config/config_printer.h"
#include "sidecar/kafka/rdkafka_version.h"

extern char** environ;

namespace kafka_sidecar {
namespace {

struct ActionFlag {
  const char* name;
  CommandAction action;
};
constexpr ActionFlag kActionFlags[] = {
    {"validate", CommandAction::kValidate},
    {"print-config", CommandAction::kPrintConfig},
    {"version", CommandAction::kVersion},
};

absl::Status Usage(absl::string_view problem) {
  return absl::InvalidArgumentError(problem);
}

// A default as --help shows it: what one would type after --KEY=.
std::string DefaultText(const ConfigValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return v.empty() ? "\"\"" : v;
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          return v.empty() ? "(none)" : absl::StrJoin(v, ",");
        } else if constexpr (std::is_same_v<T,
                                            std::map<std::string, std::string>>) {
          return "(none)";
        } else {
          return absl::StrCat(v);
        }
      },
      value);
}

}  // namespace

absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine command;
  // --help wins wherever it is: whoever asks for it is unsure of the rest.
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      command.action = CommandAction::kHelp;
      return command;
    }
  }
  const char* action_flag = nullptr;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!absl::StartsWith(arg, "--") || arg == "--") {
      if (absl::StartsWith(arg, "-") && arg.size() > 1) {
        return Usage(absl::StrCat("unknown flag ", arg.substr(0, arg.find('='))));
      }
      // Not quoted: a stray argument is often a value that lost its flag,
      // e.g. a password after "--kafka.properties.sasl.password= ".
      return Usage(absl::StrCat("unexpected argument #", i + 1,
                                ": flags start with --"));
    }
    const std::string_view body = std::string_view(arg).substr(2);
    const size_t equals = body.find('=');
    const std::string name(body.substr(0, equals));
    const bool has_inline_value = equals != std::string_view::npos;

    const auto* action = std::find_if(
        std::begin(kActionFlags), std::end(kActionFlags),
        [&](const ActionFlag& f) { return name == f.name; });
    if (action != std::end(kActionFlags)) {
      if (has_inline_value) return Usage(absl::StrCat("--", name, " takes no value"));
      if (action_flag != nullptr && command.action != action->action) {
        return Usage(absl::StrCat("--", action_flag, " and --", name,
                                  " cannot be combined"));
      }
      command.action = action->action;
      action_flag = action->name;
      continue;
    }

    if (name == "probe") {
      if (action_flag != nullptr) {
        return Usage(command.action == CommandAction::kProbe
                         ? std::string("--probe given twice")
                         : absl::StrCat("--", action_flag, " and --probe cannot be combined"));
      }
      if (has_inline_value) {
        command.probe_url = std::string(body.substr(equals + 1));
      } else if (i + 1 < args.size() && !absl::StartsWith(args[i + 1], "--")) {
        command.probe_url = args[++i];
      }
      if (command.probe_url.empty()) return Usage("--probe needs a URL");
      command.action = CommandAction::kProbe;
      action_flag = "probe";
      continue;
    }
    if (name == "dev") {
      if (has_inline_value) return Usage("--dev takes no value");
      command.dev = true;
      continue;
    }
    const bool is_config_file = name == "config";
    if (!is_config_file && !IsConfigKey(name)) {
      return Usage(absl::StrCat("unknown flag --", name));
    }
    std::string value;
    if (has_inline_value) {
      value = std::string(body.substr(equals + 1));
    } else if (i + 1 < args.size() && !absl::StartsWith(args[i + 1], "--")) {
      value = args[++i];
    } else {
      // The next flag is not taken as a value: "--kafka.group_id --validate"
      // is a mistake, not a group called "--validate".
      return Usage(absl::StrCat("--", name, " needs a value"));
    }
    if (is_config_file) {
      if (value.empty()) return Usage("--config needs a value");
      // Files are not merged with each other; the second would win silently.
      if (command.config_file.has_value()) return Usage("--config given twice");
      command.config_file = std::move(value);
    } else {
      command.flags.push_back({name, std::move(value), absl::StrCat("flag --", name)});
    }
  }
  return command;
}

std::string UsageText() {
  std::string text = absl::StrCat(
      "usage: kafka-sidecar [--config FILE] [--dev] [--KEY=VALUE ...] "
      "[--validate | --print-config]\n"
      "       kafka-sidecar --version | --help\n"
      "       kafka-sidecar --probe URL\n"
      "\n"
      "Consumes Kafka and streams per-partition batches over gRPC to a "
      "handler.\n"
      "\n"
      "  --config FILE    YAML configuration file (default: $",
      kConfigFileVariable, ", else none)\n",
      R"(  --validate       load and check the configuration, print "configuration OK"
  --print-config   print the effective configuration as YAML, secrets redacted
  --dev            no Kafka needed: an in-process mock cluster with topic "demo"
                   and sample JSON messages, for trying a handler (not for
                   production)
  --version        print the version
  --probe URL      GET http://HOST:PORT/PATH (e.g. the admin port's /healthz),
                   exit 0 on a 2xx answer, else 1: a container health check
                   that needs no curl
  --help, -h       print this help
  --KEY=VALUE      set a configuration key (or --KEY VALUE); keys below

Every key can be set in the file, in the environment or by a flag. Later
sources win:  defaults < file < environment < flags.
  file         processing: {batch_size: 50}
  environment  KAFKA_SIDECAR_PROCESSING_BATCH_SIZE=50
               (KAFKA_SIDECAR_ + the key in upper case with _ for .)
  flag         --processing.batch_size=50
Lists are comma-separated: --kafka.topics=orders,payments
librdkafka properties: --kafka.properties.NAME=VALUE, or in the environment
KAFKA_SIDECAR_KAFKA_PROPERTIES_NAME with _ for . (..._SASL_PASSWORD sets
sasl.password). Any other KAFKA_SIDECAR_ variable is an error.
Exit codes: 0 ok, 2 bad usage or configuration, 1 failure while running.

Keys (kind, default):
)");
  const Config defaults;
  const std::string properties_flag = absl::StrCat(kPropertiesKey, ".NAME");
  size_t width = properties_flag.size();
  for (const ConfigKey& key : ConfigKeys()) width = std::max(width, key.name.size());
  ForEachConfigValue(defaults, [&](const ConfigKey& key, const ConfigValue& value) {
    if (key.name == kPropertiesKey) {
      absl::StrAppend(&text, absl::StrFormat("  --%-*s %-15s %s\n", static_cast<int>(width),
                                             properties_flag,
                                             "string", "(librdkafka property)"));
      return;
    }
    absl::StrAppend(&text, absl::StrFormat("  --%-*s %-15s %s\n", static_cast<int>(width), key.name,
                                           key.kind, DefaultText(value)));
  });
  return text;
}

Config DevDefaults() {
  Config c;
  c.kafka.bootstrap_servers = "dev-mock-cluster:9092";  // replaced at start-up
  c.kafka.group_id = "kafka-sidecar-dev";
  c.kafka.topics = {"demo"};
  c.processing.dead_letter_topic = "demo.dlt";
  c.processing.retry_backoff_ms = 500;
  c.observability.stats_interval_ms = 10000;
  return c;
}

Environment ProcessEnvironment() {
  Environment environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    environment.emplace_back(std::string(text.substr(0, equals)),
                             std::string(text.substr(equals + 1)));
  }
  return environment;
}

std::optional<int> HandleCommandLine(const std::vector<std::string>& args,
                                     const Environment& environment,
                                     std::ostream& out, std::ostream& err,
                                     Config* config, bool* dev) {
  absl::StatusOr<CommandLine> command = ParseCommandLine(args);
  if (!command.ok()) {
    err << "kafka-sidecar: " << command.status().message()
        << "\nRun 'kafka-sidecar --help' for the flags and keys.\n";
    return kExitUsage;
  }
  switch (command->action) {
    case CommandAction::kHelp:
      out << UsageText();
      return kExitOk;
    case CommandAction::kProbe: {
      // Two seconds: under Docker's and Kubernetes' usual probe timeouts,
      // and far over what a live sidecar's /healthz takes.
      const absl::Status probed = ProbeHttp(command->probe_url, absl::Seconds(2));
      if (absl::IsInvalidArgument(probed)) {
        err << "kafka-sidecar: " << probed.message() << "\n";
        return kExitUsage;
      }
      if (!probed.ok()) {
        err << "kafka-sidecar: probe failed: " << probed.message() << "\n";
        return kExitFailed;
      }
      out << "ok: " << command->probe_url << "\n";
      return kExitOk;
    }
    case CommandAction::kVersion:
      out << "kafka-sidecar " << KAFKA_SIDECAR_VERSION << "\n"
          << "librdkafka " << RdKafkaVersion() << " (" << RdKafkaFeatures() << ")\n";
      return kExitOk;
    default:
      break;
  }
  ConfigSources sources;
  sources.config_file = command->config_file;
  sources.environment = environment;
  sources.flags = command->flags;
  if (command->dev) sources.base = DevDefaults();
  // What librdkafka refuses when start-up builds its configurations (a bad
  // kafka.properties value, an unknown property) fails --validate and
  // --print-config too, and every error names where the value came from.
  sources.check = &CheckKafkaClientConfigs;
  if (dev != nullptr) *dev = command->dev;
  absl::StatusOr<Config> loaded = LoadLayeredConfig(sources);
  if (!loaded.ok()) {
    err << "kafka-sidecar: invalid configuration: " << loaded.status().message()
        << "\n";
    return kExitUsage;
  }
  switch (command->action) {
    case CommandAction::kValidate:
      out << "configuration OK\n";
      return kExitOk;
    case CommandAction::kPrintConfig:
      out << PrintConfigYaml(*loaded);
      return kExitOk;
    default:
      *config = *std::move(loaded);
      return std::nullopt;
  }
}

}  // namespace kafka_sidecar
