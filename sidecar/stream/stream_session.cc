#include "sidecar/stream/stream_session.h"

#include <algorithm>

namespace kafka_sidecar {

StreamSession::StreamSession(std::string id, StreamWriter* writer, MonoTime now)
    : id_(std::move(id)), connected_at_(now), writer_(writer) {}

void StreamSession::Subscribe(StreamOptions options) {
  options_ = std::move(options);
  {
    MutexLock l(&mu_);
    window_ = std::make_unique<FlowWindow>(options_.max_in_flight_messages,
                                           options_.max_in_flight_bytes);
  }
  subscribed_.store(true, std::memory_order_release);
}

bool StreamSession::Accepts(const std::string& topic) const {
  return options_.topics.empty() ||
         std::find(options_.topics.begin(), options_.topics.end(), topic) != options_.topics.end();
}

void StreamSession::ReleaseWindow(size_t messages, uint64_t bytes) {
  MutexLock l(&mu_);
  if (window_ == nullptr) return;
  window_->Release(messages, bytes);
  WakeWaitersLocked();
}

void StreamSession::WakeWaitersLocked() {
  // Wake is non-blocking, so calling it under the lock is safe.
  for (Wakeable* w : waiters_) w->Wake();
  waiters_.clear();
}

uint64_t StreamSession::in_flight_messages() const {
  MutexLock l(&mu_);
  return window_ ? window_->messages() : 0;
}

bool StreamSession::Send(Outgoing out) {
  const v1::ConsumeResponse* to_write = nullptr;
  StreamWriter* writer = nullptr;
  {
    MutexLock l(&mu_);
    if (closed_ || finish_requested_ || writer_ == nullptr) return false;
    outbox_.push_back(std::move(out));
    if (writing_) return true;
    writing_ = true;
    to_write = outbox_.front().response;
    writer = writer_;
  }
  // Outside the lock: the transport may complete the write on another thread
  // at once. `writing_` keeps Finish (and so the reactor's deletion) away
  // until OnWriteDone, and deque elements keep their address while others
  // are pushed.
  writer->StartWrite(to_write);
  return true;
}

void StreamSession::OnWriteDone(bool ok) {
  const v1::ConsumeResponse* to_write = nullptr;
  StreamWriter* writer = nullptr;
  bool finish = false;
  grpc::Status status;
  {
    MutexLock l(&mu_);
    if (!outbox_.empty()) outbox_.pop_front();
    writing_ = false;
    if (!ok) {
      // The peer is gone; what was queued will never arrive.
      closed_ = true;
      outbox_.clear();
    }
    if (!closed_ && !finish_requested_ && !outbox_.empty() && writer_ != nullptr) {
      writing_ = true;
      to_write = outbox_.front().response;
      writer = writer_;
    } else if (finish_requested_ && !finished_ && writer_ != nullptr) {
      finished_ = true;
      finish = true;
      status = finish_status_;
      writer = writer_;
    }
  }
  if (to_write != nullptr) writer->StartWrite(to_write);
  if (finish) writer->Finish(status);
}

void StreamSession::Finish(const grpc::Status& status) {
  StreamWriter* writer = nullptr;
  {
    MutexLock l(&mu_);
    if (finish_requested_) return;
    finish_requested_ = true;
    finish_status_ = status;
    closed_ = true;
    WakeWaitersLocked();
    if (writing_) {
      // Keep the write in progress; OnWriteDone finishes.
      while (outbox_.size() > 1) outbox_.pop_back();
      return;
    }
    outbox_.clear();
    if (finished_ || writer_ == nullptr) return;
    finished_ = true;
    writer = writer_;
  }
  writer->Finish(status);
}

void StreamSession::Detach() {
  MutexLock l(&mu_);
  writer_ = nullptr;
  closed_ = true;
  outbox_.clear();
  WakeWaitersLocked();
}

bool StreamSession::closed() const {
  MutexLock l(&mu_);
  return closed_;
}

}  // namespace kafka_sidecar
