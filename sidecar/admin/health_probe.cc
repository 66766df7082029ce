// The probe on cpp-httplib's client; nothing outside sidecar/admin sees httplib.
#include "sidecar/admin/health_probe.h"

#include <httplib.h>

#include <chrono>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace kafka_sidecar {
namespace {

struct Target {
  std::string host;
  int port = 0;
  std::string path;
};

absl::Status BadUrl(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--probe needs http://HOST:PORT/PATH (", why, "): ", url.substr(0, 200)));
}

absl::Status ParseUrl(absl::string_view url, Target* target) {
  constexpr absl::string_view kScheme = "http://";
  if (!absl::StartsWith(url, kScheme)) return BadUrl(url, "only http:// is served");
  absl::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const absl::string_view authority = rest.substr(0, slash);
  target->path = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  absl::string_view host;
  absl::string_view port;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos || authority.substr(close + 1, 1) != ":") {
      return BadUrl(url, "an IPv6 host is [ADDRESS]:PORT");
    }
    host = authority.substr(1, close - 1);
    port = authority.substr(close + 2);
  } else {
    const size_t colon = authority.rfind(':');
    if (colon == absl::string_view::npos) return BadUrl(url, "no port");
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return BadUrl(url, "no host");
  if (!absl::SimpleAtoi(port, &target->port) || target->port <= 0 || target->port > 65535) {
    return BadUrl(url, "the port is not a number from 1 to 65535");
  }
  target->host = std::string(host);
  return absl::OkStatus();
}

}  // namespace

absl::Status ProbeHttp(absl::string_view url, absl::Duration timeout) {
  Target target;
  if (absl::Status s = ParseUrl(url, &target); !s.ok()) return s;
  httplib::Client client(target.host, target.port);
  const auto limit = absl::ToChronoMicroseconds(timeout);
  client.set_connection_timeout(limit);
  client.set_read_timeout(limit);
  client.set_write_timeout(limit);
  const httplib::Result result = client.Get(target.path);
  if (!result) {
    return absl::UnavailableError(
        absl::StrCat("no answer from ", url, ": ", httplib::to_string(result.error())));
  }
  if (result->status >= 200 && result->status < 300) return absl::OkStatus();
  // The health endpoints say why in their body; the start of it is enough
  // for a container's health log.
  return absl::UnavailableError(absl::StrCat(result->status, " from ", url, ": ",
                                             result->body.substr(0, 300)));
}

}  // namespace kafka_sidecar
