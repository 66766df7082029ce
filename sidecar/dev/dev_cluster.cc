#include "sidecar/dev/dev_cluster.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {
namespace {

constexpr const char* kCustomers[] = {"acme", "globex", "initech", "umbrella", "hooli"};

}  // namespace

std::string DevCluster::SampleValue(uint64_t n, int invalid_every) {
  if (invalid_every > 0 && n % static_cast<uint64_t>(invalid_every) == 0) {
    return absl::StrCat("not json: order ", n, " {");
  }
  return absl::StrFormat(R"({"order_id":%d,"customer":"%s","amount_cents":%d,"items":%d})", n,
                         kCustomers[n % 5], 100 + (n * 37) % 9900, 1 + n % 4);
}

absl::StatusOr<std::unique_ptr<DevCluster>> DevCluster::Start(const DevClusterOptions& options) {
  std::unique_ptr<DevCluster> self(new DevCluster(options));
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
  self->owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (self->owner_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("dev: cannot create the mock cluster's owner: ", err));
  }
  self->cluster_ = rd_kafka_mock_cluster_new(self->owner_, 1);
  if (self->cluster_ == nullptr) return absl::InternalError("dev: cannot create a mock cluster");
  self->bootstrap_ = rd_kafka_mock_cluster_bootstraps(self->cluster_);
  for (const std::string& topic : {options.topic, options.dead_letter_topic}) {
    if (topic.empty()) continue;
    if (rd_kafka_resp_err_t e =
            rd_kafka_mock_topic_create(self->cluster_, topic.c_str(), options.partitions, 1)) {
      return absl::InternalError(
          absl::StrCat("dev: cannot create topic ", topic, ": ", rd_kafka_err2str(e)));
    }
  }
  rd_kafka_conf_t* pconf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(pconf, "bootstrap.servers", self->bootstrap_.c_str(), err, sizeof(err)) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(pconf, "linger.ms", "5", err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(pconf);
    return absl::InternalError(absl::StrCat("dev: producer config: ", err));
  }
  self->producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof(err));
  if (self->producer_ == nullptr) {
    rd_kafka_conf_destroy(pconf);
    return absl::InternalError(absl::StrCat("dev: cannot create the sample producer: ", err));
  }
  self->generator_ = std::thread([raw = self.get()] { raw->Generate(); });
  spdlog::warn(
      "dev mode: in-process mock Kafka cluster at {}, topic {} ({} partitions, dead letters to "
      "{}), {} sample messages/s, every {}th not valid JSON. Not for production.",
      self->bootstrap_, options.topic, options.partitions,
      options.dead_letter_topic.empty() ? "nowhere" : options.dead_letter_topic,
      options.messages_per_second, options.invalid_every);
  return self;
}

void DevCluster::Generate() {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::microseconds(
      1'000'000 / std::max(1, options_.messages_per_second));
  auto next = Clock::now();
  for (uint64_t n = 1; !stop_.load(); ++n) {
    const std::string value = SampleValue(n, options_.invalid_every);
    const std::string key = absl::StrCat("order-", n);
    rd_kafka_resp_err_t e = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(options_.topic.c_str()),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) produced_.fetch_add(1);
    rd_kafka_poll(producer_, 0);
    next += interval;
    // Short sleeps so a stop is noticed quickly.
    while (!stop_.load() && Clock::now() < next) {
      std::this_thread::sleep_for(std::min<Clock::duration>(next - Clock::now(),
                                                            std::chrono::milliseconds(50)));
    }
  }
}

DevCluster::~DevCluster() {
  stop_.store(true);
  if (generator_.joinable()) generator_.join();
  if (producer_ != nullptr) {
    rd_kafka_flush(producer_, 2000);
    rd_kafka_destroy(producer_);
  }
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (owner_ != nullptr) rd_kafka_destroy(owner_);
}

}  // namespace kafka_sidecar
