// DeadLetterProducerImpl against a real broker: records consumed with
// librdkafka (as the sidecar gets them) are dead-lettered, and the
// dead-letter topic is read back with an independent consumer.
#include "sidecar/deadletter/dead_letter_producer_impl.h"

#include <librdkafka/rdkafka.h>

#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "sidecar/common/mutex.h"
#include "sidecar/kafka/record.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "tests/support/kafka_broker.h"
#include "tests/support/topic_reader.h"

namespace kafka_sidecar::testing {
namespace {

constexpr absl::Duration kWait = absl::Seconds(60);

// A message the test writes to the source topic.
struct SourceMessage {
  int32_t partition = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<ReadHeader> headers;
  int64_t timestamp_ms = 0;
};

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using RdKafkaPtr = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;

RdKafkaPtr NewClient(rd_kafka_type_t type,
                     const std::vector<std::pair<std::string, std::string>>& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err)) !=
        RD_KAFKA_CONF_OK) {
      ADD_FAILURE() << key << ": " << err;
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));
  if (rk == nullptr) {
    ADD_FAILURE() << "rd_kafka_new: " << err;
    rd_kafka_conf_destroy(conf);
  }
  return RdKafkaPtr(rk);
}

void CountDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  EXPECT_EQ(msg->err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(msg->err);
}

// Writes `messages` to `topic` with their partitions, timestamps and headers.
void ProduceSource(const std::string& bootstrap, const std::string& topic,
                   const std::vector<SourceMessage>& messages) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err)),
            RD_KAFKA_CONF_OK);
  ASSERT_EQ(rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err)),
            RD_KAFKA_CONF_OK);
  rd_kafka_conf_set_dr_msg_cb(conf, &CountDelivery);
  RdKafkaPtr producer(rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)));
  ASSERT_NE(producer, nullptr) << err;
  for (const SourceMessage& m : messages) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(m.headers.size());
    for (const ReadHeader& h : m.headers) {
      rd_kafka_header_add(headers, h.key.c_str(), -1,
                          h.value.has_value() ? h.value->data() : nullptr,
                          h.value.has_value() ? static_cast<ssize_t>(h.value->size()) : 0);
    }
    // c_str() is never null, so empty stays empty rather than null.
    const char* key = m.key.has_value() ? m.key->c_str() : nullptr;
    const size_t key_size = m.key.has_value() ? m.key->size() : 0;
    char* value = m.value.has_value() ? const_cast<char*>(m.value->c_str()) : nullptr;
    const size_t value_size = m.value.has_value() ? m.value->size() : 0;
    const rd_kafka_resp_err_t rc = rd_kafka_producev(
        producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(m.partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_size),
        RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_TIMESTAMP(m.timestamp_ms),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(headers);
    ASSERT_EQ(rc, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(rc);
  }
  ASSERT_EQ(rd_kafka_flush(producer.get(), absl::ToInt64Milliseconds(kWait)),
            RD_KAFKA_RESP_ERR_NO_ERROR);
}

// Consumed records, with the consumer that must outlive their messages.
struct Consumed {
  RdKafkaPtr consumer;
  std::vector<int32_t> partitions;  // of records[i]
  std::vector<Record> records;  // declared last: destroyed before the client
};

// Consumes `count` records of `topic` (all partitions from the beginning)
// as the sidecar would receive them.
void ConsumeSource(const std::string& bootstrap, const std::string& topic, int partitions,
                   size_t count, Consumed* out) {
  // A group.id only because rd_kafka_assign needs one; nothing is committed.
  out->consumer = NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                                {"group.id", "dead-letter-test-source"},
                                                {"enable.auto.commit", "false"}});
  ASSERT_NE(out->consumer, nullptr);
  rd_kafka_poll_set_consumer(out->consumer.get());
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  const rd_kafka_resp_err_t rc = rd_kafka_assign(out->consumer.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  ASSERT_EQ(rc, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(rc);
  const absl::Time deadline = absl::Now() + kWait;
  while (out->records.size() < count && absl::Now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(out->consumer.get(), 100);
    if (m == nullptr) continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ADD_FAILURE() << "consume: " << rd_kafka_message_errstr(m);
      rd_kafka_message_destroy(m);
      continue;
    }
    out->partitions.push_back(m->partition);
    out->records.push_back(RecordFromMessage(m));
  }
  ASSERT_EQ(out->records.size(), count) << "source records consumed within " << kWait;
}

// Every `done` call, per produce, for checking "exactly once".
class DoneLog {
 public:
  explicit DoneLog(size_t n) : calls_(n) {}

  DeadLetterProducer::Done Callback(size_t i) {
    return [this, i](absl::Status status) {
      MutexLock lock(&mu_);
      calls_[i].push_back(std::move(status));
      changed_.SignalAll();
    };
  }

  // Waits until every produce was answered at least once.
  bool AwaitAll(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    MutexLock lock(&mu_);
    while (!AllCalledLocked()) {
      if (changed_.WaitWithDeadline(&mu_, deadline)) return AllCalledLocked();
    }
    return true;
  }

  std::vector<std::vector<absl::Status>> calls() {
    MutexLock lock(&mu_);
    return calls_;
  }

 private:
  bool AllCalledLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const auto& c : calls_) {
      if (c.empty()) return false;
    }
    return true;
  }

  Mutex mu_;
  CondVar changed_;
  std::vector<std::vector<absl::Status>> calls_ ABSL_GUARDED_BY(mu_);
};

Config DeadLetterConfig(const std::string& bootstrap, const std::string& topic) {
  Config config;
  config.kafka.bootstrap_servers = bootstrap;
  config.kafka.topics = {"orders"};
  config.processing.dead_letter_topic = topic;
  return config;
}

std::vector<ReadHeader> AddedHeaders(const std::string& topic, int32_t partition, int64_t offset,
                                     int64_t timestamp_ms, uint32_t attempts,
                                     const std::string& reason) {
  return {
      {"x-original-topic", topic},
      {"x-original-partition", absl::StrCat(partition)},
      {"x-original-offset", absl::StrCat(offset)},
      {"x-original-timestamp", absl::StrCat(timestamp_ms)},
      {"x-delivery-attempts", absl::StrCat(attempts)},
      {"x-dead-letter-reason", reason},
  };
}

class DeadLetterProducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<KafkaBroker>> broker = KafkaBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }

  std::unique_ptr<KafkaBroker> broker_;
};

TEST_F(DeadLetterProducerTest, CopiesRecordsAndAddsOriginHeaders) {
  const std::string source = "orders";
  const std::string dlt = "orders-dlt";
  ASSERT_TRUE(broker_->CreateTopic(source, 2).ok());
  ASSERT_TRUE(broker_->CreateTopic(dlt, 1).ok());

  const int64_t t0 = 1700000000000;
  const std::string binary_key("b\0k", 3);
  const std::string binary_value("\0\x01\xff\0end", 7);
  const std::vector<SourceMessage> sent = {
      {0, "k0", "v0",
       {{"trace-id", "abc"}, {"empty", ""}, {"null", std::nullopt},
        // Already dead-lettered once upstream: kept, and ours come after.
        {"x-original-topic", "upstream"}},
       t0},
      {1, std::nullopt, "v1", {}, t0 + 1000},                          // null key
      {0, "k2", std::nullopt, {{"h", "1"}}, t0 + 2000},                // tombstone
      {1, binary_key, binary_value, {{"bin", binary_value}}, t0 + 3000},
      {0, "", "", {}, t0 + 4000},                                      // empty, not null
  };
  // Both source partitions started empty: partition 0 holds messages 0, 2, 4
  // at offsets 0, 1, 2 and partition 1 holds 1, 3 at offsets 0, 1.
  const std::vector<int64_t> source_offsets = {0, 0, 1, 1, 2};

  ASSERT_NO_FATAL_FAILURE(ProduceSource(broker_->bootstrap(), source, sent));
  Consumed consumed;
  ASSERT_NO_FATAL_FAILURE(
      ConsumeSource(broker_->bootstrap(), source, 2, sent.size(), &consumed));

  absl::StatusOr<std::unique_ptr<DeadLetterProducerImpl>> producer =
      DeadLetterProducerImpl::Create(DeadLetterConfig(broker_->bootstrap(), dlt));
  ASSERT_TRUE(producer.ok()) << producer.status();
  EXPECT_EQ((*producer)->topic(), dlt);

  // Dead-letter in the order sent, so the one-partition DLT holds message i
  // at offset i whatever order the two source partitions were consumed in.
  DoneLog done(sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    size_t c = 0;
    while (c < consumed.records.size() &&
           !(consumed.partitions[c] == sent[i].partition &&
             consumed.records[c].offset == source_offsets[i])) {
      ++c;
    }
    ASSERT_LT(c, consumed.records.size()) << "message " << i << " not consumed";
    const DeadLetterInfo info{{source, consumed.partitions[c]},
                              static_cast<uint32_t>(i + 1),
                              absl::StrCat("reason ", i)};
    (*producer)->Produce(consumed.records[c], info, done.Callback(i));
  }
  ASSERT_TRUE(done.AwaitAll(kWait)) << "not every produce was answered";
  const absl::Status flushed = (*producer)->Flush(std::chrono::milliseconds(0));
  EXPECT_TRUE(flushed.ok()) << flushed;
  const std::vector<std::vector<absl::Status>> calls = done.calls();
  for (size_t i = 0; i < calls.size(); ++i) {
    ASSERT_EQ(calls[i].size(), 1u) << "done of message " << i;
    EXPECT_TRUE(calls[i][0].ok()) << "message " << i << ": " << calls[i][0];
  }

  absl::StatusOr<std::vector<ReadRecord>> read =
      ReadAllOfTopic(broker_->bootstrap(), dlt, kWait);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("dead letter ", i));
    const ReadRecord& r = (*read)[i];
    EXPECT_EQ(r.partition, 0);
    EXPECT_EQ(r.offset, static_cast<int64_t>(i));
    EXPECT_EQ(r.key, sent[i].key);
    EXPECT_EQ(r.value, sent[i].value);
    EXPECT_EQ(r.timestamp_ms, sent[i].timestamp_ms);
    std::vector<ReadHeader> expected = sent[i].headers;
    for (ReadHeader& h : AddedHeaders(source, sent[i].partition, source_offsets[i],
                                      sent[i].timestamp_ms, static_cast<uint32_t>(i + 1),
                                      absl::StrCat("reason ", i))) {
      expected.push_back(std::move(h));
    }
    EXPECT_EQ(r.headers, expected);
  }
}

TEST_F(DeadLetterProducerTest, MissingTopicFailsWithinTheMessageTimeout) {
  // scripts/kafka.sh runs the broker with auto.create.topics.enable=false.
  const std::string dlt = "no-such-dlt";
  Config config = DeadLetterConfig(broker_->bootstrap(), dlt);
  config.kafka.properties["message.timeout.ms"] = "2000";
  absl::StatusOr<std::unique_ptr<DeadLetterProducerImpl>> producer =
      DeadLetterProducerImpl::Create(config);
  ASSERT_TRUE(producer.ok()) << producer.status();

  Record record;
  record.offset = 7;
  record.timestamp_ms = 1700000000000;
  record.has_key = record.has_value = true;
  record.key = "k";
  record.value = "v";
  DoneLog done(1);
  (*producer)->Produce(record, DeadLetterInfo{{"orders", 0}, 4, "exhausted"}, done.Callback(0));
  // Bounded well below librdkafka's 30 s topic.metadata.propagation.max.ms,
  // so only message.timeout.ms can have answered.
  ASSERT_TRUE(done.AwaitAll(absl::Seconds(15))) << "no answer for a missing topic";
  const std::vector<std::vector<absl::Status>> calls = done.calls();
  ASSERT_EQ(calls[0].size(), 1u);
  EXPECT_FALSE(calls[0][0].ok());
  EXPECT_TRUE(absl::StrContains(calls[0][0].message(), dlt)) << calls[0][0];
  // Destruction must not answer the same produce again.
  producer->reset();
  EXPECT_EQ(done.calls()[0].size(), 1u);

  absl::StatusOr<std::vector<ReadRecord>> read =
      ReadAllOfTopic(broker_->bootstrap(), dlt, absl::Seconds(20));
  EXPECT_TRUE(absl::IsNotFound(read.status())) << "the produce created the topic: "
                                               << read.status();
}

TEST_F(DeadLetterProducerTest, RecordTooLargeForTheTopicIsAPermanentFailure) {
  // The broker refuses it (the producer's own limit is far higher), and no
  // retry can change that.
  const std::string dlt = "small-dlt";
  ASSERT_TRUE(broker_->CreateTopic(dlt, 1, {{"max.message.bytes", "2000"}}).ok());
  absl::StatusOr<std::unique_ptr<DeadLetterProducerImpl>> producer =
      DeadLetterProducerImpl::Create(DeadLetterConfig(broker_->bootstrap(), dlt));
  ASSERT_TRUE(producer.ok()) << producer.status();

  Record small;
  small.offset = 1;
  small.has_value = true;
  small.value = "fits";
  Record large;
  large.offset = 2;
  large.has_value = true;
  large.value = std::string(50000, 'x');
  DoneLog done(2);
  (*producer)->Produce(small, DeadLetterInfo{{"orders", 0}, 1, "rejected"}, done.Callback(0));
  (*producer)->Produce(large, DeadLetterInfo{{"orders", 0}, 1, "rejected"}, done.Callback(1));
  ASSERT_TRUE(done.AwaitAll(absl::Seconds(20)));
  const std::vector<std::vector<absl::Status>> calls = done.calls();
  EXPECT_TRUE(calls[0][0].ok()) << calls[0][0];
  EXPECT_FALSE(calls[1][0].ok());
  EXPECT_TRUE(IsPermanentDeadLetterFailure(calls[1][0])) << calls[1][0];
  EXPECT_TRUE(absl::StrContains(calls[1][0].message(), "too large")) << calls[1][0];
  // Refused in one batch with the large one, the small record went again on
  // its own: in the topic once.
  absl::StatusOr<std::vector<ReadRecord>> read =
      ReadAllOfTopic(broker_->bootstrap(), dlt, absl::Seconds(20));
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].value, std::optional<std::string>("fits"));
}

TEST_F(DeadLetterProducerTest, DestructionAnswersEveryOutstandingProduce) {
  const std::string dlt = "never-created-dlt";
  Config config = DeadLetterConfig(broker_->bootstrap(), dlt);
  config.kafka.properties["message.timeout.ms"] = "300000";
  absl::StatusOr<std::unique_ptr<DeadLetterProducerImpl>> producer =
      DeadLetterProducerImpl::Create(config);
  ASSERT_TRUE(producer.ok()) << producer.status();

  constexpr size_t kCount = 3;
  Record record;
  record.has_value = true;
  record.value = "v";
  DoneLog done(kCount);
  for (size_t i = 0; i < kCount; ++i) {
    (*producer)->Produce(record, DeadLetterInfo{{"orders", 0}, 1, "rejected"}, done.Callback(i));
  }
  const absl::Status flushed = (*producer)->Flush(std::chrono::milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(flushed)) << flushed;
  EXPECT_TRUE(absl::StrContains(flushed.message(), "3 produces")) << flushed;
  for (const auto& c : done.calls()) EXPECT_TRUE(c.empty());

  producer->reset();  // waits a bounded time, then purges
  const std::vector<std::vector<absl::Status>> calls = done.calls();
  for (size_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(calls[i].size(), 1u) << "done of produce " << i;
    EXPECT_TRUE(absl::IsCancelled(calls[i][0])) << calls[i][0];
    EXPECT_TRUE(absl::StrContains(calls[i][0].message(), dlt)) << calls[i][0];
  }
}

// No broker needed below: nothing connects before the first produce.

TEST(DeadLetterProducerCreateTest, RefusesBadPropertiesNamingTheKey) {
  Config unknown = DeadLetterConfig("127.0.0.1:1", "dlt");
  unknown.kafka.properties["no.such.property"] = "1";
  absl::StatusOr<std::unique_ptr<DeadLetterProducerImpl>> a =
      DeadLetterProducerImpl::Create(unknown);
  EXPECT_TRUE(absl::IsInvalidArgument(a.status())) << a.status();
  EXPECT_TRUE(absl::StartsWith(a.status().message(), "kafka.properties.no.such.property: "))
      << a.status();

  Config bad_value = DeadLetterConfig("127.0.0.1:1", "dlt");
  bad_value.kafka.properties["message.timeout.ms"] = "soon";
  absl::StatusOr<std::unique_ptr<DeadLetterProducerImpl>> b =
      DeadLetterProducerImpl::Create(bad_value);
  EXPECT_TRUE(absl::IsInvalidArgument(b.status())) << b.status();
  EXPECT_TRUE(absl::StartsWith(b.status().message(), "kafka.properties.message.timeout.ms: "))
      << b.status();

  absl::StatusOr<std::unique_ptr<DeadLetterProducerImpl>> c =
      DeadLetterProducerImpl::Create(DeadLetterConfig("127.0.0.1:1", ""));
  EXPECT_TRUE(absl::IsInvalidArgument(c.status())) << c.status();
  EXPECT_TRUE(absl::StartsWith(c.status().message(), "processing.dead_letter_topic: "))
      << c.status();
}

TEST(DeadLetterProducerCreateTest, LeavesConsumerOnlyPropertiesToTheConsumer) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  Config config = DeadLetterConfig("127.0.0.1:1", "dlt");
  config.kafka.properties["isolation.level"] = "read_committed";
  config.kafka.properties["client.rack"] = "rack-1";  // both: applied, no warning either
  absl::StatusOr<std::unique_ptr<DeadLetterProducerImpl>> producer =
      DeadLetterProducerImpl::Create(config);
  producer = absl::CancelledError("destroyed");  // joins the poll thread: logging is done
  spdlog::set_default_logger(previous);
  EXPECT_TRUE(absl::IsCancelled(producer.status()));
  // librdkafka warns "Configuration property isolation.level is a consumer
  // property and will be ignored by this producer instance".
  EXPECT_FALSE(absl::StrContains(log.str(), "isolation.level")) << log.str();
  EXPECT_FALSE(absl::StrContains(log.str(), "client.rack")) << log.str();
}

TEST(DeadLetterProducerCreateTest, AnswersAtOnceWhatCannotBeQueued) {
  Config config = DeadLetterConfig("127.0.0.1:1", "dlt");
  config.kafka.properties["message.max.bytes"] = "1000";
  absl::StatusOr<std::unique_ptr<DeadLetterProducerImpl>> producer =
      DeadLetterProducerImpl::Create(config);
  ASSERT_TRUE(producer.ok()) << producer.status();
  const std::string big(2000, 'x');
  Record record;
  record.has_value = true;
  record.value = big;
  DoneLog done(1);
  (*producer)->Produce(record, DeadLetterInfo{{"orders", 0}, 1, "rejected"}, done.Callback(0));
  // Answered before Produce returned, without waiting.
  const std::vector<std::vector<absl::Status>> calls = done.calls();
  ASSERT_EQ(calls[0].size(), 1u);
  EXPECT_TRUE(absl::IsInvalidArgument(calls[0][0])) << calls[0][0];
  EXPECT_TRUE(absl::StrContains(calls[0][0].message(), "dlt")) << calls[0][0];
  EXPECT_TRUE((*producer)->Flush(std::chrono::milliseconds(0)).ok());
}

}  // namespace
}  // namespace kafka_sidecar::testing
