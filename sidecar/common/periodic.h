// Runs a function on its own thread every `interval` until stopped. Stop
// returns promptly (it does not wait out the interval) and joins the thread.
#pragma once

#include <functional>
#include <thread>

#include "absl/time/time.h"
#include "sidecar/common/clock.h"
#include "sidecar/common/mutex.h"

namespace kafka_sidecar {

class Periodic {
 public:
  Periodic() = default;
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;
  ~Periodic() { Stop(); }

  // `fn` runs first after one interval.
  void Start(Millis interval, std::function<void()> fn) {
    Stop();
    {
      MutexLock l(&mu_);
      stop_ = false;
    }
    thread_ = std::thread([this, interval, fn = std::move(fn)] {
      using std::chrono::steady_clock;
      MutexLock l(&mu_);
      auto next = steady_clock::now() + interval;
      while (!stop_) {
        const auto now = steady_clock::now();
        if (now < next) {
          cv_.WaitWithTimeout(&mu_, absl::FromChrono(next - now));
          continue;  // stopped, woken early or timed out: look again
        }
        mu_.Unlock();
        fn();
        mu_.Lock();
        next = steady_clock::now() + interval;
      }
    });
  }

  void Stop() {
    {
      MutexLock l(&mu_);
      stop_ = true;
      cv_.SignalAll();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  Mutex mu_;
  CondVar cv_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace kafka_sidecar
