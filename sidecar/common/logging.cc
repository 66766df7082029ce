#include "sidecar/common/logging.h"

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {
namespace {

constexpr char kLoggerName[] = "kafka-sidecar";

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), 0 if there is
// none.
size_t Utf8SequenceLength(const unsigned char* s, size_t n) {
  const unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  }
  return len;
}

void Append(std::string_view s, spdlog::memory_buf_t& dest) {
  dest.append(s.data(), s.data() + s.size());
}

void AppendJsonEscaped(std::string_view text, spdlog::memory_buf_t& dest) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c >= 0x80) {
      if (const size_t len = Utf8SequenceLength(s + i, n - i); len > 0) {
        Append(text.substr(i, len), dest);
        i += len;
      } else {
        // JSON must be UTF-8: a stray byte becomes U+FFFD.
        Append("\\ufffd", dest);
        ++i;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"': Append("\\\"", dest); continue;
      case '\\': Append("\\\\", dest); continue;
      case '\n': Append("\\n", dest); continue;
      case '\r': Append("\\r", dest); continue;
      case '\t': Append("\\t", dest); continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {
      const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      dest.append(escape, escape + sizeof(escape));
    } else {
      dest.push_back(static_cast<char>(c));
    }
  }
}

// %* in the pattern: the message as the inside of a JSON string.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    AppendJsonEscaped(std::string_view(msg.payload.data(), msg.payload.size()),
                      dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeLogFormatter(std::string_view log_format) {
  if (log_format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(
        spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"msg":"%*"})");
    return formatter;
  }
  return std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%t] %v");
}

absl::Status SetUpLogging(const ObservabilityConfig& config) {
  const spdlog::level::level_enum level = spdlog::level::from_str(config.log_level);
  if (level == spdlog::level::off && config.log_level != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("observability.log_level: unknown level '", config.log_level, "'"));
  }
  spdlog::drop(kLoggerName);  // a second call replaces the first logger
  auto logger = spdlog::stderr_logger_mt(kLoggerName);
  logger->set_level(level);
  logger->set_formatter(MakeLogFormatter(config.log_format));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return absl::OkStatus();
}

}  // namespace kafka_sidecar
