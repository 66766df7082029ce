// A stream's in-flight limits (SPEC §3 flow control): never more than
// max_messages / max_bytes unsettled, except that a single message larger
// than the byte window is still sent alone when nothing else is in flight,
// so an oversized record cannot wedge its partition. Not thread-safe: the
// stream session guards it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kafka_sidecar {

class FlowWindow {
 public:
  FlowWindow(uint32_t max_messages, uint64_t max_bytes)
      : max_messages_(max_messages), max_bytes_(max_bytes) {}

  // Takes as many of the next `wanted` messages as fit, in order;
  // `size_of(i)` is the byte size of the i-th. Returns how many were taken.
  template <typename SizeFn>
  size_t Acquire(size_t wanted, SizeFn size_of) {
    size_t taken = 0;
    uint64_t bytes = 0;
    while (taken < wanted && messages_ + taken < max_messages_) {
      const uint64_t next = size_of(taken);
      if (bytes_ + bytes + next > max_bytes_) {
        // The oversized-alone exception: only into an empty window.
        if (taken == 0 && messages_ == 0) {
          taken = 1;
          bytes = next;
        }
        break;
      }
      bytes += next;
      ++taken;
    }
    messages_ += taken;
    bytes_ += bytes;
    return taken;
  }

  void Release(size_t messages, uint64_t bytes) {
    messages_ = messages > messages_ ? 0 : messages_ - messages;
    bytes_ = bytes > bytes_ ? 0 : bytes_ - bytes;
  }

  bool Full() const { return messages_ >= max_messages_ || bytes_ >= max_bytes_; }
  uint64_t messages() const { return messages_; }
  uint64_t bytes() const { return bytes_; }
  uint32_t max_messages() const { return max_messages_; }
  uint64_t max_bytes() const { return max_bytes_; }

 private:
  const uint32_t max_messages_;
  const uint64_t max_bytes_;
  uint64_t messages_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace kafka_sidecar
