#include "order_digest.h"

#include <string>

#include "gtest/gtest.h"

namespace example {
namespace {

namespace v1 = ::kafka_sidecar::v1;
using kafka_sidecar_client::Message;
using kafka_sidecar_client::Outcome;

class OrderDigestTest : public ::testing::Test {
 protected:
  Outcome Handle(const std::string* value, uint32_t delivery_attempt = 1) {
    v1::Batch batch;
    v1::Message* m = batch.add_messages();
    if (value != nullptr) m->set_value(*value);
    m->set_delivery_attempt(delivery_attempt);
    return digest_(Message(batch, *m));
  }
  OrderDigest digest_;
};

TEST_F(OrderDigestTest, SumsTheNumbersOfAJsonObject) {
  const std::string order = R"({"id": 7, "amount": 2.5, "paid": true, "name": "x"})";
  EXPECT_EQ(Handle(&order).kind(), v1::OUTCOME_ACK);
  EXPECT_EQ(digest_.count(), 1u);
  EXPECT_DOUBLE_EQ(digest_.total(), 9.5);
}

TEST_F(OrderDigestTest, RejectsWhatIsNotJson) {
  const std::string cut = R"({"id": 7, "amount": )";
  Outcome o = Handle(&cut);
  EXPECT_EQ(o.kind(), v1::OUTCOME_REJECT);
  EXPECT_NE(o.reason().find("not UTF-8 JSON"), std::string::npos) << o.reason();
  const std::string bad_utf8 = "{\"name\": \"\xff\xfe\"}";
  EXPECT_EQ(Handle(&bad_utf8).kind(), v1::OUTCOME_REJECT);
  EXPECT_EQ(digest_.count(), 0u);
}

TEST_F(OrderDigestTest, RejectsATombstoneAndNonObjects) {
  EXPECT_EQ(Handle(nullptr).kind(), v1::OUTCOME_REJECT);
  const std::string array = "[1, 2]";
  EXPECT_EQ(Handle(&array).kind(), v1::OUTCOME_REJECT);
}

TEST_F(OrderDigestTest, FailOnceIsRetriedAfter50MsOnItsFirstDeliveryOnly) {
  const std::string order = R"({"id": 3, "amount": 4, "fail_once": true})";
  for (uint32_t first : {0u, 1u}) {
    Outcome o = Handle(&order, first);
    EXPECT_EQ(o.kind(), v1::OUTCOME_RETRY) << "attempt " << first;
    EXPECT_EQ(o.reason(), "transient failure (fail_once)");
    EXPECT_EQ(o.retry_after(), std::chrono::milliseconds(50));
  }
  EXPECT_EQ(digest_.count(), 0u) << "a retried message is not counted";
  EXPECT_EQ(Handle(&order, 2).kind(), v1::OUTCOME_ACK);
  EXPECT_EQ(digest_.count(), 1u);
  EXPECT_DOUBLE_EQ(digest_.total(), 7);
}

TEST_F(OrderDigestTest, FailOnceMustBeTrue) {
  const std::string not_true = R"({"id": 3, "fail_once": false})";
  EXPECT_EQ(Handle(&not_true).kind(), v1::OUTCOME_ACK);
  const std::string truthy = R"({"id": 3, "fail_once": 1})";
  EXPECT_EQ(Handle(&truthy).kind(), v1::OUTCOME_ACK);
  const std::string malformed = R"({"fail_once": true)";
  EXPECT_EQ(Handle(&malformed).kind(), v1::OUTCOME_REJECT);
}

}  // namespace
}  // namespace example
