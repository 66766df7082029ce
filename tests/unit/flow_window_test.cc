// FlowWindow: a stream's in-flight limits (SPEC §3 flow control).
#include "sidecar/flow/flow_window.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace kafka_sidecar {
namespace {

// Size function over a fixed list of message sizes.
auto Sizes(const std::vector<uint64_t>& sizes) {
  return [sizes](size_t i) { return sizes.at(i); };
}
auto Uniform(uint64_t size) {
  return [size](size_t) { return size; };
}

TEST(FlowWindowTest, MessageLimit) {
  FlowWindow w(/*max_messages=*/3, /*max_bytes=*/1000);
  EXPECT_EQ(w.Acquire(2, Uniform(10)), 2u);
  EXPECT_FALSE(w.Full());
  EXPECT_EQ(w.Acquire(5, Uniform(10)), 1u);  // only one more fits
  EXPECT_EQ(w.messages(), 3u);
  EXPECT_EQ(w.bytes(), 30u);
  EXPECT_TRUE(w.Full());
  EXPECT_EQ(w.Acquire(1, Uniform(1)), 0u);
  EXPECT_EQ(w.messages(), 3u);
  EXPECT_EQ(w.bytes(), 30u);
}

TEST(FlowWindowTest, AcquireNeverTakesMoreThanWanted) {
  FlowWindow w(100, 1000);
  EXPECT_EQ(w.Acquire(4, Uniform(1)), 4u);
  EXPECT_EQ(w.Acquire(0, Uniform(1)), 0u);
  EXPECT_EQ(w.messages(), 4u);
}

TEST(FlowWindowTest, ByteLimitStopsInOrder) {
  FlowWindow w(100, /*max_bytes=*/100);
  // 40 + 50 = 90 fits; the next 20 would make 110.
  EXPECT_EQ(w.Acquire(4, Sizes({40, 50, 20, 5})), 2u);
  EXPECT_EQ(w.bytes(), 90u);
  EXPECT_EQ(w.messages(), 2u);
  // Taking is in order: a later small message does not jump a big one.
  EXPECT_EQ(w.Acquire(2, Sizes({20, 5})), 0u);
  EXPECT_EQ(w.Acquire(1, Sizes({10})), 1u);  // exactly fills the window
  EXPECT_EQ(w.bytes(), 100u);
  EXPECT_TRUE(w.Full());
  EXPECT_EQ(w.Acquire(1, Sizes({0})), 1u);  // empty payloads take no bytes
  EXPECT_EQ(w.bytes(), 100u);
}

TEST(FlowWindowTest, OversizedMessageGoesAloneIntoAnEmptyWindow) {
  FlowWindow w(10, /*max_bytes=*/100);
  EXPECT_EQ(w.Acquire(3, Sizes({500, 1, 1})), 1u);  // alone, nothing after it
  EXPECT_EQ(w.messages(), 1u);
  EXPECT_EQ(w.bytes(), 500u);
  EXPECT_TRUE(w.Full());
  EXPECT_EQ(w.Acquire(1, Sizes({1})), 0u);
}

TEST(FlowWindowTest, OversizedMessageWaitsWhileAnythingIsInFlight) {
  FlowWindow w(10, /*max_bytes=*/100);
  ASSERT_EQ(w.Acquire(1, Sizes({1})), 1u);
  EXPECT_EQ(w.Acquire(1, Sizes({500})), 0u);
  EXPECT_EQ(w.messages(), 1u);
  EXPECT_EQ(w.bytes(), 1u);
  // An oversized message after a fitting one in the same acquire is not taken.
  w.Release(1, 1);
  EXPECT_EQ(w.Acquire(2, Sizes({10, 500})), 1u);
  EXPECT_EQ(w.bytes(), 10u);
  // Once the window is empty again it goes alone.
  w.Release(1, 10);
  EXPECT_EQ(w.Acquire(1, Sizes({500})), 1u);
  EXPECT_EQ(w.bytes(), 500u);
}

TEST(FlowWindowTest, ReleaseReopens) {
  FlowWindow w(2, 100);
  ASSERT_EQ(w.Acquire(2, Uniform(30)), 2u);
  ASSERT_TRUE(w.Full());
  EXPECT_EQ(w.Acquire(1, Uniform(30)), 0u);
  w.Release(1, 30);
  EXPECT_FALSE(w.Full());
  EXPECT_EQ(w.messages(), 1u);
  EXPECT_EQ(w.bytes(), 30u);
  EXPECT_EQ(w.Acquire(3, Uniform(30)), 1u);
  EXPECT_EQ(w.messages(), 2u);
  EXPECT_EQ(w.bytes(), 60u);
}

TEST(FlowWindowTest, ByteFullWindowReopensOnRelease) {
  FlowWindow w(100, 50);
  ASSERT_EQ(w.Acquire(2, Uniform(25)), 2u);
  ASSERT_TRUE(w.Full());
  EXPECT_EQ(w.Acquire(1, Uniform(1)), 0u);
  w.Release(1, 25);
  EXPECT_FALSE(w.Full());
  EXPECT_EQ(w.Acquire(1, Uniform(25)), 1u);
}

TEST(FlowWindowTest, ReleaseNeverUnderflows) {
  FlowWindow w(5, 100);
  ASSERT_EQ(w.Acquire(2, Uniform(10)), 2u);
  w.Release(7, 1000);
  EXPECT_EQ(w.messages(), 0u);
  EXPECT_EQ(w.bytes(), 0u);
  w.Release(1, 1);
  EXPECT_EQ(w.messages(), 0u);
  EXPECT_EQ(w.bytes(), 0u);
  // And the window is whole again, not wrapped around.
  EXPECT_EQ(w.Acquire(10, Uniform(10)), 5u);
  EXPECT_EQ(w.bytes(), 50u);
}

TEST(FlowWindowTest, ExposesLimits) {
  FlowWindow w(7, 1234);
  EXPECT_EQ(w.max_messages(), 7u);
  EXPECT_EQ(w.max_bytes(), 1234u);
}

}  // namespace
}  // namespace kafka_sidecar
