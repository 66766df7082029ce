#include "sidecar/config/secrets.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace kafka_sidecar {

bool IsSecretProperty(std::string_view name) {
  // Lower case with '.' for '_': the names librdkafka and Java clients use.
  std::string n = absl::AsciiStrToLower(absl::string_view(name.data(), name.size()));
  for (char& c : n) {
    if (c == '_') c = '.';
  }
  for (const char* word : {"password", "secret", "token", "credential",
                           "private", "jaas"}) {
    if (absl::StrContains(n, word)) return true;
  }
  // Exact names and families whose values are key material or carry it:
  // ssl_key is the name librdkafka's C++ API uses for a PEM key.
  for (const char* exact : {"sasl.oauthbearer.config", "ssl.key.pem",
                            "ssl.key"}) {
    if (n == exact) return true;
  }
  return absl::StartsWith(n, "ssl.keystore.");
}

}  // namespace kafka_sidecar
