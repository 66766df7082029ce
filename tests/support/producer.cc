#include "producer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"

namespace kafka_sidecar::testing {
namespace {

struct Deliveries {
  int64_t ok = 0;
  int64_t failed = 0;
  std::string first_error;
};

// Runs on the thread that calls rd_kafka_poll / rd_kafka_flush, which is the
// producing thread: no locking needed.
void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* d = static_cast<Deliveries*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++d->ok;
    return;
  }
  if (d->failed++ == 0) {
    d->first_error = absl::StrCat("partition ", message->partition, ": ",
                                  rd_kafka_err2str(message->err));
  }
}

struct ProducerDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};

int RemainingMs(absl::Time deadline) {
  return static_cast<int>(std::max<int64_t>(
      0, absl::ToInt64Milliseconds(deadline - absl::Now())));
}

}  // namespace

std::string KeyFor(int64_t index) { return absl::StrCat("k", index); }

std::string ValueFor(int64_t index, size_t value_size) {
  std::string value = absl::StrCat("msg-", index);
  if (value.size() < value_size) value.resize(value_size, '.');
  return value;
}

absl::Status ProduceMessages(const std::string& bootstrap,
                             const std::string& topic, int partitions,
                             int64_t count, const ProduceOptions& options) {
  if (partitions <= 0) return absl::InvalidArgumentError("partitions <= 0");
  const absl::Time deadline = absl::Now() + options.timeout;
  Deliveries deliveries;
  char errstr[512];

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, std::string> settings[] = {
      {"bootstrap.servers", bootstrap},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"queue.buffering.max.messages", "500000"},
      {"acks", "all"},
      // Exactly once per partition and in order, so offsets map back to
      // message indices.
      {"enable.idempotence", "true"},
      {"message.timeout.ms",
       absl::StrCat(std::max<int64_t>(
           1000, absl::ToInt64Milliseconds(options.timeout)))},
  };
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name, value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(
          absl::StrCat("producer config ", name, ": ", errstr));
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_conf_set_opaque(conf, &deliveries);

  rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (raw == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new owns it only on success
    return absl::InternalError(absl::StrCat("rd_kafka_new: ", errstr));
  }
  std::unique_ptr<rd_kafka_t, ProducerDeleter> rk(raw);

  for (int64_t n = 0; n < count; ++n) {
    const int64_t i = options.first_index + n;
    const std::string key = KeyFor(i);
    const std::string value = options.value_for ? options.value_for(i)
                                                : ValueFor(i, options.value_size);
    const int32_t partition = static_cast<int32_t>(i % partitions);
    while (true) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return absl::InternalError(absl::StrCat(
            "produce message ", i, " to ", topic, ": ", rd_kafka_err2str(err)));
      }
      // The local queue is full: serve delivery reports to make room.
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("producer queue still full after ", n, " messages"));
      }
      rd_kafka_poll(rk.get(), 10);
    }
    if (deliveries.failed > 0) break;
    if (n % 1000 == 0) rd_kafka_poll(rk.get(), 0);
  }

  const rd_kafka_resp_err_t flush_err =
      rd_kafka_flush(rk.get(), RemainingMs(deadline));
  if (deliveries.failed > 0) {
    return absl::InternalError(absl::StrCat(deliveries.failed,
                                            " deliveries failed, first: ",
                                            deliveries.first_error));
  }
  if (flush_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::DeadlineExceededError(absl::StrCat(
        "flush: ", rd_kafka_err2str(flush_err), "; ",
        rd_kafka_outq_len(rk.get()), " messages still queued"));
  }
  char fatal[512];
  if (rd_kafka_fatal_error(rk.get(), fatal, sizeof(fatal)) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("producer fatal error: ", fatal));
  }
  if (deliveries.ok != count) {
    return absl::InternalError(absl::StrCat(
        deliveries.ok, " of ", count, " deliveries confirmed"));
  }
  return absl::OkStatus();
}

}  // namespace kafka_sidecar::testing
