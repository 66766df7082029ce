// Example kafka-sidecar handler in C++: decodes each message as UTF-8 JSON,
// sums its numeric fields, and rejects what does not parse (the sidecar
// dead-letters it with the parse error as the reason).
//
// Environment:
//   SIDECAR_ADDRESS  gRPC target of the sidecar (default 127.0.0.1:50051;
//                    "unix:/path" for a Unix socket)
//   HANDLER_NAME     name shown in the sidecar's stats (default cpp-example)
//
// Runs until the sidecar drains or SIGTERM/SIGINT, then settles what it
// holds and exits 0.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kafka_sidecar_client/run_handler.h"
#include "order_digest.h"

namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

}  // namespace

int main() {
  kafka_sidecar_client::Options options;
  options.handler_name = EnvOr("HANDLER_NAME", "cpp-example");
  const std::string target = EnvOr("SIDECAR_ADDRESS", "127.0.0.1:50051");
  std::fprintf(stderr, "%s connecting to %s\n", options.handler_name.c_str(), target.c_str());

  example::OrderDigest digest;
  kafka_sidecar_client::RunHandler(
      target, [&digest](const kafka_sidecar_client::Message& m) { return digest(m); }, options);
  std::fprintf(stderr, "exiting after %llu messages, sum %.0f\n",
               static_cast<unsigned long long>(digest.count()), digest.total());
  return 0;
}
