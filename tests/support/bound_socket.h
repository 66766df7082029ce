// A Unix socket a test binds itself, standing for another process: one
// killed with its socket file left behind (not listening), or one that
// holds the path (listening).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace kafka_sidecar::testing {

// A Unix socket bound at `path`; listening or not. Closing it leaves the
// file behind, as a killed process does.
class BoundSocket {
 public:
  static absl::StatusOr<std::unique_ptr<BoundSocket>> Bind(const std::string& path, bool listen);
  ~BoundSocket();

  BoundSocket(const BoundSocket&) = delete;
  BoundSocket& operator=(const BoundSocket&) = delete;

 private:
  explicit BoundSocket(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace kafka_sidecar::testing
