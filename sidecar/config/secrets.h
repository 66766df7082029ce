// Which librdkafka properties hold secrets, for everything that prints
// configuration (--print-config, logs, errors, stats).
#pragma once

#include <string_view>

namespace kafka_sidecar {

// What a secret's value is replaced by wherever configuration is shown.
inline constexpr char kRedactedValue[] = "[redacted]";

// True when the value of kafka.properties.`name` may be a secret: passwords,
// client secrets, tokens, JAAS and OAUTHBEARER configs, PEM keys and
// keystores. Deliberately broad: hiding a harmless value costs little,
// showing a password costs a rotation.
bool IsSecretProperty(std::string_view name);

}  // namespace kafka_sidecar
