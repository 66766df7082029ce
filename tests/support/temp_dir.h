// A directory for one test's files (certificates, sockets, tool output),
// removed with everything in it when the object goes.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace kafka_sidecar::testing {

class TempDir {
 public:
  // Under /tmp rather than $TMPDIR: a Unix socket path must fit in 108 bytes.
  static absl::StatusOr<std::unique_ptr<TempDir>> Create(const std::string& prefix);
  // Kept when SIDECAR_TEST_KEEP_DIRS is set, for a post-mortem.
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace kafka_sidecar::testing
