// The one table of configuration keys (SPEC section 4). The YAML file, the
// environment, command-line flags, --help and --print-config all go through
// it, so a key added to the table is readable from every source, typed and
// range-checked the same way, and printed everywhere.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "sidecar/config/config.h"

namespace YAML {
class Node;
}

namespace kafka_sidecar {

// The map of librdkafka properties; "kafka.properties.NAME" is one of them.
inline constexpr char kPropertiesKey[] = "kafka.properties";

struct ConfigKey {
  std::string name;  // dotted: "server.tls.cert_file"
  // What the value looks like, for --help: "string", "integer",
  // "true|false", "partition|none", "list" (comma-separated) or "map".
  std::string kind;
};

// Every key in file order; kafka.properties is one entry of kind "map".
const std::vector<ConfigKey>& ConfigKeys();

// A key of ConfigKeys, or kafka.properties.NAME with a non-empty NAME.
bool IsConfigKey(std::string_view key);

// Sets `key` from `text` as the file would from a scalar with that content,
// so types, ranges of the type and error texts are the file's. The text is
// taken literally (no YAML quoting or comments: "~" is the string "~"); an
// empty text clears strings and lists and is an error for numbers and
// booleans; lists are comma-separated. kafka.properties.NAME sets one
// property and never quotes its value in an error. Does not validate:
// validation runs once on the merged configuration.
absl::Status SetConfigValue(Config* config, std::string_view key,
                            std::string_view text);

// A key's value as the file spells it: integers widened, the ordering enum
// by its name.
using ConfigValue =
    std::variant<std::string, bool, int64_t, uint64_t, std::vector<std::string>,
                 std::map<std::string, std::string>>;

// Calls `fn` for every key of ConfigKeys, in that order.
void ForEachConfigValue(
    const Config& config,
    const std::function<void(const ConfigKey&, const ConfigValue&)>& fn);

// Overlays the keys present in a parsed YAML document onto `*config`; the
// config loader's worker. Unknown keys are errors; nothing is validated.
absl::Status MergeConfigNode(const YAML::Node& root, Config* config);

// "partition" / "none": the spelling used in the YAML file.
std::string OrderingModeName(OrderingMode mode);

}  // namespace kafka_sidecar
