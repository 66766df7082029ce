// Mutex, MutexLock, CondVar and Notification with absl's names and thread-
// safety annotations, built on the standard library.
//
// Why not absl's own: Debian's abseil is not built with ThreadSanitizer, so
// TSan cannot see absl::Mutex or absl::Notification order memory and reports
// a race on every field they guard (see scripts/sanitize.sh). std::mutex and
// std::condition_variable go through pthread, which TSan intercepts. The
// annotations are abseil's, so ABSL_GUARDED_BY and friends keep working with
// clang's -Wthread-safety.
//
// Differences from absl: no reader locks, no Await/LockWhen conditions, and
// Notify() may be called more than once.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kafka_sidecar {

class CondVar;

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return mu_.try_lock(); }
  // Tells the static analysis only: std::mutex does not know its owner.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // May wake spuriously, like absl::CondVar: wait in a loop on the condition.
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // the caller still holds mu
  }

  // True if the timeout expired (absl's convention), false if woken.
  bool WaitWithTimeout(Mutex* mu, absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return WaitUntil(mu, SteadyDeadline(timeout));
  }

  // True if the deadline passed, false if woken. Through a timeout because
  // absl::Time's infinities would overflow std::chrono arithmetic, and
  // absl::Time subtraction saturates instead.
  bool WaitWithDeadline(Mutex* mu, absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return WaitWithTimeout(mu, deadline - absl::Now());
  }

  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  friend class Notification;

  // A steady clock, so that wall-clock jumps neither shorten nor stretch
  // timeouts. Capped so that now() + timeout cannot overflow; the cap is
  // far enough to mean "never", which InfiniteDuration() asks for.
  static std::chrono::steady_clock::time_point SteadyDeadline(absl::Duration timeout) {
    constexpr absl::Duration kNever = absl::Hours(24 * 365 * 100);
    const auto now = std::chrono::steady_clock::now();
    if (timeout <= absl::ZeroDuration()) return now;
    return now + absl::ToChronoNanoseconds(std::min(timeout, kNever));
  }

  bool WaitUntil(Mutex* mu, std::chrono::steady_clock::time_point deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool expired = cv_.wait_until(lock, deadline) == std::cv_status::timeout;
    lock.release();
    return expired;
  }

  std::condition_variable cv_;
};

// A one-shot event. Waiters only return after Notify() has released the
// mutex, so a waiter may destroy the Notification as soon as its wait
// returns true, as with absl::Notification.
class Notification {
 public:
  Notification() = default;
  explicit Notification(bool prenotify) : notified_(prenotify) {}
  Notification(const Notification&) = delete;
  Notification& operator=(const Notification&) = delete;

  void Notify() {
    MutexLock l(&mu_);
    notified_ = true;
    cv_.SignalAll();
  }

  bool HasBeenNotified() const {
    MutexLock l(&mu_);
    return notified_;
  }

  void WaitForNotification() const {
    MutexLock l(&mu_);
    while (!notified_) cv_.Wait(&mu_);
  }

  // True if notified, false if the timeout expired first.
  bool WaitForNotificationWithTimeout(absl::Duration timeout) const {
    MutexLock l(&mu_);
    const auto deadline = CondVar::SteadyDeadline(timeout);
    while (!notified_) {
      if (cv_.WaitUntil(&mu_, deadline)) return notified_;
    }
    return true;
  }

  // True if notified, false if the deadline passed first.
  bool WaitForNotificationWithDeadline(absl::Time deadline) const {
    MutexLock l(&mu_);
    while (!notified_) {
      if (cv_.WaitWithDeadline(&mu_, deadline)) return notified_;
    }
    return true;
  }

 private:
  mutable Mutex mu_;
  mutable CondVar cv_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace kafka_sidecar
