#include "kafka_sidecar_client/env.h"

#include <cstdlib>

namespace kafka_sidecar_client {
namespace {

// Set but empty counts as unset: `FOO= cmd` is a common way to clear one.
std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

std::string SidecarAddressFromEnv() { return EnvOr("SIDECAR_ADDRESS", kDefaultSidecarAddress); }

std::string HandlerNameFromEnv(const std::string& fallback) {
  return EnvOr("HANDLER_NAME", fallback);
}

}  // namespace kafka_sidecar_client
