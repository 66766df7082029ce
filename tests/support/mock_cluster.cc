#include "mock_cluster.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "producer.h"

namespace kafka_sidecar::testing {
namespace {

int RemainingMs(absl::Time deadline) {
  return static_cast<int>(std::clamp<int64_t>(
      absl::ToInt64Milliseconds(deadline - absl::Now()), 0, 1 << 30));
}

// Sets `settings` on a fresh conf; nullptr and `error` set on failure.
rd_kafka_conf_t* NewConf(
    const std::vector<std::pair<std::string, std::string>>& settings,
    std::string* error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      *error = absl::StrCat(name, ": ", errstr);
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  return conf;
}

rd_kafka_t* NewClient(rd_kafka_type_t type,
                      const std::vector<std::pair<std::string, std::string>>& settings,
                      std::string* error) {
  rd_kafka_conf_t* conf = NewConf(settings, error);
  if (conf == nullptr) return nullptr;
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new owns it only on success
    *error = absl::StrCat("rd_kafka_new: ", errstr);
  }
  return rk;
}

// A consumer that is never subscribed: closing it must not touch the group.
void DestroyQuietly(rd_kafka_t* rk) {
  if (rk != nullptr) rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

absl::Status FromErr(rd_kafka_resp_err_t err, absl::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", rd_kafka_err2name(err), ": ",
                                          rd_kafka_err2str(err)));
}

struct Deliveries {
  std::mutex mu;
  int64_t ok = 0;
  int64_t failed = 0;
  std::string first_error;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* d = static_cast<Deliveries*>(opaque);
  std::lock_guard<std::mutex> lock(d->mu);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++d->ok;
  } else if (d->failed++ == 0) {
    d->first_error = absl::StrCat("partition ", message->partition, ": ",
                                  rd_kafka_err2name(message->err));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<MockCluster>> MockCluster::Create(int brokers) {
  if (brokers <= 0) return absl::InvalidArgumentError("brokers <= 0");
  std::unique_ptr<MockCluster> self(new MockCluster());
  std::string error;
  // The owner only hosts the cluster; it never produces. Quiet logs: the mock
  // brokers' own chatter would drown the test's.
  self->owner_ = NewClient(RD_KAFKA_PRODUCER, {{"log_level", "3"}}, &error);
  if (self->owner_ == nullptr) return absl::InternalError(error);
  self->mcluster_ = rd_kafka_mock_cluster_new(self->owner_, brokers);
  if (self->mcluster_ == nullptr) {
    return absl::InternalError("rd_kafka_mock_cluster_new failed");
  }
  self->broker_count_ = brokers;
  self->bootstrap_ = rd_kafka_mock_cluster_bootstraps(self->mcluster_);

  // Broker id -> address, as the cluster's own metadata says.
  self->broker_addresses_.assign(brokers + 1, "");
  std::lock_guard<std::mutex> lock(self->clients_mu_);
  rd_kafka_t* client = self->MetadataClientLocked(&error);
  if (client == nullptr) return absl::InternalError(error);
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_resp_err_t err = rd_kafka_metadata(client, 0, nullptr, &md, 10000); err) {
    return FromErr(err, "mock cluster metadata");
  }
  for (int i = 0; i < md->broker_cnt; ++i) {
    const int32_t id = md->brokers[i].id;
    if (id >= 1 && id <= brokers) {
      self->broker_addresses_[id] = absl::StrCat(md->brokers[i].host, ":", md->brokers[i].port);
    }
  }
  rd_kafka_metadata_destroy(md);
  return self;
}

MockCluster::~MockCluster() {
  {
    std::lock_guard<std::mutex> lock(clients_mu_);
    for (auto& [group, rk] : group_readers_) DestroyQuietly(rk);
    group_readers_.clear();
    DestroyQuietly(metadata_client_);
    metadata_client_ = nullptr;
  }
  if (mcluster_ != nullptr) rd_kafka_mock_cluster_destroy(mcluster_);
  if (owner_ != nullptr) rd_kafka_destroy(owner_);
}

std::string MockCluster::BrokerAddress(int32_t broker_id) const {
  if (broker_id < 1 || broker_id >= static_cast<int32_t>(broker_addresses_.size())) return "";
  return broker_addresses_[broker_id];
}

rd_kafka_t* MockCluster::MetadataClientLocked(std::string* error) {
  if (metadata_client_ == nullptr) {
    metadata_client_ = NewClient(RD_KAFKA_CONSUMER,
                                 {{"bootstrap.servers", bootstrap_},
                                  {"client.id", "mock-cluster-metadata"},
                                  {"log_level", "3"}},
                                 error);
  }
  return metadata_client_;
}

rd_kafka_t* MockCluster::GroupReaderLocked(const std::string& group, std::string* error) {
  auto it = group_readers_.find(group);
  if (it != group_readers_.end()) return it->second;
  // Same group.id, never subscribed or assigned: rd_kafka_committed() sends
  // OffsetFetch to the coordinator without joining the group, and with
  // auto-commit off this client never commits anything.
  rd_kafka_t* rk = NewClient(RD_KAFKA_CONSUMER,
                             {{"bootstrap.servers", bootstrap_},
                              {"group.id", group},
                              {"client.id", "mock-cluster-offset-reader"},
                              {"enable.auto.commit", "false"},
                              {"enable.auto.offset.store", "false"},
                              {"log_level", "3"}},
                             error);
  if (rk != nullptr) group_readers_[group] = rk;
  return rk;
}

absl::Status MockCluster::CreateTopic(const std::string& topic, int partitions,
                                      int replication_factor) {
  return FromErr(rd_kafka_mock_topic_create(mcluster_, topic.c_str(), partitions,
                                            replication_factor),
                 absl::StrCat("create topic ", topic));
}

absl::Status MockCluster::Produce(const std::string& topic, int partitions, int64_t count,
                                  const MockProduceOptions& options) {
  if (partitions <= 0) return absl::InvalidArgumentError("partitions <= 0");
  const absl::Time deadline = absl::Now() + options.timeout;
  Deliveries deliveries;
  std::string error;
  rd_kafka_conf_t* conf = NewConf(
      {{"bootstrap.servers", bootstrap_},
       {"client.id", "mock-cluster-producer"},
       {"linger.ms", "5"},
       {"batch.size", std::to_string(std::max(options.batch_bytes, 1))},
       {"queue.buffering.max.messages", "500000"},
       {"acks", "all"},
       // Exactly once per partition and in order: offsets map back to indices.
       {"enable.idempotence", "true"},
       {"message.timeout.ms",
        std::to_string(std::max<int64_t>(1000, absl::ToInt64Milliseconds(options.timeout)))},
       {"log_level", "3"}},
      &error);
  if (conf == nullptr) return absl::InvalidArgumentError(absl::StrCat("producer config ", error));
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_conf_set_opaque(conf, &deliveries);
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("rd_kafka_new: ", errstr));
  }
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> owner(rk, &rd_kafka_destroy);

  for (int64_t n = 0; n < count; ++n) {
    const int64_t i = options.first_index + n;
    const std::string key = KeyFor(i);
    const std::string value = ValueFor(i, options.value_size);
    while (true) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_PARTITION(static_cast<int32_t>(i % partitions)),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return FromErr(err, absl::StrCat("produce message ", i, " to ", topic));
      }
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("producer queue still full after ", n, " messages"));
      }
      rd_kafka_poll(rk, 10);  // serves delivery reports, making room
    }
    if (n % 1000 == 0) rd_kafka_poll(rk, 0);
  }
  const rd_kafka_resp_err_t flush_err = rd_kafka_flush(rk, RemainingMs(deadline));
  std::lock_guard<std::mutex> lock(deliveries.mu);
  if (deliveries.failed > 0) {
    return absl::InternalError(absl::StrCat(deliveries.failed, " deliveries failed, first: ",
                                            deliveries.first_error));
  }
  if (flush_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::DeadlineExceededError(absl::StrCat("flush: ", rd_kafka_err2str(flush_err), "; ",
                                                    rd_kafka_outq_len(rk),
                                                    " messages still queued"));
  }
  if (deliveries.ok != count) {
    return absl::InternalError(absl::StrCat(deliveries.ok, " of ", count, " deliveries confirmed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PartitionOffsets> MockCluster::CommittedOffsets(const std::string& group,
                                                               const std::string& topic,
                                                               int partitions,
                                                               absl::Duration timeout) {
  std::lock_guard<std::mutex> lock(clients_mu_);
  std::string error;
  rd_kafka_t* rk = GroupReaderLocked(group, &error);
  if (rk == nullptr) return absl::InternalError(error);
  std::unique_ptr<rd_kafka_topic_partition_list_t,
                  decltype(&rd_kafka_topic_partition_list_destroy)>
      list(rd_kafka_topic_partition_list_new(partitions), &rd_kafka_topic_partition_list_destroy);
  for (int32_t p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  }
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  if (rd_kafka_resp_err_t err = rd_kafka_committed(rk, list.get(), timeout_ms); err) {
    return FromErr(err, absl::StrCat("committed offsets of group ", group));
  }
  PartitionOffsets out;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& e = list->elems[i];
    if (e.err) {
      return FromErr(e.err, absl::StrCat("committed offset of ", topic, "/", e.partition));
    }
    if (e.offset >= 0) out[e.partition] = e.offset;
  }
  return out;
}

absl::StatusOr<PartitionOffsets> MockCluster::EndOffsets(const std::string& topic,
                                                         int partitions,
                                                         absl::Duration timeout) {
  std::lock_guard<std::mutex> lock(clients_mu_);
  std::string error;
  rd_kafka_t* rk = MetadataClientLocked(&error);
  if (rk == nullptr) return absl::InternalError(error);
  const absl::Time deadline = absl::Now() + timeout;
  PartitionOffsets out;
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    if (rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
            rk, topic.c_str(), p, &low, &high, std::max(1, RemainingMs(deadline)));
        err) {
      return FromErr(err, absl::StrCat("watermarks of ", topic, "/", p));
    }
    out[p] = high;
  }
  return out;
}

absl::StatusOr<std::map<int32_t, int32_t>> MockCluster::PartitionLeaders(
    const std::string& topic, absl::Duration timeout) {
  std::lock_guard<std::mutex> lock(clients_mu_);
  std::string error;
  rd_kafka_t* rk = MetadataClientLocked(&error);
  if (rk == nullptr) return absl::InternalError(error);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(
      rk, 0, rkt, &md, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  rd_kafka_topic_destroy(rkt);
  if (err) return FromErr(err, absl::StrCat("metadata of ", topic));
  std::map<int32_t, int32_t> out;
  absl::Status status;
  for (int t = 0; t < md->topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& mt = md->topics[t];
    if (topic != mt.topic) continue;
    if (mt.err) status = FromErr(mt.err, absl::StrCat("metadata of ", topic));
    for (int i = 0; i < mt.partition_cnt; ++i) out[mt.partitions[i].id] = mt.partitions[i].leader;
  }
  rd_kafka_metadata_destroy(md);
  if (!status.ok()) return status;
  return out;
}

bool MockCluster::WaitForCommitted(const std::string& group, const std::string& topic,
                                   const PartitionOffsets& want, absl::Duration timeout,
                                   PartitionOffsets* last) {
  if (last != nullptr) last->clear();
  int partitions = 0;
  for (const auto& [p, offset] : want) partitions = std::max(partitions, p + 1);
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    absl::StatusOr<PartitionOffsets> got =
        CommittedOffsets(group, topic, partitions, std::clamp(left, absl::Milliseconds(500),
                                                              absl::Seconds(5)));
    if (got.ok()) {
      bool all = true;
      for (const auto& [p, offset] : want) {
        auto it = got->find(p);
        all = all && it != got->end() && it->second == offset;
      }
      if (last != nullptr) *last = *got;
      if (all) return true;
    }
    if (absl::Now() >= deadline) return false;
    // Polling a remote state: the pause only spaces the OffsetFetch requests.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void MockCluster::PushRequestErrors(int16_t api_key,
                                    const std::vector<rd_kafka_resp_err_t>& errors) {
  rd_kafka_mock_push_request_errors_array(mcluster_, api_key, errors.size(), errors.data());
}

void MockCluster::ClearRequestErrors(int16_t api_key) {
  rd_kafka_mock_clear_request_errors(mcluster_, api_key);
}

absl::Status MockCluster::PushBrokerRequestErrors(
    int32_t broker_id, int16_t api_key,
    const std::vector<std::pair<rd_kafka_resp_err_t, int>>& errors_and_rtts) {
  // One push per entry: each appends to the broker's stack, so order holds.
  for (const auto& [err, rtt] : errors_and_rtts) {
    if (rd_kafka_resp_err_t e = rd_kafka_mock_broker_push_request_error_rtts(
            mcluster_, broker_id, api_key, 1, err, rtt);
        e) {
      return FromErr(e, absl::StrCat("push errors on broker ", broker_id));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> MockCluster::BrokerErrorStackCount(int32_t broker_id, int16_t api_key) {
  size_t cnt = 0;
  if (rd_kafka_resp_err_t e =
          rd_kafka_mock_broker_error_stack_cnt(mcluster_, broker_id, api_key, &cnt);
      e) {
    return FromErr(e, absl::StrCat("error stack of broker ", broker_id));
  }
  return cnt;
}

bool MockCluster::WaitForBrokerErrorsConsumed(int32_t broker_id, int16_t api_key,
                                              absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<size_t> cnt = BrokerErrorStackCount(broker_id, api_key);
    if (cnt.ok() && *cnt == 0) return true;
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the mock's state
  }
}

absl::Status MockCluster::SetGroupCoordinator(const std::string& group, int32_t broker_id) {
  return FromErr(rd_kafka_mock_coordinator_set(mcluster_, "group", group.c_str(), broker_id),
                 absl::StrCat("set coordinator of ", group));
}

absl::Status MockCluster::SetBrokerDown(int32_t broker_id) {
  return FromErr(rd_kafka_mock_broker_set_down(mcluster_, broker_id),
                 absl::StrCat("set broker ", broker_id, " down"));
}

absl::Status MockCluster::SetBrokerUp(int32_t broker_id) {
  return FromErr(rd_kafka_mock_broker_set_up(mcluster_, broker_id),
                 absl::StrCat("set broker ", broker_id, " up"));
}

absl::Status MockCluster::SetBrokerRtt(int32_t broker_id, int rtt_ms) {
  return FromErr(rd_kafka_mock_broker_set_rtt(mcluster_, broker_id, rtt_ms),
                 absl::StrCat("set rtt of broker ", broker_id));
}

absl::Status MockCluster::SetPartitionLeader(const std::string& topic, int32_t partition,
                                             int32_t broker_id) {
  return FromErr(
      rd_kafka_mock_partition_set_leader(mcluster_, topic.c_str(), partition, broker_id),
      absl::StrCat("set leader of ", topic, "/", partition));
}

}  // namespace kafka_sidecar::testing
