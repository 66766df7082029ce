#include "order_digest.h"

#include <string>

#include "gtest/gtest.h"

namespace example {
namespace {

namespace v1 = ::kafka_sidecar::v1;
using kafka_sidecar_client::Message;
using kafka_sidecar_client::Reject;

class OrderDigestTest : public ::testing::Test {
 protected:
  bool Handle(const std::string* value) {
    v1::Batch batch;
    v1::Message* m = batch.add_messages();
    if (value != nullptr) m->set_value(*value);
    return digest_(Message(batch, *m));
  }
  OrderDigest digest_;
};

TEST_F(OrderDigestTest, SumsTheNumbersOfAJsonObject) {
  const std::string order = R"({"id": 7, "amount": 2.5, "paid": true, "name": "x"})";
  EXPECT_TRUE(Handle(&order));
  EXPECT_EQ(digest_.count(), 1u);
  EXPECT_DOUBLE_EQ(digest_.total(), 9.5);
}

TEST_F(OrderDigestTest, RejectsWhatIsNotJson) {
  const std::string cut = R"({"id": 7, "amount": )";
  EXPECT_THROW(Handle(&cut), Reject);
  const std::string bad_utf8 = "{\"name\": \"\xff\xfe\"}";
  EXPECT_THROW(Handle(&bad_utf8), Reject);
  EXPECT_EQ(digest_.count(), 0u);
}

TEST_F(OrderDigestTest, RejectsATombstoneAndNonObjects) {
  EXPECT_THROW(Handle(nullptr), Reject);
  const std::string array = "[1, 2]";
  EXPECT_THROW(Handle(&array), Reject);
}

}  // namespace
}  // namespace example
