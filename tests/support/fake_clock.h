// A clock tests move by hand, so time-driven logic is tested without sleeps.
#pragma once

#include <chrono>

#include "sidecar/common/clock.h"

namespace kafka_sidecar {

class FakeClock : public Clock {
 public:
  MonoTime Now() const override { return now_; }
  void Advance(Millis d) { now_ += d; }

 private:
  // Far from the epoch, so "now minus a timeout" never underflows.
  MonoTime now_ = MonoTime{} + std::chrono::hours(1);
};

}  // namespace kafka_sidecar
