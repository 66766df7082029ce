// Loading and validating the YAML configuration (SPEC section 4).
//
// Every error is InvalidArgument and its message starts with the dotted key it
// is about ("processing.batch_size: must be at least 1, got 0"), so start-up
// failures point straight at the offending line of the file. Nothing here
// throws: yaml-cpp's exceptions are converted to statuses.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sidecar/config/config.h"
#include "sidecar/config/config_keys.h"

namespace kafka_sidecar {

// Parses `yaml_text` on top of the defaults and validates the result. Keys the
// document leaves out keep their defaults. Unknown keys (anywhere except under
// kafka.properties) are errors.
absl::StatusOr<Config> ParseConfigYaml(std::string_view yaml_text);

// Reads `path` and parses it like ParseConfigYaml; errors name the path.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// The file's bytes; errors name the path and the reason (ENOENT, EACCES, ...).
absl::StatusOr<std::string> ReadConfigFile(const std::string& path);

// Overlays the keys present in `yaml_text` onto `*config` without validating.
// For layering: the file may leave required keys (e.g. kafka.topics) to the
// environment or flags, so validation has to run once, on the merged result.
// On error `*config` may be partly updated.
absl::Status MergeConfigYaml(std::string_view yaml_text, Config* config);

// Range and cross-field checks; ParseConfigYaml and LoadConfigFile call it.
absl::Status ValidateConfig(const Config& config);

}  // namespace kafka_sidecar
