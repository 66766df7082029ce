// The helper's log lines: to Options::log when set, else to stderr.
#pragma once

#include <cstdio>
#include <ctime>
#include <string>

#include "kafka_sidecar_client/options.h"

namespace kafka_sidecar_client {

inline void LogLine(const Options& options, const std::string& line) {
  if (options.log) {
    options.log(line);
    return;
  }
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s kafka_sidecar_client: %s\n", stamp, line.c_str());
}

}  // namespace kafka_sidecar_client
