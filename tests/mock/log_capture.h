// Captures what the in-process sidecar logs through spdlog's default logger,
// so a test can assert that a fault was noticed (e.g. "offset commit
// failed"). Lines still go to stderr as well, for the test's own log.
// Lives here rather than in tests/support because that library does not link
// spdlog; the mock tests link sidecar_core, which does.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "spdlog/sinks/base_sink.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar::testing {

struct CapturedLine {
  spdlog::level::level_enum level;
  std::string text;  // the message alone, without time or level
};

class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<CapturedLine> Lines() const;
  // Lines containing `needle` at `min_level` or above.
  size_t Count(const std::string& needle,
               spdlog::level::level_enum min_level = spdlog::level::trace) const;
  // Waits until at least `count` lines match; false on timeout.
  bool WaitFor(const std::string& needle, absl::Duration timeout,
               spdlog::level::level_enum min_level = spdlog::level::trace,
               size_t count = 1) const;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  size_t CountLocked(const std::string& needle, spdlog::level::level_enum min_level) const;

  mutable std::mutex lines_mu_;
  mutable std::condition_variable lines_cv_;
  std::vector<CapturedLine> lines_;  // guarded by lines_mu_
};

// Installs a default logger writing to a CaptureSink and to stderr for its
// lifetime; restores the previous default logger on destruction.
class LogCapture {
 public:
  explicit LogCapture(spdlog::level::level_enum level = spdlog::level::info);
  ~LogCapture();

  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  CaptureSink& sink() { return *sink_; }
  size_t Count(const std::string& needle,
               spdlog::level::level_enum min_level = spdlog::level::trace) const {
    return sink_->Count(needle, min_level);
  }
  bool WaitFor(const std::string& needle, absl::Duration timeout,
               spdlog::level::level_enum min_level = spdlog::level::trace,
               size_t count = 1) const {
    return sink_->WaitFor(needle, timeout, min_level, count);
  }
  // Every captured line containing `needle`, one per line, for failure output.
  std::string Matching(const std::string& needle, size_t max_lines = 20) const;

 private:
  std::shared_ptr<CaptureSink> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace kafka_sidecar::testing
