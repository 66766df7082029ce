// A complete kafka-sidecar handler: ACK every message whose value is JSON,
// REJECT (dead-letter) tombstones and malformed JSON. Connects to
// $SIDECAR_ADDRESS as $HANDLER_NAME; on SIGTERM it settles what it holds
// and exits 0.
#include <kafka_sidecar_client/run_handler.h>

#include <nlohmann/json.hpp>

using kafka_sidecar_client::Message;
using kafka_sidecar_client::Outcome;

int main() {
  kafka_sidecar_client::RunHandler([](const Message& message) {
    if (!message.value()) return Outcome::Reject("tombstone");
    if (!nlohmann::json::accept(*message.value())) return Outcome::Reject("not JSON");
    return Outcome::Ack();
  });
}
