#include "sidecar/config/config_printer.h"

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/str_split.h"
#include "sidecar/config/config_keys.h"
#include "sidecar/config/secrets.h"
#include "yaml-cpp/yaml.h"

namespace kafka_sidecar {
namespace {

// Strings always double-quoted: a plain "~", "null" or "" would read back as
// nothing, and "007" must stay a string.
void EmitValue(const ConfigValue& value, YAML::Emitter* out) {
  std::visit(
      [out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          *out << YAML::DoubleQuoted << v;
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          *out << YAML::Flow << YAML::BeginSeq;
          for (const std::string& item : v) *out << YAML::DoubleQuoted << item;
          *out << YAML::EndSeq;
        } else if constexpr (std::is_same_v<T,
                                            std::map<std::string, std::string>>) {
          if (v.empty()) *out << YAML::Flow;
          *out << YAML::BeginMap;
          for (const auto& [name, text] : v) {
            *out << YAML::Key << YAML::DoubleQuoted << name << YAML::Value
                 << YAML::DoubleQuoted
                 << (IsSecretProperty(name) ? kRedactedValue : text);
          }
          *out << YAML::EndMap;
        } else {
          *out << v;
        }
      },
      value);
}

}  // namespace

std::string PrintConfigYaml(const Config& config) {
  YAML::Emitter out;
  out << YAML::Comment("effective configuration; secrets redacted");
  out << YAML::BeginMap;
  // The maps currently open, outermost first ("server", "tls").
  std::vector<std::string> open;
  ForEachConfigValue(config, [&](const ConfigKey& key,
                                 const ConfigValue& value) {
    std::vector<std::string> path = absl::StrSplit(key.name, '.');
    const std::string leaf = path.back();
    path.pop_back();
    size_t common = 0;
    while (common < open.size() && common < path.size() &&
           open[common] == path[common]) {
      ++common;
    }
    for (; open.size() > common; open.pop_back()) out << YAML::EndMap;
    for (; open.size() < path.size(); open.push_back(path[open.size()])) {
      out << YAML::Key << path[open.size()] << YAML::Value << YAML::BeginMap;
    }
    out << YAML::Key << leaf << YAML::Value;
    EmitValue(value, &out);
  });
  for (; !open.empty(); open.pop_back()) out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace kafka_sidecar
