#include "sidecar/common/logging.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"
#include "gtest/gtest.h"
#include "spdlog/logger.h"
#include "spdlog/sinks/ostream_sink.h"

namespace kafka_sidecar {
namespace {

// A logger writing into a string, with the formatter under test.
struct CapturedLog {
  explicit CapturedLog(const char* format)
      : sink(std::make_shared<spdlog::sinks::ostream_sink_st>(stream)),
        logger("test", sink) {
    logger.set_formatter(MakeLogFormatter(format));
    logger.set_level(spdlog::level::trace);
  }
  std::vector<std::string> Lines() const {
    return absl::StrSplit(stream.str(), '\n', absl::SkipEmpty());
  }
  std::ostringstream stream;
  std::shared_ptr<spdlog::sinks::ostream_sink_st> sink;
  spdlog::logger logger;
};

// A strict parser: a line that is not exactly one JSON object fails.
absl::StatusOr<nlohmann::json> ParseJson(const std::string& line) {
  nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return absl::InvalidArgumentError("not one JSON object");
  }
  return object;
}

TEST(JsonLogTest, EveryLineIsOneJsonObject) {
  CapturedLog log("json");
  const std::vector<std::string> messages = {
      "plain",
      R"(a "quoted" word and a back\slash)",
      "two\nlines\r\nand\ttab",
      std::string("nul\0byte and \x01\x1f controls\x7f", 25),
      "braces {} and %v and {\"json\": 1}",
      "unicode: h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80",
      "",
  };
  for (const std::string& m : messages) log.logger.info("{}", m);
  log.logger.warn("topic {} partition {}", "or\"ders", 3);
  log.logger.error("bad utf-8: \xff\xfe \xc3( \xed\xa0\x80 \xe2\x82");

  const std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), messages.size() + 2) << log.stream.str();
  for (size_t i = 0; i < lines.size(); ++i) {
    auto object = ParseJson(lines[i]);
    ASSERT_TRUE(object.ok()) << object.status() << "\n" << lines[i];
    const nlohmann::json& fields = *object;
    ASSERT_EQ(fields.size(), 4u) << lines[i];
    EXPECT_THAT(fields.at("ts").get<std::string>(),
                ::testing::MatchesRegex(
                    "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"));
    EXPECT_GT(fields.at("thread").get<int64_t>(), 0) << lines[i];
    if (i < messages.size()) {
      EXPECT_EQ(fields.at("msg").get<std::string>(), messages[i]);
      EXPECT_EQ(fields.at("level").get<std::string>(), "info");
    }
  }
  EXPECT_EQ(ParseJson(lines[messages.size()])->at("msg").get<std::string>(),
            "topic or\"ders partition 3");
  EXPECT_EQ(ParseJson(lines[messages.size()])->at("level").get<std::string>(), "warning");
  const auto bad = ParseJson(lines.back());
  EXPECT_EQ(bad->at("level").get<std::string>(), "error");
  EXPECT_EQ(bad->at("msg").get<std::string>(),
            "bad utf-8: \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd( \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
            "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(JsonLogTest, TextFormatIsOneLinePerMessageAsBefore) {
  CapturedLog log("text");
  log.logger.info("hello {}", "world");
  const std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], ::testing::MatchesRegex(
                            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} info \\[[0-9]+\\] hello world"));
}

}  // namespace
}  // namespace kafka_sidecar
