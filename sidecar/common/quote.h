// Client strings (handler names, topic names, reasons) in log lines and error
// messages: a handler can send megabytes, newlines or terminal escapes, none
// of which may reach a log or a gRPC status whole.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kafka_sidecar {

// How much of a client string an error message quotes.
inline constexpr size_t kQuoteBytes = 64;

// `s` in double quotes, C-escaped (\n, \", \x1b, and every byte outside
// printable ASCII as \xNN), cut after its first `max` bytes with the number
// of bytes left out: "abc"…[+123 bytes]. Escaping at most quadruples the
// quoted part, so the result stays within 4 * max + 24 characters.
std::string QuoteForLog(std::string_view s, size_t max = kQuoteBytes);

}  // namespace kafka_sidecar
