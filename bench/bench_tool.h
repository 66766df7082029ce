// What the benchmark's command-line tools share: flag parsing that refuses
// what is not a number in range, the wall clock the latency samples use, and
// the "<id> <ts_us> <recv_us>" sample files read back by bench/run.py.
#pragma once

#include <time.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// CLOCK_REALTIME in microseconds: comparable across the producer and the
// consumers on one machine, which is what end-to-end latency needs.
inline int64_t RealtimeUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// `tool: why` and the usage on stderr, exit 2: the caller's mistake.
[[noreturn]] inline void BadFlags(const char* tool, const char* usage, const std::string& why) {
  std::fprintf(stderr, "%s: %s\n%s", tool, why.c_str(), usage);
  std::exit(2);
}

// The flag's value as an integer in [min, max], or BadFlags.
inline uint64_t ParseUint(const char* tool, const char* usage, const std::string& flag,
                          const char* text, uint64_t min, uint64_t max) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < min || v > max) {
    BadFlags(tool, usage,
             flag + ": expected an integer in [" + std::to_string(min) + ", " +
                 std::to_string(max) + "], got '" + text + "'");
  }
  return v;
}

struct Sample {
  int64_t id;
  int64_t ts_us;
  int64_t recv_us;
  int32_t partition;
};

// The integer after `key` in a bench_produce payload; -1 when absent.
inline int64_t ScanInt(std::string_view payload, std::string_view key) {
  const size_t at = payload.find(key);
  if (at == std::string_view::npos) return -1;
  const char* p = payload.data() + at + key.size();
  int64_t v = -1;
  if (std::from_chars(p, payload.data() + payload.size(), v).ec != std::errc()) return -1;
  return v;
}

// A sample for a received bench_produce payload.
inline Sample SampleOf(std::string_view payload, int64_t recv_us, int32_t partition) {
  return {ScanInt(payload, "\"id\":"), ScanInt(payload, "\"ts_us\":"), recv_us, partition};
}

// One line per sample; false (with *error set) when the file cannot be
// written.
inline bool WriteSamples(const std::string& path, const std::vector<std::vector<Sample>>& parts,
                         std::string* error) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    *error = "--samples-out " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string out;
  bool ok = true;
  for (const std::vector<Sample>& samples : parts) {
    out.clear();
    out.reserve(samples.size() * 48);
    for (const Sample& s : samples) {
      char line[80];
      const int n = std::snprintf(line, sizeof line, "%lld %lld %lld %d\n",
                                  static_cast<long long>(s.id), static_cast<long long>(s.ts_us),
                                  static_cast<long long>(s.recv_us), s.partition);
      out.append(line, static_cast<size_t>(n));
    }
    ok = ok && std::fwrite(out.data(), 1, out.size(), f) == out.size();
  }
  if (std::fclose(f) != 0 || !ok) {
    *error = "--samples-out " + path + ": write failed";
    return false;
  }
  return true;
}

}  // namespace bench
