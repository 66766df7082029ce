#include "sidecar/deadletter/dead_letter_producer_impl.h"

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "spdlog/spdlog.h"
#include "sidecar/kafka/rdkafka_conf.h"

namespace kafka_sidecar {
namespace {

// The destructor's last chance for outstanding produces: a graceful
// shutdown has flushed already, so this only bounds an abrupt one.
constexpr absl::Duration kCloseFlushTimeout = absl::Seconds(5);
// After a purge, librdkafka reports the purged records at once.
constexpr absl::Duration kPurgeTimeout = absl::Seconds(2);
constexpr int kPollTimeoutMs = 100;

// Present but empty keys and values need a non-null pointer: librdkafka
// sends a null pointer as a null key or a tombstone.
constexpr char kEmpty[] = "";

void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void*) {
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    // The idempotent producer cannot go on; every later produce fails.
    char fatal[512];
    rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    spdlog::error("kafka dead-letter producer: fatal: {}", fatal);
    return;
  }
  spdlog::warn("kafka dead-letter producer: {}: {}",
               rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
}

// Properties librdkafka documents as consumer-only ("C"). The consumer's
// kafka.properties are shared with this producer, and librdkafka would warn
// about each of these at start-up; its own table keeps the list right for
// whatever librdkafka version is linked.
const absl::flat_hash_set<std::string>& ConsumerOnlyProperties() {
  static const auto* const props = [] {
    auto* set = new absl::flat_hash_set<std::string>();
    char* buf = nullptr;
    size_t len = 0;
    if (FILE* f = open_memstream(&buf, &len)) {
      rd_kafka_conf_properties_show(f);
      std::fclose(f);
    }
    if (buf == nullptr) return set;
    for (absl::string_view line : absl::StrSplit(absl::string_view(buf, len), '\n')) {
      const std::vector<absl::string_view> cols = absl::StrSplit(line, '|');
      if (cols.size() > 2 && absl::StripAsciiWhitespace(cols[1]) == "C") {
        set->insert(std::string(absl::StripAsciiWhitespace(cols[0])));
      }
    }
    std::free(buf);
    return set;
  }();
  return *props;
}

// The status codes IsPermanentDeadLetterFailure reads: InvalidArgument,
// PermissionDenied, NotFound and FailedPrecondition are permanent.
absl::Status ProduceError(rd_kafka_resp_err_t err, const std::string& topic) {
  const std::string message = absl::StrCat("dead-letter topic ", topic, ": ", rd_kafka_err2str(err));
  switch (err) {
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
      return absl::CancelledError(message);
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
      return absl::DeadlineExceededError(message);
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return absl::ResourceExhaustedError(message);
    // The record, as it is, can never go to this topic.
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return absl::InvalidArgumentError(message);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return absl::PermissionDeniedError(message);
    // librdkafka reports these once the topic has been missing from the
    // cluster's metadata for topic.metadata.propagation.max.ms, or for the
    // whole message.timeout.ms: not a leader moving.
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return absl::NotFoundError(message);
    // The idempotent producer cannot go on; every later produce fails too.
    case RD_KAFKA_RESP_ERR__FATAL:
      return absl::FailedPreconditionError(message);
    default:
      return absl::UnavailableError(message);
  }
}

void AddHeader(rd_kafka_headers_t* headers, const char* name, absl::string_view value) {
  rd_kafka_header_add(headers, name, -1, value.data(), static_cast<ssize_t>(value.size()));
}

}  // namespace

bool IsPermanentDeadLetterFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

struct DeadLetterProducerImpl::Pending {
  Done done;
};

absl::Status DeadLetterProducerImpl::BuildConf(const Config& config, rd_kafka_conf_t* conf) {
  ConfSetter setter(conf);
  auto set = [&setter](const std::string& key, const std::string& value,
                       const std::string& config_key) { setter.Set(key, value, config_key); };
  // Defaults kafka.properties may override.
  set("client.id", "kafka-sidecar-dlq", "kafka.properties.client.id");
  set("message.timeout.ms", "30000", "kafka.properties.message.timeout.ms");
  set("linger.ms", "5", "kafka.properties.linger.ms");
  // SASL, SSL and the like apply to this producer as to the consumer.
  for (const auto& [key, value] : config.kafka.properties) {
    if (ConsumerOnlyProperties().contains(key)) {
      spdlog::debug("kafka dead-letter producer: not applying consumer property {}", key);
      continue;
    }
    set(key, value, absl::StrCat("kafka.properties.", key));
  }
  set("bootstrap.servers", config.kafka.bootstrap_servers, "kafka.bootstrap_servers");
  // A dead-lettered message counts as settled once produced, so the produce
  // must be durable and must not duplicate on retry: not overridable.
  set("enable.idempotence", "true", "kafka.properties.enable.idempotence");
  set("acks", "all", "kafka.properties.acks");
  return setter.status();
}

absl::StatusOr<std::unique_ptr<DeadLetterProducerImpl>> DeadLetterProducerImpl::Create(
    const Config& config) {
  if (config.processing.dead_letter_topic.empty()) {
    return absl::InvalidArgumentError("processing.dead_letter_topic: is not set");
  }
  std::unique_ptr<DeadLetterProducerImpl> self(
      new DeadLetterProducerImpl(config.processing.dead_letter_topic));
  for (const bool alone : {false, true}) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    if (absl::Status s = BuildConf(config, conf); !s.ok()) {
      rd_kafka_conf_destroy(conf);
      return s;
    }
    if (alone) {
      // One record per request, so the broker's answer is about that record.
      char ignored[256];
      rd_kafka_conf_set(conf, "batch.num.messages", "1", ignored, sizeof(ignored));
      rd_kafka_conf_set(conf, "linger.ms", "0", ignored, sizeof(ignored));
      rd_kafka_conf_set(conf, "client.id", "kafka-sidecar-dlq-single", ignored, sizeof(ignored));
    }
    rd_kafka_conf_set_opaque(conf, self.get());
    rd_kafka_conf_set_log_cb(conf, &LogToSpdlog);
    rd_kafka_conf_set_error_cb(conf, &ErrorCallback);
    rd_kafka_conf_set_dr_msg_cb(conf, &DeadLetterProducerImpl::DeliveryReport);
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == nullptr) {
      rd_kafka_conf_destroy(conf);  // owned by rd_kafka_new only on success
      return absl::InvalidArgumentError(
          absl::StrCat("kafka: cannot create dead-letter producer: ", err));
    }
    Instance& instance = alone ? self->alone_ : self->batched_;
    instance.rk = rk;
    instance.poller = std::thread([p = self.get(), rk] { p->PollLoop(rk); });
  }
  spdlog::info("kafka: dead-letter producer for topic {} ready", self->topic_);
  return self;
}

DeadLetterProducerImpl::~DeadLetterProducerImpl() {
  if (!AwaitIdle(kCloseFlushTimeout)) {
    size_t left;
    {
      MutexLock lock(&mu_);
      left = pending_.size();
    }
    spdlog::warn("kafka: {} dead-letter produces to {} unacknowledged at shutdown; giving up",
                 left, topic_);
    // Reported as _PURGE_QUEUE / _PURGE_INFLIGHT through the poll threads;
    // a purged batched produce is not tried alone (see DeliveryReport).
    purging_.store(true);
    for (Instance* i : {&batched_, &alone_}) {
      if (i->rk != nullptr) rd_kafka_purge(i->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    AwaitIdle(kPurgeTimeout);
  }
  stop_.store(true);
  for (Instance* i : {&batched_, &alone_}) {
    if (i->rk == nullptr) continue;
    rd_kafka_yield(i->rk);
    if (i->poller.joinable()) i->poller.join();
  }
  for (Instance* i : {&batched_, &alone_}) {
    if (i->rk != nullptr) rd_kafka_destroy(i->rk);
  }
  // librdkafka drops undelivered reports when destroyed, without calling
  // back: whatever is left never gets one now.
  std::vector<Pending*> left;
  {
    MutexLock lock(&mu_);
    left.assign(pending_.begin(), pending_.end());
  }
  for (Pending* p : left) {
    Finish(p, absl::CancelledError(absl::StrCat(
                  "dead-letter topic ", topic_, ": producer shut down before Kafka acknowledged")));
  }
}

void DeadLetterProducerImpl::PollLoop(rd_kafka_t* rk) {
  while (!stop_.load()) rd_kafka_poll(rk, kPollTimeoutMs);
}

void DeadLetterProducerImpl::DeliveryReport(rd_kafka_t* rk, const rd_kafka_message_t* msg,
                                            void* opaque) {
  auto* self = static_cast<DeadLetterProducerImpl*>(opaque);
  auto* pending = static_cast<Pending*>(msg->_private);
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->Finish(pending, absl::OkStatus());
    return;
  }
  // The broker judges a size by the whole batch: a record that fits fails
  // with one that does not. Only the record alone tells which it is, and a
  // permanent failure must be about the record itself.
  const bool size_error = msg->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
                          msg->err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
  if (size_error && rk == self->batched_.rk && !self->purging_.load()) {
    self->ProduceAlone(msg, pending);
    return;
  }
  self->Finish(pending, ProduceError(msg->err, self->topic_));
}

void DeadLetterProducerImpl::ProduceAlone(const rd_kafka_message_t* msg, Pending* pending) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_headers_t* h = nullptr;
      rd_kafka_message_headers(msg, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h != nullptr) {
    headers = rd_kafka_headers_copy(h);
  }
  rd_kafka_timestamp_type_t type;
  const int64_t timestamp = rd_kafka_message_timestamp(msg, &type);
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      alone_.rk, RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_PARTITION(msg->partition),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(msg->key, msg->key_len),
      RD_KAFKA_V_VALUE(msg->payload, msg->len), RD_KAFKA_V_TIMESTAMP(timestamp > 0 ? timestamp : 0),
      RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(pending), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (headers != nullptr) rd_kafka_headers_destroy(headers);
    Finish(pending, ProduceError(err, topic_));
  }
}

void DeadLetterProducerImpl::Finish(Pending* pending, absl::Status status) {
  {
    MutexLock lock(&mu_);
    if (pending_.erase(pending) == 0) {
      spdlog::error("kafka: dead-letter produce to {} reported twice", topic_);
      return;
    }
    ++running_;
  }
  Done done = std::move(pending->done);
  delete pending;
  done(std::move(status));
  MutexLock lock(&mu_);
  --running_;
  if (IdleLocked()) idle_.SignalAll();
}

bool DeadLetterProducerImpl::AwaitIdle(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  MutexLock lock(&mu_);
  while (!IdleLocked()) {
    if (idle_.WaitWithDeadline(&mu_, deadline)) return IdleLocked();
  }
  return true;
}

void DeadLetterProducerImpl::Produce(const Record& record, const DeadLetterInfo& info,
                                     Done done) {
  rd_kafka_headers_t* headers =
      record.headers != nullptr ? rd_kafka_headers_copy(record.headers) : rd_kafka_headers_new(6);
  AddHeader(headers, kHeaderOriginalTopic, info.source.topic);
  AddHeader(headers, kHeaderOriginalPartition, absl::StrCat(info.source.partition));
  AddHeader(headers, kHeaderOriginalOffset, absl::StrCat(record.offset));
  AddHeader(headers, kHeaderOriginalTimestamp, absl::StrCat(record.timestamp_ms));
  AddHeader(headers, kHeaderDeliveryAttempts, absl::StrCat(info.attempts));
  AddHeader(headers, kHeaderDeadLetterReason, info.reason);

  const void* key = nullptr;
  if (record.has_key) key = record.key.empty() ? kEmpty : record.key.data();
  const char* value = nullptr;
  if (record.has_value) value = record.value.empty() ? kEmpty : record.value.data();
  // 0 asks librdkafka for the current time: the best a record without a
  // timestamp can get.
  const int64_t timestamp = record.timestamp_ms > 0 ? record.timestamp_ms : 0;

  auto* pending = new Pending{std::move(done)};
  {
    MutexLock lock(&mu_);
    pending_.insert(pending);
  }
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      batched_.rk, RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(key, record.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value), record.value.size()),
      RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(pending),
      RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // librdkafka takes the headers only when the produce is queued.
    rd_kafka_headers_destroy(headers);
    Finish(pending, ProduceError(err, topic_));
  }
}

absl::Status DeadLetterProducerImpl::Flush(std::chrono::milliseconds timeout) {
  // The poll threads serve the delivery reports, so every `done` runs there.
  if (AwaitIdle(absl::FromChrono(timeout))) return absl::OkStatus();
  MutexLock lock(&mu_);
  return absl::DeadlineExceededError(absl::StrCat("dead-letter topic ", topic_, ": ",
                                                  pending_.size(), " produces unacknowledged after ",
                                                  timeout.count(), " ms"));
}

}  // namespace kafka_sidecar
