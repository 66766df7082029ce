// Time, injected so tests can drive it (a fake clock instead of sleeps).
#pragma once

#include <chrono>

namespace kafka_sidecar {

using MonoTime = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic: deadlines, durations, rates.
  virtual MonoTime Now() const = 0;
};

class RealClock final : public Clock {
 public:
  MonoTime Now() const override { return std::chrono::steady_clock::now(); }
};

// Milliseconds as a double, for stats.
inline double ToMillis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace kafka_sidecar
