#include "kafka_sidecar_client/partition_scheduler.h"

namespace kafka_sidecar_client {

PartitionScheduler::PartitionScheduler(int threads) {
  if (threads < 1) threads = 1;
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { RunThread(); });
}

PartitionScheduler::~PartitionScheduler() { Drain(); }

void PartitionScheduler::Submit(const std::string& topic, int32_t partition, Work work) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_) return;
  Lane& lane = lanes_[{topic, partition}];
  lane.work.push_back(std::move(work));
  if (!lane.scheduled) {
    lane.scheduled = true;
    ready_.push_back(&lane);
    cv_.notify_one();
  }
}

void PartitionScheduler::Drain() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void PartitionScheduler::RunThread() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return !ready_.empty() || draining_; });
    // Every submitted item sits in a ready lane or runs on a thread, so an
    // empty ready_ while draining means all work is done or taken.
    if (ready_.empty()) return;
    Lane* lane = ready_.front();
    ready_.pop_front();
    Work work = std::move(lane->work.front());
    lane->work.pop_front();
    lock.unlock();
    work();
    lock.lock();
    if (lane->work.empty()) {
      lane->scheduled = false;
    } else {
      // To the back: a busy partition does not starve the others.
      ready_.push_back(lane);
      cv_.notify_one();
    }
  }
}

}  // namespace kafka_sidecar_client
