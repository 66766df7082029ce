// The usual main() of a handler process: connect, run until the sidecar
// drains or SIGTERM/SIGINT arrives (then settle what is held and return).
//
//   int main() {
//     kafka_sidecar_client::RunHandler([](const kafka_sidecar_client::Message& m) {
//       return kafka_sidecar_client::Outcome::Ack();
//     });
//   }
#pragma once

#include <string>

#include "kafka_sidecar_client/client.h"
#include "kafka_sidecar_client/env.h"

namespace kafka_sidecar_client {

// Call from main() before any other thread exists: unless
// Options::handle_signals is off, it blocks SIGTERM and SIGINT in every
// thread and takes them on one of its own. `target` is "host:port" or
// "unix:/path"; the channel is plaintext (use Client for TLS).
RunResult RunHandler(const std::string& target, Handler handler, Options options = {});

// The target from $SIDECAR_ADDRESS (default 127.0.0.1:50051).
inline RunResult RunHandler(Handler handler, Options options = {}) {
  return RunHandler(SidecarAddressFromEnv(), std::move(handler), std::move(options));
}

}  // namespace kafka_sidecar_client
