// sidecar/common/mutex.h. Besides the plain assertions, these tests are what
// the TSan build (scripts/sanitize.sh) uses to check that the wrappers really
// order memory: each one hands plain, unsynchronised data between threads.
#include "sidecar/common/mutex.h"

#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kafka_sidecar {
namespace {

TEST(MutexTest, MutexLockSerialisesWriters) {
  Mutex mu;
  long counter = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        MutexLock l(&mu);
        ++counter;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  MutexLock l(&mu);
  EXPECT_EQ(counter, 40000);
}

TEST(MutexTest, TryLockFailsWhileAnotherThreadHoldsIt) {
  Mutex mu;
  mu.Lock();
  bool acquired = true;
  std::thread([&] {
    acquired = mu.TryLock();
    if (acquired) mu.Unlock();
  }).join();
  mu.Unlock();
  EXPECT_FALSE(acquired);
  ASSERT_TRUE(mu.TryLock());
  mu.Unlock();
}

TEST(CondVarTest, WaitReturnsOnceSignalledAndSeesTheWrite) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  int payload = 0;
  std::thread producer([&] {
    payload = 42;  // deliberately outside the lock: published by the unlock
    MutexLock l(&mu);
    ready = true;
    cv.Signal();
  });
  {
    MutexLock l(&mu);
    while (!ready) cv.Wait(&mu);
  }
  EXPECT_EQ(payload, 42);
  producer.join();
}

TEST(CondVarTest, WaitWithTimeoutExpires) {
  Mutex mu;
  CondVar cv;
  MutexLock l(&mu);
  const absl::Time start = absl::Now();
  EXPECT_TRUE(cv.WaitWithTimeout(&mu, absl::Milliseconds(20)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(19));
  EXPECT_TRUE(cv.WaitWithTimeout(&mu, absl::ZeroDuration()));
  EXPECT_TRUE(cv.WaitWithTimeout(&mu, -absl::Seconds(1)));
  EXPECT_TRUE(cv.WaitWithDeadline(&mu, absl::Now() - absl::Seconds(1)));
  EXPECT_TRUE(cv.WaitWithDeadline(&mu, absl::InfinitePast()));
  // The lock is still held after each wait: the MutexLock releases it.
}

TEST(CondVarTest, WaitWithTimeoutWokenBeforeTheTimeout) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  std::thread producer([&] {
    MutexLock l(&mu);
    ready = true;
    cv.SignalAll();
  });
  {
    MutexLock l(&mu);
    // A very long (but not infinite) timeout must not overflow the deadline.
    while (!ready) EXPECT_FALSE(cv.WaitWithTimeout(&mu, absl::Hours(24 * 365 * 1000)));
  }
  producer.join();
}

TEST(NotificationTest, StartsUnnotifiedAndStaysNotified) {
  Notification n;
  EXPECT_FALSE(n.HasBeenNotified());
  n.Notify();
  EXPECT_TRUE(n.HasBeenNotified());
  n.Notify();  // allowed, unlike absl::Notification
  n.WaitForNotification();
  EXPECT_TRUE(n.WaitForNotificationWithTimeout(absl::ZeroDuration()));
  EXPECT_TRUE(n.WaitForNotificationWithDeadline(absl::InfinitePast()));
  EXPECT_TRUE(Notification(true).HasBeenNotified());
}

TEST(NotificationTest, WaitPublishesWritesMadeBeforeNotify) {
  Notification n;
  int payload = 0;
  std::thread notifier([&] {
    payload = 7;
    n.Notify();
  });
  n.WaitForNotification();
  EXPECT_EQ(payload, 7);
  notifier.join();
}

TEST(NotificationTest, TimedWaits) {
  Notification n;
  EXPECT_FALSE(n.WaitForNotificationWithTimeout(absl::Milliseconds(10)));
  EXPECT_FALSE(n.WaitForNotificationWithDeadline(absl::Now() + absl::Milliseconds(10)));
  EXPECT_FALSE(n.WaitForNotificationWithDeadline(absl::InfinitePast()));
  int payload = 0;
  std::thread notifier([&] {
    payload = 9;
    n.Notify();
  });
  EXPECT_TRUE(n.WaitForNotificationWithTimeout(absl::InfiniteDuration()));
  EXPECT_EQ(payload, 9);
  notifier.join();
}

// The pattern RevokeResult-style waiters rely on: once the wait returns, the
// notifier no longer touches the object (ASan would flag a use after free).
TEST(NotificationTest, WaiterMayDestroyItAsSoonAsTheWaitReturns) {
  for (int i = 0; i < 200; ++i) {
    auto n = std::make_unique<Notification>();
    std::thread notifier([raw = n.get()] { raw->Notify(); });
    ASSERT_TRUE(n->WaitForNotificationWithTimeout(absl::Seconds(30)));
    n.reset();
    notifier.join();
  }
}

}  // namespace
}  // namespace kafka_sidecar
