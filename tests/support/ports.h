// Free TCP ports on loopback for processes the tests start.
#pragma once

namespace kafka_sidecar::testing {

// A port on 127.0.0.1 that was free a moment ago: the kernel picks it and the
// socket is closed again, so another process may still take it before the
// caller binds it. Good enough for tests; -1 if no socket could be bound.
int PickFreePort();

}  // namespace kafka_sidecar::testing
