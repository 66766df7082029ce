#include "sidecar/config/config_keys.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "yaml-cpp/yaml.h"

namespace kafka_sidecar {
namespace {

using StringMap = std::map<std::string, std::string>;

// ---------------------------------------------------------------------------
// Parsing: YAML node -> struct field. Only types are checked here; ranges and
// cross-field rules live in ValidateConfig so that configs built in code (and
// by the environment/flag layers) get the same checks.

// The line helps find the key in a long file; errors without a node (defaults,
// values from code) have no line to give.
absl::Status KeyError(absl::string_view key, const YAML::Node& node,
                      absl::string_view problem) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": ", problem));
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: %s (line %d)", key, problem, mark.line + 1));
}

// Never used on kafka.properties values: they may be secrets.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return absl::StrCat("\"", node.Scalar(), "\"");
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

std::string JoinKey(absl::string_view parent, absl::string_view name) {
  return parent.empty() ? std::string(name) : absl::StrCat(parent, ".", name);
}

// Overloads per field type, all declared before ParseSection (which reaches
// them through std::visit) because ADL does not look into this namespace.
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        std::string* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key, bool* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        int32_t* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        uint32_t* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        uint64_t* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        OrderingMode* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        std::vector<std::string>* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        StringMap* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        KafkaConfig* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        ProcessingConfig* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        ServerConfig* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        TlsConfig* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        ObservabilityConfig* out);
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        Config* out);

// One YAML key of a section and the struct member it fills.
template <typename S>
struct Field {
  const char* name;
  std::variant<std::string S::*, bool S::*, int32_t S::*, uint32_t S::*,
               uint64_t S::*, OrderingMode S::*, std::vector<std::string> S::*,
               StringMap S::*, KafkaConfig S::*, ProcessingConfig S::*,
               ServerConfig S::*, TlsConfig S::*, ObservabilityConfig S::*>
      member;
};

// Checks that `node` is a map (or empty) with unique string keys.
// `visit(name, key, value)` handles one entry.
template <typename Visit>
absl::Status ForEachEntry(const YAML::Node& node, const std::string& path,
                          Visit visit) {
  if (node.IsNull()) return absl::OkStatus();  // "section:" with nothing
  if (!node.IsMap()) {
    return KeyError(path.empty() ? "config" : path, node,
                    absl::StrCat("must be a map, got ", Describe(node)));
  }
  std::set<std::string> seen;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      return KeyError(path.empty() ? "config" : path, entry.first,
                      "keys must be strings");
    }
    const std::string& name = entry.first.Scalar();
    const std::string key = JoinKey(path, name);
    // yaml-cpp keeps both copies of a repeated key; which one would win is
    // an accident of lookup order, so refuse to guess.
    if (!seen.insert(name).second) {
      return KeyError(key, entry.first, "duplicate key");
    }
    if (absl::Status s = visit(name, key, entry.second); !s.ok()) return s;
  }
  return absl::OkStatus();
}

template <typename S, size_t N>
absl::Status ParseSection(const YAML::Node& node, const std::string& path,
                          const Field<S> (&fields)[N], S* section) {
  return ForEachEntry(
      node, path,
      [&](const std::string& name, const std::string& key,
          const YAML::Node& value) {
        for (const Field<S>& field : fields) {
          if (name != field.name) continue;
          return std::visit(
              [&](auto member) {
                return ParseValue(value, key, &(section->*member));
              },
              field.member);
        }
        return KeyError(key, value, "unknown key");
      });
}

const Field<KafkaConfig> kKafkaFields[] = {
    {"bootstrap_servers", &KafkaConfig::bootstrap_servers},
    {"group_id", &KafkaConfig::group_id},
    {"topics", &KafkaConfig::topics},
    {"auto_offset_reset", &KafkaConfig::auto_offset_reset},
    {"enable_auto_commit", &KafkaConfig::enable_auto_commit},
    {"group_protocol", &KafkaConfig::group_protocol},
    {"session_timeout_ms", &KafkaConfig::session_timeout_ms},
    {"heartbeat_interval_ms", &KafkaConfig::heartbeat_interval_ms},
    {"fetch_min_bytes", &KafkaConfig::fetch_min_bytes},
    {"fetch_max_wait_ms", &KafkaConfig::fetch_max_wait_ms},
    {"startup_timeout_ms", &KafkaConfig::startup_timeout_ms},
    {"properties", &KafkaConfig::properties},
};

const Field<ProcessingConfig> kProcessingFields[] = {
    {"max_workers", &ProcessingConfig::max_workers},
    {"partition_workers", &ProcessingConfig::partition_workers},
    {"batch_size", &ProcessingConfig::batch_size},
    {"batch_timeout_ms", &ProcessingConfig::batch_timeout_ms},
    {"ordering", &ProcessingConfig::ordering},
    {"max_retries", &ProcessingConfig::max_retries},
    {"retry_backoff_ms", &ProcessingConfig::retry_backoff_ms},
    {"retry_backoff_max_ms", &ProcessingConfig::retry_backoff_max_ms},
    {"error_threshold", &ProcessingConfig::error_threshold},
    {"error_threshold_counts_rejects", &ProcessingConfig::error_threshold_counts_rejects},
    {"error_window_ms", &ProcessingConfig::error_window_ms},
    {"pause_duration_ms", &ProcessingConfig::pause_duration_ms},
    {"ack_timeout_ms", &ProcessingConfig::ack_timeout_ms},
    {"max_extension_ms", &ProcessingConfig::max_extension_ms},
    {"dead_letter_topic", &ProcessingConfig::dead_letter_topic},
    {"dead_letter_on_permanent_failure", &ProcessingConfig::dead_letter_on_permanent_failure},
    {"max_in_flight_messages", &ProcessingConfig::max_in_flight_messages},
    {"max_in_flight_bytes", &ProcessingConfig::max_in_flight_bytes},
    {"commit_interval_ms", &ProcessingConfig::commit_interval_ms},
    {"revoke_timeout_ms", &ProcessingConfig::revoke_timeout_ms},
    {"drain_timeout_ms", &ProcessingConfig::drain_timeout_ms},
};

const Field<TlsConfig> kTlsFields[] = {
    {"cert_file", &TlsConfig::cert_file},
    {"key_file", &TlsConfig::key_file},
    {"client_ca_file", &TlsConfig::client_ca_file},
};

const Field<ServerConfig> kServerFields[] = {
    {"grpc_listen", &ServerConfig::grpc_listen},
    {"http_listen", &ServerConfig::http_listen},
    {"operator_listen", &ServerConfig::operator_listen},
    {"operator_rpcs", &ServerConfig::operator_rpcs},
    {"operator_identities", &ServerConfig::operator_identities},
    {"tls", &ServerConfig::tls},
};

const Field<ObservabilityConfig> kObservabilityFields[] = {
    {"log_level", &ObservabilityConfig::log_level},
    {"log_format", &ObservabilityConfig::log_format},
    {"stats_interval_ms", &ObservabilityConfig::stats_interval_ms},
    {"health_check_interval_ms",
     &ObservabilityConfig::health_check_interval_ms},
    {"stall_timeout_ms", &ObservabilityConfig::stall_timeout_ms},
};

const Field<Config> kSections[] = {
    {"kafka", &Config::kafka},
    {"processing", &Config::processing},
    {"server", &Config::server},
    {"observability", &Config::observability},
};

absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        std::string* out) {
  // "dead_letter_topic:" with no value reads as "none", not as an error.
  if (n.IsNull()) {
    out->clear();
    return absl::OkStatus();
  }
  if (!n.IsScalar()) {
    return KeyError(key, n,
                    absl::StrCat("must be a string, got ", Describe(n)));
  }
  *out = n.Scalar();
  return absl::OkStatus();
}

absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        bool* out) {
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, *out)) {
    return KeyError(key, n,
                    absl::StrCat("must be true or false, got ", Describe(n)));
  }
  return absl::OkStatus();
}

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
}

bool LooksLikeInteger(absl::string_view s) {
  s = absl::StripAsciiWhitespace(s);
  if (!absl::ConsumePrefix(&s, "-")) absl::ConsumePrefix(&s, "+");
  return AllDigits(s);
}

// Decimal only: yaml-cpp's own conversion reads "010" as octal 8 and accepts
// "0x10"; SimpleAtoi also rejects "12abc", "1.5" and overflow of Int.
template <typename Int>
absl::Status ParseInteger(const YAML::Node& n, const std::string& key,
                          Int* out) {
  Int value;
  if (n.IsScalar() && absl::SimpleAtoi(n.Scalar(), &value)) {
    *out = value;
    return absl::OkStatus();
  }
  if (n.IsScalar() && LooksLikeInteger(n.Scalar())) {
    return KeyError(key, n,
                    absl::StrCat("must be between ",
                                 std::numeric_limits<Int>::min(), " and ",
                                 std::numeric_limits<Int>::max(), ", got ",
                                 n.Scalar()));
  }
  return KeyError(key, n,
                  absl::StrCat("must be an integer, got ", Describe(n)));
}

absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        int32_t* out) {
  return ParseInteger(n, key, out);
}
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        uint32_t* out) {
  return ParseInteger(n, key, out);
}
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        uint64_t* out) {
  return ParseInteger(n, key, out);
}

absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        OrderingMode* out) {
  for (OrderingMode mode : {OrderingMode::kPartition, OrderingMode::kNone}) {
    if (n.IsScalar() && n.Scalar() == OrderingModeName(mode)) {
      *out = mode;
      return absl::OkStatus();
    }
  }
  return KeyError(key, n,
                  absl::StrCat("must be one of partition, none; got ",
                               Describe(n)));
}

// A list, or one comma-separated string (the form environment variables and
// flags naturally take).
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        std::vector<std::string>* out) {
  out->clear();
  if (n.IsNull()) return absl::OkStatus();
  if (n.IsScalar()) {
    const absl::string_view text = absl::StripAsciiWhitespace(n.Scalar());
    if (text.empty()) return absl::OkStatus();
    // Empty pieces are kept so that validation reports "a,,b".
    for (absl::string_view topic : absl::StrSplit(text, ',')) {
      out->emplace_back(absl::StripAsciiWhitespace(topic));
    }
    return absl::OkStatus();
  }
  if (n.IsSequence()) {
    for (const YAML::Node& item : n) {
      if (!item.IsScalar()) {
        return KeyError(key, item,
                        absl::StrCat("must be a list of strings, one item is ",
                                     Describe(item)));
      }
      out->push_back(item.Scalar());
    }
    return absl::OkStatus();
  }
  return KeyError(key, n,
                  absl::StrCat("must be a list of strings, got ", Describe(n)));
}

// Values are taken as written ("true", "500", "1.5") because librdkafka wants
// strings. Errors never quote a value: sasl.password and friends live here.
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        StringMap* out) {
  return ForEachEntry(n, key,
                      [&](const std::string& name, const std::string& prop_key,
                          const YAML::Node& value) {
                        if (!value.IsScalar()) {
                          return KeyError(
                              prop_key, value,
                              "must be a string, number or boolean");
                        }
                        (*out)[name] = value.Scalar();
                        return absl::OkStatus();
                      });
}

absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        KafkaConfig* out) {
  return ParseSection(n, key, kKafkaFields, out);
}
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        ProcessingConfig* out) {
  return ParseSection(n, key, kProcessingFields, out);
}
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        ServerConfig* out) {
  return ParseSection(n, key, kServerFields, out);
}
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        TlsConfig* out) {
  return ParseSection(n, key, kTlsFields, out);
}
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        ObservabilityConfig* out) {
  return ParseSection(n, key, kObservabilityFields, out);
}
absl::Status ParseValue(const YAML::Node& n, const std::string& key,
                        Config* out) {
  return ParseSection(n, key, kSections, out);
}

// ---------------------------------------------------------------------------
// Walking the tables key by key: for the environment, flags, --help and
// --print-config, which address single keys rather than whole documents.

template <typename T>
constexpr bool kIsSection =
    std::is_same_v<T, KafkaConfig> || std::is_same_v<T, ProcessingConfig> ||
    std::is_same_v<T, ServerConfig> || std::is_same_v<T, TlsConfig> ||
    std::is_same_v<T, ObservabilityConfig>;

const auto& FieldsOf(const Config*) { return kSections; }
const auto& FieldsOf(const KafkaConfig*) { return kKafkaFields; }
const auto& FieldsOf(const ProcessingConfig*) { return kProcessingFields; }
const auto& FieldsOf(const ServerConfig*) { return kServerFields; }
const auto& FieldsOf(const TlsConfig*) { return kTlsFields; }
const auto& FieldsOf(const ObservabilityConfig*) { return kObservabilityFields; }

// Calls leaf(dotted_key, value) for every non-section member, in table
// order. `S` may be const, and then so are the values.
template <typename S, typename Leaf>
void WalkLeaves(S& section, const std::string& path, Leaf& leaf) {
  using Plain = std::remove_const_t<S>;
  for (const Field<Plain>& field : FieldsOf(static_cast<const Plain*>(nullptr))) {
    std::visit(
        [&](auto member) {
          auto& value = section.*member;
          using T = std::remove_cv_t<std::remove_reference_t<decltype(value)>>;
          const std::string key = JoinKey(path, field.name);
          if constexpr (kIsSection<T>) {
            WalkLeaves(value, key, leaf);
          } else {
            leaf(key, value);
          }
        },
        field.member);
  }
}

template <typename T>
const char* KindOf() {
  if constexpr (std::is_same_v<T, std::string>) {
    return "string";
  } else if constexpr (std::is_same_v<T, bool>) {
    return "true|false";
  } else if constexpr (std::is_integral_v<T>) {
    return "integer";
  } else if constexpr (std::is_same_v<T, OrderingMode>) {
    return "partition|none";
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    return "list";
  } else if constexpr (std::is_same_v<T, StringMap>) {
    return "map";
  } else {
    static_assert(!std::is_same_v<T, T>, "a field type without a kind");
  }
}

template <typename T>
ConfigValue ToConfigValue(const T& value) {
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, uint64_t>) {
    return value;
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<int64_t>(value);
  } else if constexpr (std::is_same_v<T, OrderingMode>) {
    return OrderingModeName(value);
  } else {
    return value;
  }
}

// This abseil's string_view is its own type, not std::string_view.
absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

// NAME of "kafka.properties.NAME" (possibly empty); nullopt for other keys.
std::optional<absl::string_view> PropertyName(absl::string_view key) {
  if (!absl::ConsumePrefix(&key, kPropertiesKey) ||
      !absl::ConsumePrefix(&key, ".")) {
    return std::nullopt;
  }
  return key;
}

}  // namespace

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey>* const keys = [] {
    auto* list = new std::vector<ConfigKey>;
    const Config defaults;
    auto leaf = [&](const std::string& key, const auto& value) {
      using T = std::remove_cv_t<std::remove_reference_t<decltype(value)>>;
      list->push_back({key, KindOf<T>()});
    };
    WalkLeaves(defaults, "", leaf);
    return list;
  }();
  return *keys;
}

bool IsConfigKey(std::string_view key) {
  if (const auto name = PropertyName(ToAbsl(key))) return !name->empty();
  const std::vector<ConfigKey>& keys = ConfigKeys();
  return std::any_of(keys.begin(), keys.end(),
                     [&](const ConfigKey& k) { return k.name == key; });
}

absl::Status SetConfigValue(Config* config, std::string_view key,
                            std::string_view text) {
  if (const auto name = PropertyName(ToAbsl(key))) {
    if (name->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          kPropertiesKey, ".: the librdkafka property name is missing"));
    }
    config->kafka.properties[std::string(*name)] = std::string(text);
    return absl::OkStatus();
  }
  std::optional<absl::Status> result;
  auto leaf = [&](const std::string& leaf_key, auto& value) {
    using T = std::remove_cv_t<std::remove_reference_t<decltype(value)>>;
    if (result.has_value() || leaf_key != key) return;
    if constexpr (std::is_same_v<T, StringMap>) {
      result = absl::InvalidArgumentError(absl::StrCat(
          leaf_key, ": set one property as ", leaf_key, ".NAME"));
    } else {
      // A node built from a string is a plain scalar with no mark: the
      // same checks as the file's, and no line number in the error.
      result = ParseValue(YAML::Node(std::string(text)), leaf_key, &value);
    }
  };
  WalkLeaves(*config, "", leaf);
  if (!result.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(key), ": unknown key"));
  }
  return *result;
}

void ForEachConfigValue(
    const Config& config,
    const std::function<void(const ConfigKey&, const ConfigValue&)>& fn) {
  const std::vector<ConfigKey>& keys = ConfigKeys();
  size_t index = 0;
  auto leaf = [&](const std::string&, const auto& value) {
    // Same walk, same order as ConfigKeys.
    fn(keys[index++], ToConfigValue(value));
  };
  WalkLeaves(config, "", leaf);
}

absl::Status MergeConfigNode(const YAML::Node& root, Config* config) {
  return ParseValue(root, "", config);
}

std::string OrderingModeName(OrderingMode mode) {
  switch (mode) {
    case OrderingMode::kPartition:
      return "partition";
    case OrderingMode::kNone:
      return "none";
  }
  return "unknown";
}

}  // namespace kafka_sidecar
