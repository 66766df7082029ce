// Runs the work of many partitions on a fixed number of threads: the work
// items of one partition one at a time and in the order submitted, those of
// different partitions concurrently. No thread per partition, so a handler
// assigned 1,000 partitions still runs on `threads` threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kafka_sidecar_client {

class PartitionScheduler {
 public:
  using Work = std::function<void()>;

  explicit PartitionScheduler(int threads);
  ~PartitionScheduler();  // Drain()
  PartitionScheduler(const PartitionScheduler&) = delete;
  PartitionScheduler& operator=(const PartitionScheduler&) = delete;

  void Submit(const std::string& topic, int32_t partition, Work work);

  // Runs everything already submitted, then stops the threads. Submit after
  // Drain runs nothing.
  void Drain();

 private:
  // A partition's queue. `scheduled` = it is in ready_ or a thread runs its
  // front item; that is what keeps one partition on one thread at a time.
  struct Lane {
    std::deque<Work> work;
    bool scheduled = false;
  };

  void RunThread();

  std::mutex mu_;
  std::condition_variable cv_;
  // std::map: Lane addresses stay valid while ready_ holds them.
  std::map<std::pair<std::string, int32_t>, Lane> lanes_;  // guarded by mu_
  std::deque<Lane*> ready_;                                 // guarded by mu_
  bool draining_ = false;                                   // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace kafka_sidecar_client
