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
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "sidecar/config/config_keys.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace kafka_sidecar {
namespace {

// ---------------------------------------------------------------------------
// Validation. Parsing (YAML node -> struct field, types only) lives with the
// key table in config_keys.cc; ranges and cross-field rules live here so that
// configs built in code, or layered from the environment and flags, get the
// same checks.

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

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
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
  // Room is left for the "~PID" suffix of the private name the listener
  // binds before publishing the socket (sidecar/server/unix_socket.h).
  constexpr size_t kMaxPath = sizeof(sockaddr_un{}.sun_path) - 1 - 8;
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
    {"group.protocol", "kafka.group_protocol"},
    // Stats and health read librdkafka's statistics at this interval.
    {"statistics.interval.ms", "observability.health_check_interval_ms"},
};

// Under the consumer protocol the broker assigns partitions and owns the
// session: client-side settings for either would be silently meaningless
// (librdkafka refuses them too, but only once the sidecar starts).
absl::Status ValidateConsumerProtocol(const KafkaConfig& k) {
  constexpr char kWhy[] = "does not apply with kafka.group_protocol: consumer";
  const KafkaConfig defaults;
  if (k.session_timeout_ms != defaults.session_timeout_ms) {
    return Invalid("kafka.session_timeout_ms",
                   absl::StrCat(kWhy, " (the broker's group.consumer.session.timeout.ms "
                                "sets it); leave it out"));
  }
  if (k.heartbeat_interval_ms != defaults.heartbeat_interval_ms) {
    return Invalid("kafka.heartbeat_interval_ms",
                   absl::StrCat(kWhy, " (the broker's group.consumer.heartbeat.interval.ms "
                                "sets it); leave it out"));
  }
  if (k.properties.count("partition.assignment.strategy") != 0) {
    return Invalid("kafka.properties.partition.assignment.strategy",
                   absl::StrCat(kWhy, " (the broker assigns; kafka.properties."
                                "group.remote.assignor picks its assignor: uniform or range)"));
  }
  if (k.properties.count("group.protocol.type") != 0) {
    return Invalid("kafka.properties.group.protocol.type", kWhy);
  }
  return absl::OkStatus();
}

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
  if (absl::Status s = CheckOneOf("kafka.group_protocol", k.group_protocol,
                                  {"classic", "consumer"});
      !s.ok()) {
    return s;
  }
  if (k.group_protocol == "consumer") return ValidateConsumerProtocol(k);
  return absl::OkStatus();
}

// Refuses settings that look like a restriction but would not be one.
absl::Status ValidateOperatorAccess(const ServerConfig& s) {
  if (!s.operator_listen.empty()) {
    if (absl::Status st = CheckGrpcListen("server.operator_listen", s.operator_listen);
        !st.ok()) {
      return st;
    }
    if (s.operator_listen == s.grpc_listen) {
      return Invalid("server.operator_listen",
                     absl::StrCat("must differ from server.grpc_listen, got \"",
                                  s.operator_listen, "\""));
    }
  }
  if (absl::Status st = CheckOneOf("server.operator_rpcs", s.operator_rpcs,
                                   {"any", "operator_listener", "tls_identities"});
      !st.ok()) {
    return st;
  }
  if (s.operator_rpcs == "operator_listener" && s.operator_listen.empty()) {
    return Invalid("server.operator_rpcs",
                   "operator_listener requires server.operator_listen");
  }
  if (s.operator_rpcs != "tls_identities") {
    if (!s.operator_identities.empty()) {
      return Invalid("server.operator_identities",
                     "is only used with server.operator_rpcs: tls_identities");
    }
    return absl::OkStatus();
  }
  if (s.tls.client_ca_file.empty()) {
    return Invalid("server.operator_rpcs",
                   "tls_identities requires mutual TLS: set server.tls.cert_file, "
                   "key_file and client_ca_file");
  }
  if (s.operator_identities.empty()) {
    return Invalid("server.operator_identities",
                   "must list at least one identity when server.operator_rpcs is "
                   "tls_identities");
  }
  for (const std::string& identity : s.operator_identities) {
    if (identity.empty()) {
      return Invalid("server.operator_identities", "identities must not be empty");
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
  return ValidateOperatorAccess(s);
}

}  // namespace

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
      {"kafka.startup_timeout_ms", k.startup_timeout_ms, 0},
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
      {"processing.max_extension_ms", p.max_extension_ms, 1},
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
  if (absl::Status s = CheckOneOf("processing.dead_letter_on_permanent_failure",
                                  p.dead_letter_on_permanent_failure, {"pause", "skip"});
      !s.ok()) {
    return s;
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
    return MergeConfigNode(YAML::Load(text), config);
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

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
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
  return text;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<Config> config = ParseConfigYaml(*text);
  if (!config.ok()) {
    // Keep the key first; the path goes last.
    return absl::InvalidArgumentError(
        absl::StrCat(config.status().message(), " [in ", path, "]"));
  }
  return config;
}

}  // namespace kafka_sidecar
