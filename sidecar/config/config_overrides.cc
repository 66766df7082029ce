#include "sidecar/config/config_overrides.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sidecar/config/config_keys.h"
#include "sidecar/config/config_loader.h"

namespace kafka_sidecar {
namespace {

// Variable name -> dotted key, for every key of the table but the
// properties map (its variables carry the property name).
const std::map<std::string, std::string>& KeysByVariable() {
  static const auto* const keys = [] {
    auto* map = new std::map<std::string, std::string>;
    for (const ConfigKey& key : ConfigKeys()) {
      if (key.name != kPropertiesKey) {
        map->emplace(EnvironmentVariableName(key.name), key.name);
      }
    }
    return map;
  }();
  return *keys;
}

// ..._SASL_PASSWORD -> kafka.properties.sasl.password; empty if `variable`
// does not name a property.
std::string PropertyKeyFor(const std::string& variable) {
  const std::string prefix =
      absl::StrCat(EnvironmentVariableName(kPropertiesKey), "_");
  if (!absl::StartsWith(variable, prefix) || variable.size() == prefix.size()) {
    return "";
  }
  std::string name = absl::AsciiStrToLower(variable.substr(prefix.size()));
  std::replace(name.begin(), name.end(), '_', '.');
  return absl::StrCat(kPropertiesKey, ".", name);
}

// The key a validation error is about: its message starts "key: ".
std::string ErrorKey(const absl::Status& status) {
  const absl::string_view message = status.message();
  const size_t colon = message.find(": ");
  return std::string(message.substr(0, colon));
}

absl::Status WithSource(const absl::Status& status, absl::string_view source) {
  return absl::Status(status.code(), absl::StrCat(status.message(), source));
}

}  // namespace

std::string EnvironmentVariableName(std::string_view key) {
  std::string name =
      absl::StrCat(kEnvironmentPrefix, absl::string_view(key.data(), key.size()));
  for (char& c : name) c = c == '.' ? '_' : absl::ascii_toupper(c);
  return name;
}

absl::StatusOr<std::vector<ConfigOverride>> EnvironmentOverrides(
    const Environment& environment) {
  Environment sorted = environment;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ConfigOverride> overrides;
  std::map<std::string, std::string> variable_for_key;
  for (const auto& [variable, value] : sorted) {
    if (!absl::StartsWith(variable, kEnvironmentPrefix) ||
        variable == kConfigFileVariable) {
      continue;
    }
    std::string key;
    if (auto it = KeysByVariable().find(variable); it != KeysByVariable().end()) {
      key = it->second;
    } else {
      key = PropertyKeyFor(variable);
    }
    if (key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "environment variable ", variable,
          " matches no configuration key (KAFKA_SIDECAR_ followed by the "
          "dotted key in upper case with _ for ., e.g. "
          "KAFKA_SIDECAR_PROCESSING_BATCH_SIZE; see --help)"));
    }
    // Two spellings of one property (..._SASL_PASSWORD, ..._sasl_password):
    // which one wins would depend on the environment's order.
    if (auto [it, inserted] = variable_for_key.emplace(key, variable); !inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variables ", it->second, " and ", variable,
                       " both set ", key));
    }
    overrides.push_back({key, value, absl::StrCat("environment ", variable)});
  }
  return overrides;
}

absl::StatusOr<Config> LoadLayeredConfig(const ConfigSources& sources) {
  Config config = sources.base;

  std::string file;
  std::string file_origin;
  if (sources.config_file.has_value()) {
    file = *sources.config_file;
  } else {
    for (const auto& [variable, value] : sources.environment) {
      if (variable == kConfigFileVariable) {
        file = value;
        file_origin = absl::StrCat(" (from environment ", variable, ")");
      }
    }
  }
  if (!file.empty()) {
    absl::StatusOr<std::string> text = ReadConfigFile(file);
    if (!text.ok()) return WithSource(text.status(), file_origin);
    if (absl::Status s = MergeConfigYaml(*text, &config); !s.ok()) {
      return WithSource(s, absl::StrCat(" [in ", file, "]"));
    }
  }

  absl::StatusOr<std::vector<ConfigOverride>> environment =
      EnvironmentOverrides(sources.environment);
  if (!environment.ok()) return environment.status();
  // Where the value each key ends up with came from; the last layer wins.
  std::map<std::string, std::string> origin_of;
  const std::vector<ConfigOverride>* const layers[] = {&*environment,
                                                       &sources.flags};
  for (const std::vector<ConfigOverride>* layer : layers) {
    for (const ConfigOverride& o : *layer) {
      if (absl::Status s = SetConfigValue(&config, o.key, o.value); !s.ok()) {
        return WithSource(s, absl::StrCat(" (from ", o.origin, ")"));
      }
      origin_of[o.key] = o.origin;
    }
  }

  absl::Status s = ValidateConfig(config);
  if (s.ok() && sources.check) s = sources.check(config);
  if (!s.ok()) {
    if (auto it = origin_of.find(ErrorKey(s)); it != origin_of.end()) {
      return WithSource(s, absl::StrCat(" (from ", it->second, ")"));
    }
    // Not overridden: the file's value, or a default the file left alone.
    if (!file.empty()) return WithSource(s, absl::StrCat(" [in ", file, "]"));
    return s;
  }
  return config;
}

}  // namespace kafka_sidecar
