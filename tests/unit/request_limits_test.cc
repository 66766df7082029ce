#include "sidecar/server/request_limits.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sidecar/common/quote.h"

namespace kafka_sidecar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// An error about client input is short whatever the input's size.
constexpr size_t kShortMessage = 400;

TEST(CheckTopicNameTest, KafkasRulesLengthAndCharacters) {
  EXPECT_TRUE(CheckTopicName("f", "orders").ok());
  EXPECT_TRUE(CheckTopicName("f", "Orders_v2.eu-west-1").ok());
  EXPECT_TRUE(CheckTopicName("f", std::string(kMaxTopicNameBytes, 'a')).ok());
  EXPECT_EQ(CheckTopicName("f", std::string(kMaxTopicNameBytes + 1, 'a')).message(),
            "f: 250 bytes, over the limit of 249");
  EXPECT_EQ(CheckTopicName("f", "").message(), "f: empty topic name");
  for (const char* bad : {".", "..", "a b", "a/b", "ü", "a\nb", "^orders.*"}) {
    const absl::Status s = CheckTopicName("f", bad);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << bad;
    EXPECT_THAT(std::string(s.message()), HasSubstr("is not a Kafka topic name")) << bad;
  }
  EXPECT_EQ(CheckTopicName("f", "a\nb").message(),
            "f: \"a\\nb\" is not a Kafka topic name (only [a-zA-Z0-9._-], not \".\" or \"..\")");
}

TEST(CheckTopicNameTest, AnIllegalNameIsQuotedOnlyInPart) {
  const std::string long_bad = std::string(200, 'a') + "!";
  const absl::Status s = CheckTopicName("f", long_bad);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("\"" + std::string(kQuoteBytes, 'a') + "\"…[+137 bytes]"));
  EXPECT_LT(s.message().size(), kShortMessage);
}

TEST(CheckSubscribeTest, MegabyteNamesAreRefusedWithoutBeingEchoed) {
  v1::Subscribe sub;
  sub.set_handler_name(std::string(1 << 20, 'h'));
  absl::Status s = CheckSubscribe(sub);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "Subscribe.handler_name: 1048576 bytes, over the limit of 256");

  sub.set_handler_name(std::string(kMaxHandlerNameBytes, 'h'));
  EXPECT_TRUE(CheckSubscribe(sub).ok());

  sub.add_topics("orders");
  sub.add_topics(std::string(1 << 20, 't'));
  s = CheckSubscribe(sub);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "Subscribe.topics[1]: 1048576 bytes, over the limit of 249");
}

TEST(CheckSubscribeTest, TopicCountIsBounded) {
  v1::Subscribe sub;
  for (int i = 0; i < kMaxSubscribeTopics; ++i) sub.add_topics("t" + std::to_string(i));
  EXPECT_TRUE(CheckSubscribe(sub).ok());
  sub.add_topics("one-more");
  EXPECT_EQ(CheckSubscribe(sub).message(),
            "Subscribe.topics: 1001 entries, over the limit of 1000");
}

TEST(CheckSubscribeTest, AnIllegalTopicNameIsRefused) {
  v1::Subscribe sub;
  sub.add_topics("orders");
  sub.add_topics("bad topic");
  EXPECT_THAT(std::string(CheckSubscribe(sub).message()),
              StartsWith("Subscribe.topics[1]: \"bad topic\""));
}

TEST(TruncateReasonTest, UpToTheLimitIsUntouched) {
  std::string reason(kMaxReasonBytes, 'r');
  EXPECT_EQ(TruncateReason(&reason), 0u);
  EXPECT_EQ(reason, std::string(kMaxReasonBytes, 'r'));
}

TEST(TruncateReasonTest, LongerIsCutToTheLimitWithAMarker) {
  std::string reason(kMaxReasonBytes + 1, 'r');
  const size_t cut = TruncateReason(&reason);
  EXPECT_LE(reason.size(), kMaxReasonBytes);
  const std::string marker = "…[truncated " + std::to_string(cut) + " bytes]";
  EXPECT_THAT(reason, ::testing::EndsWith(marker));
  // What is kept plus what was cut is the whole original.
  EXPECT_EQ(reason.size() - marker.size() + cut, kMaxReasonBytes + 1);
  EXPECT_EQ(reason.substr(0, reason.size() - marker.size()),
            std::string(reason.size() - marker.size(), 'r'));

  std::string trace(1 << 20, 't');
  const size_t big_cut = TruncateReason(&trace);
  EXPECT_LE(trace.size(), kMaxReasonBytes);
  EXPECT_THAT(trace, ::testing::EndsWith("…[truncated " + std::to_string(big_cut) + " bytes]"));
}

TEST(TruncateReasonTest, NeverSplitsAUtf8Character) {
  // Two-byte characters: wherever the cut falls, no half is left behind.
  for (size_t prefix = 0; prefix < 4; ++prefix) {
    std::string reason = std::string(prefix, 'a');
    while (reason.size() <= kMaxReasonBytes + 10) reason += "\xc3\xbc";  // ü
    const size_t cut = TruncateReason(&reason);
    ASSERT_GT(cut, 0u);
    const std::string marker = "…[truncated " + std::to_string(cut) + " bytes]";
    const std::string kept = reason.substr(0, reason.size() - marker.size());
    ASSERT_GE(kept.size(), prefix);
    EXPECT_EQ((kept.size() - prefix) % 2, 0u) << "prefix " << prefix;
  }
}

TEST(CheckSettleTest, ReasonsAreCutAndListsBounded) {
  v1::Settle settle;
  v1::Settlement* a = settle.add_settlements();
  a->set_reason(std::string(kMaxReasonBytes * 3, 'x'));
  v1::Settlement* b = settle.add_settlements();
  b->set_reason("short");
  size_t truncated = 0;
  ASSERT_TRUE(CheckSettle(&settle, &truncated).ok());
  EXPECT_EQ(truncated, 1u);
  EXPECT_LE(settle.settlements(0).reason().size(), kMaxReasonBytes);
  EXPECT_THAT(settle.settlements(0).reason(), HasSubstr("…[truncated "));
  EXPECT_EQ(settle.settlements(1).reason(), "short");

  v1::Settle many;
  for (int i = 0; i <= kMaxSettlements; ++i) many.add_settlements()->set_batch_id(i);
  EXPECT_EQ(CheckSettle(&many).message(),
            "Settle.settlements: 100001 entries, over the limit of 100000");

  v1::Settle offsets;
  for (int i = 0; i < 2; ++i) {
    v1::Settlement* s = offsets.add_settlements();
    for (int o = 0; o < kMaxSettleOffsets / 2; ++o) s->add_offsets(o);
  }
  EXPECT_TRUE(CheckSettle(&offsets).ok());
  offsets.mutable_settlements(1)->add_offsets(-1);
  EXPECT_EQ(CheckSettle(&offsets).message(),
            "Settle.settlements[].offsets: 1000001 in one Settle, over the limit of 1000000");
}

TEST(CheckExtendTest, BatchIdCountIsBounded) {
  v1::Extend extend;
  for (int i = 0; i < kMaxExtendBatchIds; ++i) extend.add_batch_ids(i);
  EXPECT_TRUE(CheckExtend(extend).ok());
  extend.add_batch_ids(1);
  EXPECT_EQ(CheckExtend(extend).message(),
            "Extend.batch_ids: 100001 entries, over the limit of 100000");
}

TEST(CheckPartitionsRequestTest, TopicsPartitionsAndCount) {
  v1::PartitionsRequest request;
  EXPECT_TRUE(CheckPartitionsRequest(request).ok());  // empty = all
  v1::TopicPartition* tp = request.add_partitions();
  tp->set_topic("orders");
  tp->set_partition(3);
  EXPECT_TRUE(CheckPartitionsRequest(request).ok());

  tp->set_partition(-1);
  EXPECT_EQ(CheckPartitionsRequest(request).message(),
            "partitions[0].partition: must be at least 0, got -1");
  tp->set_partition(0);
  tp->set_topic(std::string(1 << 20, 'p'));
  const absl::Status huge = CheckPartitionsRequest(request);
  EXPECT_TRUE(absl::IsInvalidArgument(huge));
  EXPECT_EQ(huge.message(), "partitions[0].topic: 1048576 bytes, over the limit of 249");
  tp->set_topic("");
  EXPECT_EQ(CheckPartitionsRequest(request).message(), "partitions[0].topic: empty topic name");

  v1::PartitionsRequest many;
  for (int i = 0; i <= kMaxRequestPartitions; ++i) {
    v1::TopicPartition* p = many.add_partitions();
    p->set_topic("t");
    p->set_partition(i);
  }
  EXPECT_EQ(CheckPartitionsRequest(many).message(),
            "partitions: 100001 entries, over the limit of 100000");
}

}  // namespace
}  // namespace kafka_sidecar
