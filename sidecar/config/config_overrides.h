// Layering the configuration. Precedence, lowest first:
//
//   defaults (config.h) < YAML file < environment < command-line flags
//
// Every key of the key table (config_keys.h) can be set from each source:
//   file         kafka: {bootstrap_servers: host:9092}
//   environment  KAFKA_SIDECAR_KAFKA_BOOTSTRAP_SERVERS=host:9092
//   flag         --kafka.bootstrap_servers=host:9092
// The variable is KAFKA_SIDECAR_ + the dotted key upper-cased with '.' as
// '_'. kafka.properties.NAME is KAFKA_SIDECAR_KAFKA_PROPERTIES_<NAME> with
// NAME lower-cased and '_' read as '.' (..._SASL_PASSWORD = sasl.password);
// a property whose name has an underscore is set by flag or in the file.
// KAFKA_SIDECAR_CONFIG names the file when --config does not. Any other
// KAFKA_SIDECAR_ variable is an error, so a misspelt one cannot be ignored.
//
// Validation runs once, on the merged result, and its errors say where the
// offending value came from.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "sidecar/config/config.h"

namespace kafka_sidecar {

inline constexpr char kEnvironmentPrefix[] = "KAFKA_SIDECAR_";
inline constexpr char kConfigFileVariable[] = "KAFKA_SIDECAR_CONFIG";

// Name/value pairs, as in the process environment; injected so that tests do
// not touch the real one.
using Environment = std::vector<std::pair<std::string, std::string>>;

// One value for one dotted key, and where it came from for error messages:
// "environment KAFKA_SIDECAR_PROCESSING_BATCH_SIZE", "flag --processing.batch_size".
struct ConfigOverride {
  std::string key;
  std::string value;
  std::string origin;
};

// "KAFKA_SIDECAR_SERVER_TLS_CERT_FILE" for "server.tls.cert_file".
std::string EnvironmentVariableName(std::string_view key);

// The overrides the KAFKA_SIDECAR_ variables of `environment` ask for,
// sorted by variable name. Errors name the variable, never its value.
absl::StatusOr<std::vector<ConfigOverride>> EnvironmentOverrides(
    const Environment& environment);

struct ConfigSources {
  // --config; when absent, KAFKA_SIDECAR_CONFIG (if set and not empty);
  // when neither, there is no file and defaults, environment and flags
  // must make a valid configuration on their own.
  std::optional<std::string> config_file;
  Environment environment;
  // In command-line order; a later flag for the same key wins.
  std::vector<ConfigOverride> flags;
  // What the file, environment and flags are layered on (--dev changes it).
  Config base;
  // Runs after ValidateConfig passed, its errors attributed to their source
  // like ValidateConfig's (they must start with the key). --validate checks
  // the librdkafka configurations here; config/ cannot depend on kafka/.
  std::function<absl::Status(const Config&)> check;
};

// base (defaults) < file < environment < flags, then ValidateConfig and
// `check`. Errors start
// with the key and end with the source of its value:
//   "... (from environment KAFKA_SIDECAR_PROCESSING_BATCH_SIZE)",
//   "... (from flag --processing.batch_size)", "... [in /etc/sidecar.yaml]".
absl::StatusOr<Config> LoadLayeredConfig(const ConfigSources& sources);

}  // namespace kafka_sidecar
