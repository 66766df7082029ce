// A grpc.health.v1.Health/Check client for tests, over the generic stub so
// the tests need no generated health stubs.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kafka_sidecar::testing {

// "SERVING", "NOT_SERVING", "UNKNOWN" or "SERVICE_UNKNOWN" for `service`
// ("" = the server as a whole); an error if the call failed.
absl::StatusOr<std::string> GrpcHealthCheck(const std::string& target,
                                            const std::string& service = "",
                                            absl::Duration timeout = absl::Seconds(5));

}  // namespace kafka_sidecar::testing
