#include "sidecar/config/config_loader.h"

#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "yaml-cpp/eventhandler.h"
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
    {"session_timeout_ms", &KafkaConfig::session_timeout_ms},
    {"heartbeat_interval_ms", &KafkaConfig::heartbeat_interval_ms},
    {"fetch_min_bytes", &KafkaConfig::fetch_min_bytes},
    {"fetch_max_wait_ms", &KafkaConfig::fetch_max_wait_ms},
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
    {"error_window_ms", &ProcessingConfig::error_window_ms},
    {"pause_duration_ms", &ProcessingConfig::pause_duration_ms},
    {"ack_timeout_ms", &ProcessingConfig::ack_timeout_ms},
    {"dead_letter_topic", &ProcessingConfig::dead_letter_topic},
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
// Validation.

absl::Status Invalid(absl::string_view key, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(key, ": ", problem));
}

constexpr int64_t kNoMax = std::numeric_limits<int64_t>::max();

struct IntRule {
  const char* key;
  int64_t value;
  int64_t min;
  int64_t max = kNoMax;
};

absl::Status CheckRange(const IntRule& rule) {
  if (rule.value >= rule.min && rule.value <= rule.max) {
    return absl::OkStatus();
  }
  if (rule.max == kNoMax) {
    return Invalid(rule.key, absl::StrCat("must be at least ", rule.min,
                                          ", got ", rule.value));
  }
  return Invalid(rule.key, absl::StrCat("must be between ", rule.min, " and ",
                                        rule.max, ", got ", rule.value));
}

// Only lower bounds are checked on uint64 fields, so saturating is harmless.
int64_t Saturate(uint64_t v) {
  return v > static_cast<uint64_t>(kNoMax) ? kNoMax : static_cast<int64_t>(v);
}

absl::Status CheckOneOf(absl::string_view key, const std::string& value,
                        std::initializer_list<absl::string_view> allowed) {
  for (absl::string_view a : allowed) {
    if (value == a) return absl::OkStatus();
  }
  return Invalid(key, absl::StrCat("must be one of ",
                                   absl::StrJoin(allowed, ", "), "; got \"",
                                   value, "\""));
}

constexpr char kHostNameChars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";

absl::Status CheckHostPort(absl::string_view key, absl::string_view addr,
                           absl::string_view expected) {
  auto bad = [&](absl::string_view why) {
    return Invalid(key, absl::StrCat(why, ", got \"", addr, "\""));
  };
  const size_t colon = addr.rfind(':');
  if (colon == absl::string_view::npos) {
    return bad(absl::StrCat("must be ", expected));
  }
  const absl::string_view host = addr.substr(0, colon);
  const absl::string_view port = addr.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    if (host.find_first_not_of("0123456789abcdefABCDEF:.", 1) !=
        host.size() - 1) {
      return bad("invalid IPv6 address");
    }
  } else if (host.empty() || host.find_first_not_of(kHostNameChars) !=
                                 absl::string_view::npos) {
    return bad(absl::StrCat("must be ", expected,
                            " (IPv6 addresses in brackets: [::1]:port)"));
  }
  int port_number = 0;
  if (!AllDigits(port) || !absl::SimpleAtoi(port, &port_number) ||
      port_number < 1 || port_number > 65535) {
    return bad("port must be between 1 and 65535");
  }
  return absl::OkStatus();
}

absl::Status CheckGrpcListen(absl::string_view key, absl::string_view addr) {
  absl::string_view path = addr;
  if (!absl::ConsumePrefix(&path, "unix:")) {
    return CheckHostPort(key, addr, "host:port or unix:/absolute/path");
  }
  // A relative socket path would depend on the working directory of the pod.
  if (path.size() < 2 || path.front() != '/') {
    return Invalid(key, absl::StrCat(
                            "unix socket path must be absolute, got \"", addr,
                            "\""));
  }
  constexpr size_t kMaxPath = sizeof(sockaddr_un{}.sun_path) - 1;
  if (path.size() > kMaxPath) {
    return Invalid(key, absl::StrCat("unix socket path longer than ", kMaxPath,
                                     " bytes, got \"", addr, "\""));
  }
  return absl::OkStatus();
}

// Properties the sidecar sets from its own keys: allowing both would leave
// it unclear which wins, and e.g. enable.auto.commit changes the semantics.
struct ReservedProperty {
  const char* property;
  const char* key;
};
constexpr ReservedProperty kReservedProperties[] = {
    {"bootstrap.servers", "kafka.bootstrap_servers"},
    {"metadata.broker.list", "kafka.bootstrap_servers"},
    {"group.id", "kafka.group_id"},
    {"auto.offset.reset", "kafka.auto_offset_reset"},
    {"enable.auto.commit", "kafka.enable_auto_commit"},
    {"enable.auto.offset.store", "kafka.enable_auto_commit"},
    {"session.timeout.ms", "kafka.session_timeout_ms"},
    {"heartbeat.interval.ms", "kafka.heartbeat_interval_ms"},
    {"fetch.min.bytes", "kafka.fetch_min_bytes"},
    {"fetch.wait.max.ms", "kafka.fetch_max_wait_ms"},
};

absl::Status ValidateKafka(const KafkaConfig& k) {
  if (absl::StripAsciiWhitespace(k.bootstrap_servers).empty()) {
    return Invalid("kafka.bootstrap_servers", "is required");
  }
  if (k.group_id.empty()) return Invalid("kafka.group_id", "is required");
  if (k.topics.empty()) {
    return Invalid("kafka.topics", "must list at least one topic");
  }
  for (const std::string& topic : k.topics) {
    if (topic.empty()) {
      return Invalid("kafka.topics", "topic names must not be empty");
    }
  }
  if (absl::Status s = CheckOneOf("kafka.auto_offset_reset",
                                  k.auto_offset_reset, {"earliest", "latest"});
      !s.ok()) {
    return s;
  }
  for (const ReservedProperty& r : kReservedProperties) {
    if (k.properties.count(r.property) != 0) {
      return Invalid(absl::StrCat("kafka.properties.", r.property),
                     absl::StrCat("set ", r.key, " instead"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateServer(const ServerConfig& s) {
  if (absl::Status st = CheckGrpcListen("server.grpc_listen", s.grpc_listen);
      !st.ok()) {
    return st;
  }
  if (absl::StartsWith(s.http_listen, "unix:")) {
    return Invalid("server.http_listen",
                   absl::StrCat("must be host:port or empty (no unix sockets "
                                "for HTTP), got \"", s.http_listen, "\""));
  }
  if (!s.http_listen.empty()) {
    if (absl::Status st = CheckHostPort("server.http_listen", s.http_listen,
                                        "host:port or empty");
        !st.ok()) {
      return st;
    }
  }
  const TlsConfig& tls = s.tls;
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return tls.cert_file.empty()
               ? Invalid("server.tls.cert_file",
                         "must be set when server.tls.key_file is set")
               : Invalid("server.tls.key_file",
                         "must be set when server.tls.cert_file is set");
  }
  if (!tls.client_ca_file.empty() && tls.cert_file.empty()) {
    return Invalid("server.tls.client_ca_file",
                   "requires server.tls.cert_file and server.tls.key_file");
  }
  return absl::OkStatus();
}

}  // namespace

std::string OrderingModeName(OrderingMode mode) {
  switch (mode) {
    case OrderingMode::kPartition:
      return "partition";
    case OrderingMode::kNone:
      return "none";
  }
  return "unknown";
}

absl::Status ValidateConfig(const Config& c) {
  if (absl::Status s = ValidateKafka(c.kafka); !s.ok()) return s;

  const KafkaConfig& k = c.kafka;
  const ProcessingConfig& p = c.processing;
  const ObservabilityConfig& o = c.observability;
  // Zero is allowed only where it means something: no wait, no retries, no
  // pause, no stats line.
  const IntRule rules[] = {
      {"kafka.session_timeout_ms", k.session_timeout_ms, 1},
      {"kafka.heartbeat_interval_ms", k.heartbeat_interval_ms, 1},
      {"kafka.fetch_min_bytes", k.fetch_min_bytes, 1},
      {"kafka.fetch_max_wait_ms", k.fetch_max_wait_ms, 0},
      {"processing.max_workers", p.max_workers, 1, 1024},
      {"processing.partition_workers", p.partition_workers, 1},
      {"processing.batch_size", p.batch_size, 1},
      {"processing.batch_timeout_ms", p.batch_timeout_ms, 0},
      {"processing.max_retries", p.max_retries, 0},
      {"processing.retry_backoff_ms", p.retry_backoff_ms, 0},
      {"processing.retry_backoff_max_ms", p.retry_backoff_max_ms, 0},
      {"processing.error_threshold", p.error_threshold, 1},
      {"processing.error_window_ms", p.error_window_ms, 1},
      {"processing.pause_duration_ms", p.pause_duration_ms, 0},
      {"processing.ack_timeout_ms", p.ack_timeout_ms, 1},
      {"processing.max_in_flight_messages", p.max_in_flight_messages, 1},
      {"processing.max_in_flight_bytes", Saturate(p.max_in_flight_bytes), 1},
      {"processing.commit_interval_ms", p.commit_interval_ms, 1},
      {"processing.revoke_timeout_ms", p.revoke_timeout_ms, 0},
      {"processing.drain_timeout_ms", p.drain_timeout_ms, 0},
      {"observability.stats_interval_ms", o.stats_interval_ms, 0},
      {"observability.health_check_interval_ms", o.health_check_interval_ms, 1},
      {"observability.stall_timeout_ms", o.stall_timeout_ms, 1},
  };
  for (const IntRule& rule : rules) {
    if (absl::Status s = CheckRange(rule); !s.ok()) return s;
  }

  // The broker rejects the join otherwise, long after start-up.
  if (k.heartbeat_interval_ms >= k.session_timeout_ms) {
    return Invalid("kafka.heartbeat_interval_ms",
                   absl::StrCat("must be less than kafka.session_timeout_ms (",
                                k.session_timeout_ms, "), got ",
                                k.heartbeat_interval_ms));
  }
  if (p.retry_backoff_ms > p.retry_backoff_max_ms) {
    return Invalid("processing.retry_backoff_ms",
                   absl::StrCat("must not exceed "
                                "processing.retry_backoff_max_ms (",
                                p.retry_backoff_max_ms, "), got ",
                                p.retry_backoff_ms));
  }
  if (p.ordering != OrderingMode::kPartition &&
      p.ordering != OrderingMode::kNone) {
    return Invalid("processing.ordering", "must be one of partition, none");
  }

  if (absl::Status s = ValidateServer(c.server); !s.ok()) return s;

  if (absl::Status s = CheckOneOf("observability.log_level", o.log_level,
                                  {"trace", "debug", "info", "warn", "error",
                                   "critical", "off"});
      !s.ok()) {
    return s;
  }
  return CheckOneOf("observability.log_format", o.log_format,
                    {"text", "json"});
}

namespace {

// Where each document of a stream starts; builds no nodes.
class DocumentStarts final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  std::vector<YAML::Mark> starts;
};

// Counts the documents in `text`. Not YAML::LoadAll: on a token no node can
// start with (a ',' outside any collection) yaml-cpp 0.7 reports an empty
// document without consuming the token, and LoadAll collects empty documents
// until memory runs out (jbeder/yaml-cpp#1040, fixed after 0.8.0). A document
// that starts where the previous one did is that case. Throws like LoadAll.
absl::StatusOr<size_t> CountDocuments(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts handler;
  while (parser.HandleNextDocument(handler)) {
    const std::vector<YAML::Mark>& s = handler.starts;
    if (s.size() >= 2 && s[s.size() - 1].pos == s[s.size() - 2].pos) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "YAML syntax error at line %d, column %d: unexpected character",
          s.back().line + 1, s.back().column + 1));
    }
  }
  return handler.starts.size();
}

}  // namespace

absl::Status MergeConfigYaml(std::string_view yaml_text, Config* config) {
  try {
    const std::string text(yaml_text);
    const absl::StatusOr<size_t> docs = CountDocuments(text);
    if (!docs.ok()) return docs.status();
    // A second document would otherwise be ignored without a word.
    if (*docs > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: expected one YAML document, found ", *docs));
    }
    if (*docs == 0) return absl::OkStatus();
    return ParseValue(YAML::Load(text), "", config);
  } catch (const YAML::Exception& e) {
    // Marks are 0-based; editors count from 1.
    if (e.mark.is_null()) {
      return absl::InvalidArgumentError(
          absl::StrCat("YAML syntax error: ", e.msg));
    }
    return absl::InvalidArgumentError(
        absl::StrFormat("YAML syntax error at line %d, column %d: %s",
                        e.mark.line + 1, e.mark.column + 1, e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: cannot parse: ", e.what()));
  }
}

absl::StatusOr<Config> ParseConfigYaml(std::string_view yaml_text) {
  Config config;
  if (absl::Status s = MergeConfigYaml(yaml_text, &config); !s.ok()) return s;
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  // stdio rather than ifstream: it reports why (ENOENT, EACCES, EISDIR).
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(
      std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config file ", path, ": cannot open: ", std::strerror(errno)));
  }
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    text.append(buffer, n);
  }
  if (std::ferror(file.get())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config file ", path, ": cannot read: ", std::strerror(errno)));
  }
  absl::StatusOr<Config> config = ParseConfigYaml(text);
  if (!config.ok()) {
    // Keep the key first; the path goes last.
    return absl::InvalidArgumentError(
        absl::StrCat(config.status().message(), " [in ", path, "]"));
  }
  return config;
}

}  // namespace kafka_sidecar
