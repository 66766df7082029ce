#include "sidecar/common/quote.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kafka_sidecar {

std::string QuoteForLog(std::string_view s, size_t max) {
  const size_t shown = std::min(s.size(), max);
  // Hex rather than octal escapes, and non-ASCII escaped too: a cut may fall
  // inside a UTF-8 sequence, and the log must stay one line of plain text.
  std::string out = absl::StrCat(
      "\"", absl::CHexEscape(absl::string_view(s.data(), shown)), "\"");
  if (shown < s.size()) absl::StrAppend(&out, "…[+", s.size() - shown, " bytes]");
  return out;
}

}  // namespace kafka_sidecar
