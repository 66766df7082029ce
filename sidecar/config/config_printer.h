// The effective configuration as YAML, for --print-config.
#pragma once

#include <string>

#include "sidecar/config/config.h"

namespace kafka_sidecar {

// Every key of the key table, in file order, as YAML that ParseConfigYaml
// reads back to the same configuration, except that secret kafka.properties
// values (IsSecretProperty) read "[redacted]".
std::string PrintConfigYaml(const Config& config);

}  // namespace kafka_sidecar
