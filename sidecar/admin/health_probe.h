// `kafka-sidecar --probe URL`: one GET of the admin endpoint from inside the
// sidecar's own container. The runtime image carries no shell and no curl,
// so its HEALTHCHECK (and any exec probe) runs the binary itself.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kafka_sidecar {

// GETs `url` (http://HOST:PORT/PATH; HOST may be a name, an IPv4 address or
// a bracketed IPv6 one) within `timeout`, connect included.
//   OK                  a 2xx answer
//   UnavailableError    another status, or no answer (refused, timed out);
//                       the message names the URL, the status and the start
//                       of the body, e.g. "503 from http://...: {\"live\":false}"
//   InvalidArgumentError a URL this probe cannot GET (not http://, no port)
absl::Status ProbeHttp(absl::string_view url, absl::Duration timeout);

}  // namespace kafka_sidecar
