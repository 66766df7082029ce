// The usual main() of a handler process: connect, run until the sidecar
// drains or SIGTERM/SIGINT arrives (then settle what is held and return).
#pragma once

#include <string>

#include "kafka_sidecar_client/client.h"

namespace kafka_sidecar_client {

// Call from main() before any other thread exists: it blocks SIGTERM and
// SIGINT in every thread and takes them on one of its own. `target` is
// "host:port" or "unix:/path".
RunResult RunHandler(const std::string& target, Handler handler, Options options = {});

}  // namespace kafka_sidecar_client
