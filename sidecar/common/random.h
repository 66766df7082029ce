// Randomness, injected so tests can make backoff jitter predictable.
#pragma once

#include <cstdint>
#include <random>

namespace kafka_sidecar {

class Random {
 public:
  virtual ~Random() = default;
  // Uniform in [0, 1).
  virtual double Uniform() = 0;
};

class RandomImpl final : public Random {
 public:
  RandomImpl() : engine_(std::random_device{}()) {}
  double Uniform() override { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }

 private:
  std::mt19937_64 engine_;
};

}  // namespace kafka_sidecar
