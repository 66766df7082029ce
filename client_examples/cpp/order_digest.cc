#include "order_digest.h"

#include <string>

#include <nlohmann/json.hpp>

namespace example {

using kafka_sidecar_client::Outcome;

Outcome OrderDigest::operator()(const kafka_sidecar_client::Message& message) {
  const auto value = message.value();
  if (!value) return Outcome::Reject("tombstone: no value to process");
  nlohmann::json doc;
  try {
    // nlohmann's parser also refuses ill-formed UTF-8 inside strings.
    doc = nlohmann::json::parse(value->begin(), value->end());
  } catch (const nlohmann::json::parse_error& e) {
    return Outcome::Reject(std::string("not UTF-8 JSON: ") + e.what());
  }
  if (!doc.is_object()) {
    return Outcome::Reject(std::string("expected a JSON object, got ") + doc.type_name());
  }
  // delivery_attempt is 1 on a first delivery (0 from a sidecar that does
  // not fill it in): only then is the failure "transient".
  const auto fail_once = doc.find("fail_once");
  if (fail_once != doc.end() && *fail_once == true && message.delivery_attempt() <= 1) {
    return Outcome::Retry(kFailOnceReason, kFailOnceRetryAfter);
  }
  double amount = 0;
  for (const auto& field : doc.items()) {
    if (field.value().is_number()) amount += field.value().get<double>();
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++count_;
  total_ += amount;
  return Outcome::Ack();
}

uint64_t OrderDigest::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

double OrderDigest::total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

}  // namespace example
