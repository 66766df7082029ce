#include "tests/mock/log_capture.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace kafka_sidecar::testing {

void CaptureSink::sink_it_(const spdlog::details::log_msg& msg) {
  CapturedLine line{msg.level, std::string(msg.payload.data(), msg.payload.size())};
  {
    std::lock_guard<std::mutex> lock(lines_mu_);
    lines_.push_back(std::move(line));
  }
  lines_cv_.notify_all();
}

std::vector<CapturedLine> CaptureSink::Lines() const {
  std::lock_guard<std::mutex> lock(lines_mu_);
  return lines_;
}

size_t CaptureSink::CountLocked(const std::string& needle,
                                spdlog::level::level_enum min_level) const {
  size_t n = 0;
  for (const CapturedLine& line : lines_) {
    if (line.level >= min_level && line.text.find(needle) != std::string::npos) ++n;
  }
  return n;
}

size_t CaptureSink::Count(const std::string& needle, spdlog::level::level_enum min_level) const {
  std::lock_guard<std::mutex> lock(lines_mu_);
  return CountLocked(needle, min_level);
}

bool CaptureSink::WaitFor(const std::string& needle, absl::Duration timeout,
                          spdlog::level::level_enum min_level, size_t count) const {
  std::unique_lock<std::mutex> lock(lines_mu_);
  return lines_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                            [&] { return CountLocked(needle, min_level) >= count; });
}

LogCapture::LogCapture(spdlog::level::level_enum level)
    : sink_(std::make_shared<CaptureSink>()), previous_(spdlog::default_logger()) {
  auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(
      "mock-test", spdlog::sinks_init_list{sink_, stderr_sink});
  logger->set_level(level);
  logger->set_pattern("%H:%M:%S.%e %l [%t] %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

LogCapture::~LogCapture() {
  if (previous_ != nullptr) spdlog::set_default_logger(previous_);
}

std::string LogCapture::Matching(const std::string& needle, size_t max_lines) const {
  std::string out;
  size_t n = 0;
  for (const CapturedLine& line : sink_->Lines()) {
    if (line.text.find(needle) == std::string::npos) continue;
    if (n++ == max_lines) {
      absl::StrAppend(&out, "  ...\n");
      break;
    }
    absl::StrAppend(&out, "  ", line.text, "\n");
  }
  return out.empty() ? "  (none)\n" : out;
}

}  // namespace kafka_sidecar::testing
