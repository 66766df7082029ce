#include "sidecar/kafka/kafka_consumer_impl.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string_view>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"
#include "sidecar/kafka/rdkafka_conf.h"
#include "sidecar/coordinator/coordinator.h"

namespace kafka_sidecar {
namespace {

using TpList = std::unique_ptr<rd_kafka_topic_partition_list_t,
                               decltype(&rd_kafka_topic_partition_list_destroy)>;

TpList NewList(int size) {
  return TpList(rd_kafka_topic_partition_list_new(size), &rd_kafka_topic_partition_list_destroy);
}

TpList ListOf(const TopicPartition& tp) {
  TpList list = NewList(1);
  rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  return list;
}

std::vector<TopicPartition> ToVector(const rd_kafka_topic_partition_list_t* parts) {
  std::vector<TopicPartition> out;
  out.reserve(parts->cnt);
  for (int i = 0; i < parts->cnt; ++i) {
    out.push_back(TopicPartition{parts->elems[i].topic, parts->elems[i].partition});
  }
  return out;
}

std::string Describe(const std::vector<TopicPartition>& tps) {
  return absl::StrJoin(tps, ",", [](std::string* out, const TopicPartition& tp) {
    absl::StrAppend(out, tp.ToString());
  });
}

// How long an async commit may go unanswered before the next one is sent
// regardless.
constexpr std::chrono::seconds kCommitStuckAfter{10};

// Errors a commit can outlive: the coordinator is moving, loading or
// unreachable for a moment.
bool IsTransientCommitError(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
      return true;
    default:
      return false;
  }
}

// Errors a commit gets when the group's generation (or the member's epoch)
// changed while it was on its way: a rebalance is in progress.
bool IsRebalanceCommitError(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_STALE_MEMBER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
      return true;
    default:
      return false;
  }
}

}  // namespace

class KafkaConsumerImpl::Queue final : public DispatchQueue {
 public:
  explicit Queue(rd_kafka_queue_t* q) : q_(q) {}
  ~Queue() override { rd_kafka_queue_destroy(q_); }

  rd_kafka_queue_t* raw() const { return q_; }

  bool Consume(std::chrono::milliseconds timeout, size_t max,
               std::vector<FetchedRecord>* out) override {
    if (max == 0) return false;
    if (buf_.size() < max) buf_.resize(max);
    // rd_kafka_consume_batch_queue returns only once `max` messages are there
    // or the whole timeout has passed, so under light traffic every message
    // would wait out the timeout (~50 ms p50 at 10,000 msg/s). Take what is
    // queued without waiting; only when nothing is, wait for one message
    // (rd_kafka_consume_queue returns as soon as one arrives, or on Wake()),
    // then take what came with it.
    ssize_t n = rd_kafka_consume_batch_queue(q_, 0, buf_.data(), max);
    const bool idle = n <= 0;
    // The non-waiting call above may have used up a Wake()'s yield, which
    // would leave the wait below blind to it: Wake() also sets woken_ first.
    if (idle && timeout.count() > 0 && !woken_.exchange(false)) {
      n = 0;
      if (rd_kafka_message_t* first =
              rd_kafka_consume_queue(q_, static_cast<int>(timeout.count()))) {
        buf_[0] = first;
        n = 1;
        if (max > 1) {
          const ssize_t more = rd_kafka_consume_batch_queue(q_, 0, buf_.data() + 1, max - 1);
          if (more > 0) n += more;
        }
      }
    }
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = buf_[i];
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          spdlog::warn("kafka: consume error: {}", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        continue;
      }
      const char* topic = rd_kafka_topic_name(m->rkt);
      const int32_t partition = m->partition;
      out->push_back(FetchedRecord{topic, partition, RecordFromMessage(m)});
    }
    return idle;
  }

  void Wake() override {
    woken_.store(true);
    rd_kafka_queue_yield(q_);
  }

 private:
  rd_kafka_queue_t* const q_;
  std::atomic<bool> woken_{false};
  std::vector<rd_kafka_message_t*> buf_;
};

KafkaConsumerImpl::KafkaConsumerImpl(const Config& config, SidecarStats* stats)
    : config_(config), stats_(stats) {}

absl::Status KafkaConsumerImpl::BuildConf(const Config& config, rd_kafka_conf_t* conf) {
  const KafkaConfig& k = config.kafka;
  ConfSetter setter(conf);
  auto set = [&setter](const std::string& key, const std::string& value,
                       const std::string& config_key) { setter.Set(key, value, config_key); };
  const bool consumer_protocol = k.group_protocol == "consumer";
  set("client.id", "kafka-sidecar", "kafka.properties.client.id");
  // Under the consumer protocol the broker assigns (ValidateConfig refused a
  // client-side strategy).
  if (!consumer_protocol) {
    set("partition.assignment.strategy", "cooperative-sticky",
        "kafka.properties.partition.assignment.strategy");
  }
  // Bounds prefetch per partition; dispatchers bound what waits beyond it.
  set("queued.max.messages.kbytes", "16384", "kafka.properties.queued.max.messages.kbytes");
  set("enable.partition.eof", "false", "kafka.properties.enable.partition.eof");
  // Watermarks, committed offsets, broker and group state for stats and
  // health come from librdkafka's statistics.
  set("statistics.interval.ms", std::to_string(config.observability.health_check_interval_ms),
      "observability.health_check_interval_ms");
  // Properties the sidecar sets itself were refused by ValidateConfig.
  for (const auto& [key, value] : k.properties) set(key, value, absl::StrCat("kafka.properties.", key));
  set("bootstrap.servers", k.bootstrap_servers, "kafka.bootstrap_servers");
  set("group.id", k.group_id, "kafka.group_id");
  set("auto.offset.reset", k.auto_offset_reset, "kafka.auto_offset_reset");
  set("group.protocol", k.group_protocol, "kafka.group_protocol");
  if (!consumer_protocol) {
    // The consumer protocol's session and heartbeat are the broker's.
    set("session.timeout.ms", std::to_string(k.session_timeout_ms), "kafka.session_timeout_ms");
    set("heartbeat.interval.ms", std::to_string(k.heartbeat_interval_ms),
        "kafka.heartbeat_interval_ms");
  }
  set("fetch.min.bytes", std::to_string(k.fetch_min_bytes), "kafka.fetch_min_bytes");
  set("fetch.wait.max.ms", std::to_string(k.fetch_max_wait_ms), "kafka.fetch_max_wait_ms");
  // The sidecar stores each partition's watermark itself and commits on its
  // own schedule, in both delivery modes.
  set("enable.auto.commit", "false", "kafka.enable_auto_commit");
  set("enable.auto.offset.store", "false", "kafka.enable_auto_commit");
  return setter.status();
}

absl::StatusOr<std::unique_ptr<KafkaConsumerImpl>> KafkaConsumerImpl::Create(
    const Config& config, int num_queues, SidecarStats* stats) {
  std::unique_ptr<KafkaConsumerImpl> self(new KafkaConsumerImpl(config, stats));
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  if (absl::Status s = BuildConf(config, conf); !s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  rd_kafka_conf_set_opaque(conf, self.get());
  rd_kafka_conf_set_log_cb(conf, &LogToSpdlog);
  rd_kafka_conf_set_error_cb(conf, &KafkaConsumerImpl::ErrorCallback);
  rd_kafka_conf_set_rebalance_cb(conf, &KafkaConsumerImpl::RebalanceCallback);
  rd_kafka_conf_set_offset_commit_cb(conf, &KafkaConsumerImpl::CommitCallback);
  rd_kafka_conf_set_stats_cb(conf, &KafkaConsumerImpl::StatsCallback);

  self->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (self->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("kafka: cannot create consumer: ", err));
  }
  rd_kafka_poll_set_consumer(self->rk_);
  self->consumer_protocol_ = config.kafka.group_protocol == "consumer";
  self->cooperative_ = std::string(rd_kafka_rebalance_protocol(self->rk_)) != "EAGER";
  for (int i = 0; i < num_queues; ++i) {
    self->queues_.push_back(std::make_unique<Queue>(rd_kafka_queue_new(self->rk_)));
  }
  return self;
}

KafkaConsumerImpl::~KafkaConsumerImpl() {
  stop_.store(true);
  if (control_.joinable()) control_.join();
  for (auto& [tp, q] : forwarded_) {
    rd_kafka_queue_forward(q, nullptr);
    rd_kafka_queue_destroy(q);
  }
  forwarded_.clear();
  queues_.clear();
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

std::vector<DispatchQueue*> KafkaConsumerImpl::queues() {
  std::vector<DispatchQueue*> out;
  for (auto& q : queues_) out.push_back(q.get());
  return out;
}

absl::Status KafkaConsumerImpl::Start(Coordinator* coordinator) {
  coordinator_ = coordinator;
  TpList topics = NewList(static_cast<int>(config_.kafka.topics.size()));
  for (const std::string& t : config_.kafka.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, topics.get()); err) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka.topics: subscribe failed: ", rd_kafka_err2str(err)));
  }
  spdlog::info("kafka: subscribed to {} as group {} ({} group protocol, {} rebalancing, "
               "librdkafka {})",
               absl::StrJoin(config_.kafka.topics, ","), config_.kafka.group_id,
               config_.kafka.group_protocol, cooperative_ ? "incremental" : "eager",
               rd_kafka_version_str());
  control_ = std::thread([this] { ControlLoop(); });
  return absl::OkStatus();
}

void KafkaConsumerImpl::ControlLoop() {
  using std::chrono::steady_clock;
  const auto interval = std::chrono::milliseconds(config_.processing.commit_interval_ms);
  auto next_commit = steady_clock::now() + interval;
  while (!stop_.load()) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        next_commit - steady_clock::now());
    const int timeout = static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 100));
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, timeout)) {
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::warn("kafka: {}", rd_kafka_message_errstr(m));
      } else {
        // Every assigned partition is forwarded before its fetch starts.
        spdlog::error("kafka: record of {}/{} offset {} reached the control queue", 
                      rd_kafka_topic_name(m->rkt), m->partition, m->offset);
      }
      rd_kafka_message_destroy(m);
    }
    const bool now_due = commit_now_.exchange(false);
    if (now_due || steady_clock::now() >= next_commit) {
      if (!commit_gate_.open(steady_clock::now())) {
        // Mid-rebalance: the assignment that completes it commits at once.
        next_commit = steady_clock::now() + interval;
        continue;
      }
      // A commit still waiting for the coordinator carries the newest stored
      // offsets anyway once it goes out; a stuck one is replaced after a while.
      if (!commit_outstanding_.load() || steady_clock::now() - commit_sent_ > kCommitStuckAfter) {
        commit_outstanding_.store(true);
        commit_sent_ = steady_clock::now();
        // Refused at once (nothing stored yet, no coordinator): no callback
        // will come for it.
        if (!CommitStored(/*sync=*/false)) commit_outstanding_.store(false);
      }
      next_commit = steady_clock::now() + interval;
    }
  }
}

bool KafkaConsumerImpl::CommitStored(bool sync) {
  const rd_kafka_resp_err_t err = rd_kafka_commit(rk_, nullptr, sync ? 0 : 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    spdlog::warn("kafka: commit failed: {}", rd_kafka_err2str(err));
  }
  return err == RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_resp_err_t KafkaConsumerImpl::CommitWithRetry(
    rd_kafka_topic_partition_list_t* offsets, std::chrono::steady_clock::time_point deadline) {
  auto backoff = std::chrono::milliseconds(100);
  for (int attempt = 1;; ++attempt) {
    const rd_kafka_resp_err_t err = rd_kafka_commit(rk_, offsets, /*async=*/0);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || !IsTransientCommitError(err)) return err;
    if (std::chrono::steady_clock::now() + backoff >= deadline) return err;
    spdlog::warn("kafka: commit attempt {} failed ({}), retrying in {} ms", attempt,
                 rd_kafka_err2str(err), backoff.count());
    // librdkafka has already retried the request itself; this waits out a
    // coordinator that is moving or loading. The rebalance is on hold
    // meanwhile, which is what a revoke commit is for.
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
}

int KafkaConsumerImpl::StatsCallback(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
  auto* self = static_cast<KafkaConsumerImpl*>(opaque);
  absl::StatusOr<RdKafkaStatistics> parsed =
      ParseRdKafkaStatistics(std::string_view(json, json_len));
  if (!parsed.ok()) {
    spdlog::warn("kafka: {}", std::string(parsed.status().message()));
    return 0;
  }
  MutexLock l(&self->view_mu_);
  if (parsed->brokers_up > 0) self->last_broker_up_ = std::chrono::steady_clock::now();
  self->statistics_ = std::move(*parsed);
  self->have_statistics_ = true;
  return 0;  // librdkafka frees the JSON
}

std::optional<PartitionOffsets> KafkaConsumerImpl::Offsets(const TopicPartition& tp) const {
  MutexLock l(&view_mu_);
  auto it = statistics_.partitions.find(tp);
  if (it == statistics_.partitions.end()) return std::nullopt;
  return it->second;
}

BrokerConnectivity KafkaConsumerImpl::Connectivity() const {
  // Under the consumer protocol a member the broker gives no partitions has
  // nothing to reconcile and stays in join state "init" for good: its
  // membership is its member epoch (read outside view_mu_, which the
  // statistics callback takes on librdkafka's side).
  const bool has_epoch = consumer_protocol_ && Generation() > 0;
  MutexLock l(&view_mu_);
  BrokerConnectivity c;
  c.any_broker_up = have_statistics_ && statistics_.brokers_up > 0;
  c.last_up = last_broker_up_;
  c.group_joined = have_statistics_ && statistics_.group_state == "up" &&
                   (statistics_.join_state == "steady" || has_epoch);
  c.last_error = last_auth_error();
  if (c.last_error.empty()) c.last_error = last_connection_error_;
  return c;
}

void KafkaConsumerImpl::ErrorCallback(rd_kafka_t*, int err, const char* reason, void* opaque) {
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
      code == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED) {
    // Wrong credentials fail every attempt; say so once, clearly.
    auto* self = static_cast<KafkaConsumerImpl*>(opaque);
    if (std::optional<std::string> line = self->auth_failures_.OnFailure(reason)) {
      spdlog::error("{}", *line);
    }
    return;
  }
  spdlog::warn("kafka: {}: {}", rd_kafka_err2name(code), reason);
  if (code != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    auto* self = static_cast<KafkaConsumerImpl*>(opaque);
    MutexLock l(&self->view_mu_);
    self->last_connection_error_ = reason;
  }
}

void KafkaConsumerImpl::CommitCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                                       rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  static_cast<KafkaConsumerImpl*>(opaque)->commit_outstanding_.store(false);
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  if (IsRebalanceCommitError(err)) {
    // The group moved on under this commit. Nothing is lost: the offsets stay
    // stored and the next commit (at the latest, the one that follows the
    // rebalance's assignment) carries them. The sidecar never takes this for
    // a lost assignment; only librdkafka's revoke callback says that.
    spdlog::info("kafka: offset commit deferred by a rebalance ({}); the next commit carries it",
                 rd_kafka_err2str(err));
    return;
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("kafka: offset commit failed: {}", rd_kafka_err2str(err));
    return;
  }
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    const auto& e = offsets->elems[i];
    if (e.err) {
      spdlog::warn("kafka: offset commit of {}/{} at {} failed: {}", e.topic, e.partition, e.offset,
                   rd_kafka_err2str(e.err));
    }
  }
}

void KafkaConsumerImpl::RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                          rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* self = static_cast<KafkaConsumerImpl*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->OnAssign(parts);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    RevokeKind kind = RevokeKind::kGraceful;
    if (self->closing_.load()) kind = RevokeKind::kClosing;
    if (rd_kafka_assignment_lost(rk)) kind = RevokeKind::kLost;
    self->Revoke(parts, kind);
    return;
  }
  // librdkafka asks for the whole assignment to be dropped: the same path
  // as a lost assignment, for every partition this member holds.
  spdlog::error("kafka: rebalance error: {}; dropping the whole assignment", rd_kafka_err2str(err));
  rd_kafka_topic_partition_list_t* assignment = nullptr;
  if (rd_kafka_assignment(rk, &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR || assignment == nullptr) {
    assignment = rd_kafka_topic_partition_list_new(0);
  }
  TpList owned(assignment, &rd_kafka_topic_partition_list_destroy);
  self->Revoke(owned.get(), RevokeKind::kError);
}

int32_t KafkaConsumerImpl::Generation() const {
  rd_kafka_consumer_group_metadata_t* md = rd_kafka_consumer_group_metadata(rk_);
  if (md == nullptr) return -1;
  const int32_t generation = rd_kafka_consumer_group_metadata_generation_id(md);
  rd_kafka_consumer_group_metadata_destroy(md);
  return generation;
}

void KafkaConsumerImpl::OnAssign(rd_kafka_topic_partition_list_t* parts) {
  const std::vector<TopicPartition> tps = ToVector(parts);
  const std::vector<int> owners = coordinator_->AddPartitions(tps);
  for (size_t i = 0; i < tps.size(); ++i) {
    if (forwarded_.count(tps[i])) continue;
    rd_kafka_queue_t* pq = rd_kafka_queue_get_partition(rk_, tps[i].topic.c_str(), tps[i].partition);
    rd_kafka_queue_forward(pq, queues_[owners[i]]->raw());
    forwarded_[tps[i]] = pq;
  }
  // librdkafka keeps a partition's pause across unassign and assign; a
  // partition revoked while its fetch was paused would never fetch again.
  // Its new dispatcher state starts unpaused, so Kafka must too.
  rd_kafka_resume_partitions(rk_, parts);
  if (cooperative_) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk_, parts)) {
      spdlog::error("kafka: assign failed: {}", rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
    }
  } else if (rd_kafka_resp_err_t e = rd_kafka_assign(rk_, parts)) {
    spdlog::error("kafka: assign failed: {}", rd_kafka_err2str(e));
  }
  const int32_t generation = Generation();
  if (commit_gate_.Assigned(generation)) {
    commit_now_.store(true);
    spdlog::info("kafka: rebalance complete (generation {}); committing", generation);
  }
  if (!tps.empty()) stats_->RecordRebalance();
  if (std::optional<std::string> line = auth_failures_.OnSuccess()) spdlog::info("{}", *line);
  spdlog::info("kafka: assigned {} partitions: {}", tps.size(), Describe(tps));
}

void KafkaConsumerImpl::Revoke(rd_kafka_topic_partition_list_t* parts, RevokeKind kind) {
  const std::vector<TopicPartition> tps = ToVector(parts);
  // Only a graceful revoke waits for settlements: a lost assignment (session
  // expired, member fenced) or a failed rebalance can no longer commit, and
  // on shutdown the drain has already waited.
  const absl::Duration wait = kind == RevokeKind::kGraceful
                                  ? absl::Milliseconds(config_.processing.revoke_timeout_ms)
                                  : absl::ZeroDuration();
  if (kind == RevokeKind::kGraceful && cooperative_ && !consumer_protocol_) {
    commit_gate_.Revoked(Generation(), std::chrono::steady_clock::now());
  } else if (kind == RevokeKind::kLost || kind == RevokeKind::kError) {
    commit_gate_.Clear();
  }
  const auto offsets = coordinator_->RevokePartitions(tps, wait);
  const bool can_commit = kind == RevokeKind::kGraceful || kind == RevokeKind::kClosing;
  if (!offsets.empty() && can_commit) {
    TpList list = NewList(static_cast<int>(offsets.size()));
    for (const auto& [tp, offset] : offsets) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
    }
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(config_.processing.revoke_timeout_ms);
    if (rd_kafka_resp_err_t err = CommitWithRetry(list.get(), deadline); err) {
      spdlog::error("kafka: commit on revoke failed: {}; the partitions' next owner will "
                    "redeliver from the last committed offsets", rd_kafka_err2str(err));
      if (kind == RevokeKind::kClosing) final_commit_error_ = err;
    }
  }
  for (const TopicPartition& tp : tps) {
    auto it = forwarded_.find(tp);
    if (it == forwarded_.end()) continue;
    rd_kafka_queue_forward(it->second, nullptr);
    rd_kafka_queue_destroy(it->second);
    forwarded_.erase(it);
  }
  if (cooperative_) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk_, parts)) {
      spdlog::error("kafka: unassign failed: {}", rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
    }
  } else {
    rd_kafka_assign(rk_, nullptr);
  }
  stats_->RecordRebalance();
  const char* how = kind == RevokeKind::kLost ? " (lost)" : kind == RevokeKind::kError ? " (rebalance error)" : "";
  spdlog::info("kafka: revoked {} partitions{}: {}", tps.size(), how, Describe(tps));
}

void KafkaConsumerImpl::PauseAll() {
  rd_kafka_topic_partition_list_t* assignment = nullptr;
  if (rd_kafka_assignment(rk_, &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  TpList owned(assignment, &rd_kafka_topic_partition_list_destroy);
  rd_kafka_pause_partitions(rk_, owned.get());
}

bool KafkaConsumerImpl::HasMemberId() const {
  char* member_id = rd_kafka_memberid(rk_);
  const bool has = member_id != nullptr && *member_id != '\0';
  if (member_id != nullptr) rd_kafka_mem_free(rk_, member_id);
  return has;
}

void KafkaConsumerImpl::LeaveIfUnassigned() {
  // librdkafka's close sends no LeaveGroup for a classic cooperative member
  // that owns no partitions: its revoke-all returns early ("terminating,
  // skipping rejoin") and nothing else leaves. A member stopped while it
  // still waits for the second round of a rebalance (the common case of a
  // pod stopped right after it started) then holds that rebalance, and the
  // partitions it was to receive, until the broker expires it after
  // session_timeout_ms. unsubscribe() does leave (its rejoin finds no
  // subscription and sends the LeaveGroup), so an unassigned member
  // unsubscribes first. A member that never got a member id has nothing to
  // leave.
  if (consumer_protocol_ || !cooperative_) return;
  rd_kafka_topic_partition_list_t* assignment = nullptr;
  if (rd_kafka_assignment(rk_, &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  const int owned = assignment->cnt;
  rd_kafka_topic_partition_list_destroy(assignment);
  if (owned != 0 || !HasMemberId()) return;
  if (const rd_kafka_resp_err_t err = rd_kafka_unsubscribe(rk_); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("kafka: leaving group {} without partitions: {}", config_.kafka.group_id,
                 rd_kafka_err2str(err));
    return;
  }
  // Inside a rebalance (JoinGroup or SyncGroup under way) librdkafka
  // postpones the unsubscribe until that round completes, and the round may
  // hand this member partitions first. So the callbacks are served here (an
  // assignment is taken and, closing, revoked at once) until the LeaveGroup
  // has gone out, which clears the member id, or the bound passes.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(config_.kafka.session_timeout_ms);
  while (HasMemberId() && std::chrono::steady_clock::now() < deadline) {
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 50)) {
      // Nothing is consumed any more: a record here is fetched again by
      // whoever owns its partition next.
      rd_kafka_message_destroy(m);
    }
  }
}

absl::Status KafkaConsumerImpl::Close() {
  closing_.store(true);
  stop_.store(true);
  if (control_.joinable()) control_.join();
  LeaveIfUnassigned();
  // Revokes everything through the rebalance callback (which commits the
  // final watermarks) and leaves the group.
  const rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("kafka: close: ", rd_kafka_err2str(err)));
  }
  if (final_commit_error_ != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("kafka: final commit failed: ", rd_kafka_err2str(final_commit_error_)));
  }
  spdlog::info("kafka: left group {}", config_.kafka.group_id);
  return absl::OkStatus();
}

absl::Status KafkaConsumerImpl::StoreOffset(const TopicPartition& tp, int64_t next_offset) {
  TpList list = ListOf(tp);
  list->elems[0].offset = next_offset;
  rd_kafka_resp_err_t err = rd_kafka_offsets_store(rk_, list.get());
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::FailedPreconditionError(rd_kafka_err2str(err));
  }
  return absl::OkStatus();
}

absl::Status KafkaConsumerImpl::Pause(const TopicPartition& tp) {
  TpList list = ListOf(tp);
  if (rd_kafka_resp_err_t err = rd_kafka_pause_partitions(rk_, list.get()); err) {
    return absl::InternalError(rd_kafka_err2str(err));
  }
  return absl::OkStatus();
}

absl::Status KafkaConsumerImpl::Resume(const TopicPartition& tp, std::optional<int64_t> from) {
  TpList list = ListOf(tp);
  if (from) {
    // Seeking purges what was prefetched beyond `from` and fetches again
    // from there, so nothing between the pause and the resume is skipped.
    // Called on the partition's dispatcher thread, like offsets_store, so
    // the two never race.
    list->elems[0].offset = *from;
    if (rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_, list.get(), /*timeout_ms=*/0)) {
      std::string message = rd_kafka_error_string(e);
      rd_kafka_error_destroy(e);
      return absl::InternalError(absl::StrCat("seek to ", *from, ": ", message));
    }
    // With no timeout the seek is asynchronous and reports "in progress".
    if (list->elems[0].err && list->elems[0].err != RD_KAFKA_RESP_ERR__IN_PROGRESS) {
      return absl::InternalError(
          absl::StrCat("seek to ", *from, ": ", rd_kafka_err2str(list->elems[0].err)));
    }
  }
  if (rd_kafka_resp_err_t err = rd_kafka_resume_partitions(rk_, list.get()); err) {
    return absl::InternalError(rd_kafka_err2str(err));
  }
  return absl::OkStatus();
}

}  // namespace kafka_sidecar
