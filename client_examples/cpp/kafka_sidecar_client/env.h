// Defaults from the environment, so a handler process needs no
// configuration code of its own.
#pragma once

#include <string>

namespace kafka_sidecar_client {

inline constexpr char kDefaultSidecarAddress[] = "127.0.0.1:50051";
inline constexpr char kDefaultHandlerName[] = "cpp-handler";

// $SIDECAR_ADDRESS ("host:port" or "unix:/path"), else 127.0.0.1:50051.
std::string SidecarAddressFromEnv();

// $HANDLER_NAME, else `fallback`.
std::string HandlerNameFromEnv(const std::string& fallback = kDefaultHandlerName);

}  // namespace kafka_sidecar_client
