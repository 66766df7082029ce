// Something that sleeps until told there is work (a dispatcher thread).
#pragma once

namespace kafka_sidecar {

class Wakeable {
 public:
  virtual ~Wakeable() = default;
  // Thread-safe and non-blocking.
  virtual void Wake() = 0;
};

}  // namespace kafka_sidecar
