// Example kafka-sidecar handler in C++: decodes each message as UTF-8 JSON,
// sums its numeric fields, and rejects what does not parse (the sidecar
// dead-letters it with the parse error as the reason). An object with
// "fail_once": true is retried once, after 50 ms (order_digest.h).
//
// Environment:
//   SIDECAR_ADDRESS  gRPC target of the sidecar (default 127.0.0.1:50051;
//                    "unix:/path" for a Unix socket)
//   HANDLER_NAME     name shown in the sidecar's stats (default cpp-example)
//
// Runs until the sidecar drains or SIGTERM/SIGINT, then settles what it
// holds and exits 0.
#include <cstdio>

#include "kafka_sidecar_client/run_handler.h"
#include "order_digest.h"

int main() {
  kafka_sidecar_client::Options options;
  options.handler_name = kafka_sidecar_client::HandlerNameFromEnv("cpp-example");

  example::OrderDigest digest;
  kafka_sidecar_client::RunHandler(
      [&digest](const kafka_sidecar_client::Message& m) { return digest(m); }, options);
  std::fprintf(stderr, "exiting after %llu messages, sum %.0f\n",
               static_cast<unsigned long long>(digest.count()), digest.total());
  return 0;
}
