#include "order_digest.h"

#include <string>

#include <nlohmann/json.hpp>

namespace example {

bool OrderDigest::operator()(const kafka_sidecar_client::Message& message) {
  const auto value = message.value();
  if (!value) throw kafka_sidecar_client::Reject("tombstone: no value to process");
  nlohmann::json doc;
  try {
    // nlohmann's parser also refuses ill-formed UTF-8 inside strings.
    doc = nlohmann::json::parse(value->begin(), value->end());
  } catch (const nlohmann::json::parse_error& e) {
    throw kafka_sidecar_client::Reject(std::string("not UTF-8 JSON: ") + e.what());
  }
  if (!doc.is_object()) {
    throw kafka_sidecar_client::Reject(std::string("expected a JSON object, got ") +
                                       doc.type_name());
  }
  double amount = 0;
  for (const auto& field : doc.items()) {
    if (field.value().is_number()) amount += field.value().get<double>();
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++count_;
  total_ += amount;
  return true;
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
