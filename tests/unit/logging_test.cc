#include "sidecar/common/logging.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
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

absl::StatusOr<google::protobuf::Struct> ParseJson(const std::string& line) {
  google::protobuf::Struct object;
  const auto status = google::protobuf::util::JsonStringToMessage(line, &object);
  if (!status.ok()) return absl::InvalidArgumentError(status.ToString());
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
    const auto& fields = object->fields();
    ASSERT_EQ(fields.size(), 4u) << lines[i];
    EXPECT_THAT(fields.at("ts").string_value(),
                ::testing::MatchesRegex(
                    "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"));
    EXPECT_GT(fields.at("thread").number_value(), 0) << lines[i];
    if (i < messages.size()) {
      EXPECT_EQ(fields.at("msg").string_value(), messages[i]);
      EXPECT_EQ(fields.at("level").string_value(), "info");
    }
  }
  EXPECT_EQ(ParseJson(lines[messages.size()])->fields().at("msg").string_value(),
            "topic or\"ders partition 3");
  EXPECT_EQ(ParseJson(lines[messages.size()])->fields().at("level").string_value(), "warning");
  const auto bad = ParseJson(lines.back());
  EXPECT_EQ(bad->fields().at("level").string_value(), "error");
  EXPECT_EQ(bad->fields().at("msg").string_value(),
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
