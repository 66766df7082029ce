#include "sidecar/common/quote.h"

#include <string>

#include "gtest/gtest.h"

namespace kafka_sidecar {
namespace {

TEST(QuoteForLogTest, ShortPrintableTextIsQuotedAsIs) {
  EXPECT_EQ(QuoteForLog("orders-1.v2"), "\"orders-1.v2\"");
  EXPECT_EQ(QuoteForLog(""), "\"\"");
}

TEST(QuoteForLogTest, ControlCharactersQuotesAndNonAsciiAreEscaped) {
  // A newline would forge a log line; ESC would drive a terminal.
  EXPECT_EQ(QuoteForLog("a\nb\"c\\d\x1b[31m"), "\"a\\nb\\\"c\\\\d\\x1b[31m\"");
  EXPECT_EQ(QuoteForLog(std::string("nul\0x", 5)), "\"nul\\x00x\"");
  EXPECT_EQ(QuoteForLog("\xc3\xbc"), "\"\\xc3\\xbc\"");
}

TEST(QuoteForLogTest, LongTextIsCutAndSaysHowMuchWasLeftOut) {
  const std::string huge(1 << 20, 'x');
  const std::string quoted = QuoteForLog(huge);
  EXPECT_EQ(quoted, "\"" + std::string(kQuoteBytes, 'x') + "\"…[+" +
                        std::to_string(huge.size() - kQuoteBytes) + " bytes]");
  EXPECT_EQ(QuoteForLog("abcdef", 3), "\"abc\"…[+3 bytes]");
  EXPECT_EQ(QuoteForLog("abc", 3), "\"abc\"");
}

TEST(QuoteForLogTest, EscapingStaysWithinItsBound) {
  const std::string worst(1000, '\x01');
  EXPECT_LE(QuoteForLog(worst, 10).size(), 4 * 10 + 24u);
}

}  // namespace
}  // namespace kafka_sidecar
