#include "sidecar/kafka/auth_failure_log.h"

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kafka_sidecar {
namespace {

// Where to look, by what librdkafka says went wrong.
std::string Hint(absl::string_view failure, int librdkafka_version) {
  if (absl::StrContains(failure, "credentials") ||
      absl::StrContains(failure, "Authentication failed")) {
    std::string hint = "check kafka.properties sasl.username / sasl.password";
    if (absl::StrContains(failure, "SCRAM") && librdkafka_version < kScramFixedInLibrdkafka) {
      absl::StrAppend(&hint, "; if they are right: librdkafka ", (librdkafka_version >> 24) & 0xff,
                      ".", (librdkafka_version >> 16) & 0xff, ".",
                      (librdkafka_version >> 8) & 0xff,
                      ", which this sidecar uses, cannot log in with SCRAM to Apache Kafka 4.0 "
                      "or later (fixed in librdkafka 2.6.1); use sasl.mechanisms=PLAIN with "
                      "security.protocol=SASL_SSL for such brokers");
    }
    return hint;
  }
  if (absl::StrContains(failure, "SASL") || absl::StrContains(failure, "mechanism")) {
    return "check kafka.properties sasl.mechanisms and security.protocol against the "
           "broker's listener";
  }
  return "check kafka.properties security.protocol and the sasl.* / ssl.* settings";
}

}  // namespace

std::string AuthFailureLog::Line(std::string_view prefix, std::string_view failure) const {
  const absl::string_view f(failure.data(), failure.size());
  return absl::StrCat(absl::string_view(prefix.data(), prefix.size()), f, " (",
                      Hint(f, librdkafka_version_), ")");
}

std::string NormalizeAuthFailure(std::string_view reason_in, uint64_t* suppressed) {
  absl::string_view reason(reason_in.data(), reason_in.size());
  *suppressed = 0;
  // "sasl_plaintext://127.0.0.1:9093/bootstrap: ..." names the broker.
  const size_t space = reason.find(' ');
  if (space != absl::string_view::npos && space > 0 && reason[space - 1] == ':' &&
      reason.substr(0, space).find("://") != absl::string_view::npos) {
    reason.remove_prefix(space + 1);
  }
  // "... (after 306ms in state AUTH_REQ, 3 identical error(s) suppressed)".
  const size_t after = reason.rfind(" (after ");
  if (after != absl::string_view::npos && absl::EndsWith(reason, ")")) {
    absl::string_view timing = reason.substr(after);
    const size_t identical = timing.find(" identical error");
    if (identical != absl::string_view::npos) {
      size_t start = identical;
      while (start > 0 && absl::ascii_isdigit(static_cast<unsigned char>(timing[start - 1]))) {
        --start;
      }
      uint64_t n = 0;
      if (absl::SimpleAtoi(timing.substr(start, identical - start), &n)) *suppressed = n;
    }
    reason = reason.substr(0, after);
  }
  return std::string(absl::StripAsciiWhitespace(reason));
}

std::optional<std::string> AuthFailureLog::OnFailure(std::string_view reason) {
  uint64_t suppressed = 0;
  std::string failure = NormalizeAuthFailure(reason, &suppressed);
  const MonoTime now = clock_.Now();
  MutexLock lock(&mu_);
  total_ += 1 + suppressed;
  current_ = failure;
  // Failures that alternate (two brokers, two causes) each keep their own
  // pace; a sidecar whose failures keep changing forgets the old ones.
  if (seen_.size() >= kMaxDistinct && seen_.count(failure) == 0) seen_.clear();
  auto [it, fresh] = seen_.try_emplace(std::move(failure));
  Seen& seen = it->second;
  if (fresh) {
    seen.logged_at = now;
    return Line("kafka: authentication failed: ", it->first);
  }
  seen.unlogged += 1 + suppressed;
  if (now - seen.logged_at < repeat_interval_) return std::nullopt;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - seen.logged_at);
  std::string line = Line(absl::StrCat("kafka: authentication failed ", seen.unlogged,
                                       " more time(s) in the last ", seconds.count(), " s: "),
                          it->first);
  seen.logged_at = now;
  seen.unlogged = 0;
  return line;
}

std::optional<std::string> AuthFailureLog::OnSuccess() {
  MutexLock lock(&mu_);
  if (current_.empty()) return std::nullopt;
  std::string line =
      absl::StrCat("kafka: authenticated, after ", total_, " failed attempt(s)");
  current_.clear();
  seen_.clear();
  total_ = 0;
  return line;
}

std::string AuthFailureLog::last_error() const {
  MutexLock lock(&mu_);
  return current_;
}

}  // namespace kafka_sidecar
