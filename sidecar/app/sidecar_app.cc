#include "sidecar/app/sidecar_app.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sidecar/config/config_loader.h"
#include "sidecar/server/operator_access.h"
#include "sidecar/stats/stats_reporter.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {
namespace {

DispatcherOptions MakeDispatcherOptions(const Config& c, int index) {
  const ProcessingConfig& p = c.processing;
  DispatcherOptions o;
  o.index = index;
  o.batch_size = static_cast<size_t>(p.batch_size);
  o.batch_timeout = Millis(p.batch_timeout_ms);
  o.partition_workers = static_cast<size_t>(p.partition_workers);
  // Enough waiting records to fill every batch slot of the partition twice,
  // so fetching rarely pauses while a handler keeps up.
  o.max_pending_messages =
      std::max<size_t>(1000, 2 * o.batch_size * o.partition_workers);
  o.commit_on_delivery = c.kafka.enable_auto_commit;
  o.ordering = p.ordering;
  o.max_retries = static_cast<uint32_t>(p.max_retries);
  o.retry_backoff = Millis(p.retry_backoff_ms);
  o.retry_backoff_max = Millis(p.retry_backoff_max_ms);
  o.ack_timeout = Millis(p.ack_timeout_ms);
  // Never below ack_timeout_ms, which an Extend without a length asks for:
  // a config with a long ack timeout keeps working with the default cap.
  o.max_extension = Millis(std::max(p.max_extension_ms, p.ack_timeout_ms));
  o.throttle.threshold = static_cast<uint32_t>(p.error_threshold);
  o.throttle.window = Millis(p.error_window_ms);
  o.throttle.pause = Millis(p.pause_duration_ms);
  o.rejects_count_toward_threshold = p.error_threshold_counts_rejects;
  o.skip_undeliverable_dead_letters = p.dead_letter_on_permanent_failure == "skip";
  return o;
}

// Each builder is given a fresh conf, as Create gives it one.
absl::Status CheckConf(absl::Status (*build)(const Config&, rd_kafka_conf_t*),
                       const Config& config) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  absl::Status s = build(config, conf);
  rd_kafka_conf_destroy(conf);
  return s;
}

}  // namespace

absl::Status CheckKafkaClientConfigs(const Config& config) {
  if (absl::Status s = CheckConf(&KafkaConsumerImpl::BuildConf, config); !s.ok()) return s;
  if (config.processing.dead_letter_topic.empty()) return absl::OkStatus();
  return CheckConf(&DeadLetterProducerImpl::BuildConf, config);
}

SidecarApp::SidecarApp(const Config& config) : config_(config), stats_(clock_) {
  // A regex subscription ("^...") names no topic to start a counter for.
  std::vector<std::string> topics;
  for (const std::string& t : config_.kafka.topics) {
    if (!absl::StartsWith(t, "^")) topics.push_back(t);
  }
  stats_.InitTopics(topics);
}

absl::StatusOr<std::unique_ptr<SidecarApp>> SidecarApp::Create(const Config& config,
                                                               std::function<void()> on_fatal) {
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  std::unique_ptr<SidecarApp> app(new SidecarApp(config));
  app->on_fatal_ = std::move(on_fatal);
  const int workers = config.processing.max_workers;
  auto consumer = KafkaConsumerImpl::Create(app->config_, workers, &app->stats_);
  if (!consumer.ok()) return consumer.status();
  app->consumer_ = std::move(*consumer);
  if (!config.processing.dead_letter_topic.empty()) {
    auto dead_letters = DeadLetterProducerImpl::Create(app->config_);
    if (!dead_letters.ok()) return dead_letters.status();
    app->dead_letters_ = std::move(*dead_letters);
  }
  std::vector<DispatchQueue*> queues = app->consumer_->queues();
  std::vector<Dispatcher*> raw;
  for (int i = 0; i < workers; ++i) {
    DispatcherOptions options = MakeDispatcherOptions(app->config_, i);
    options.dead_letters = app->dead_letters_.get();
    app->randoms_.push_back(std::make_unique<RandomImpl>());
    app->dispatchers_.push_back(std::make_unique<DispatcherImpl>(
        options, queues[i], app->consumer_.get(), &app->stats_, app->clock_,
        app->randoms_.back().get()));
    raw.push_back(app->dispatchers_.back().get());
  }
  const std::vector<Dispatcher*> raw_dispatchers = raw;
  app->coordinator_ = std::make_unique<Coordinator>(std::move(raw), &app->stats_);
  app->stats_collector_ = std::make_unique<StatsCollector>(
      StatsIdentity{app->config_.kafka.group_id, app->config_.kafka.group_protocol}, &app->stats_, app->coordinator_.get(), app->consumer_.get(),
      app->clock_);
  app->service_ = std::make_unique<SidecarService>(app->config_, app->coordinator_.get(),
                                                   app->stats_collector_.get(), app->clock_);
  HealthMonitorOptions health;
  health.stall_timeout = Millis(config.observability.stall_timeout_ms);
  health.group_id = config.kafka.group_id;
  health.startup_timeout = Millis(config.kafka.startup_timeout_ms);
  health.bootstrap_servers = config.kafka.bootstrap_servers;
  SidecarApp* self = app.get();
  // The watches are made in Start(), before the checking thread starts.
  health.readiness_checks = [self](std::vector<HealthCheck>* out) {
    for (auto& watch : self->socket_watches_) out->push_back(watch->Check());
  };
  app->health_monitor_ = std::make_unique<HealthMonitor>(
      health, app->clock_, app->consumer_.get(), app->stats_collector_.get(),
      std::vector<Dispatcher*>(raw_dispatchers),
      // grpc.health.v1 answers like /readyz: SERVING once Kafka is reachable
      // and the group joined.
      [self](const HealthStatus& status) { self->SetGrpcServing(status.ready); });
  return app;
}

SidecarApp::~SidecarApp() {
  if (started_ && !shut_down_) Shutdown().IgnoreError();
  health_checks_.Stop();
  stats_lines_.Stop();
  // Its handlers read the consumer and dispatchers, which go next.
  if (admin_ != nullptr) admin_->Stop();
  // Dead-letter results are posted to dispatchers, so the producer goes
  // first; dispatchers hold librdkafka messages, so they go before the
  // consumer.
  dead_letters_.reset();
  dispatchers_.clear();
  consumer_.reset();
}

absl::Status SidecarApp::Start() {
  absl::StatusOr<std::unique_ptr<GrpcListener>> listener =
      GrpcListener::Start(config_.server, {service_.get()});
  if (!listener.ok()) return listener.status();
  listener_ = std::move(*listener);
  grpc_address_ = listener_->address();
  if (!listener_->socket_path().empty()) {
    socket_watches_.push_back(std::make_unique<UnixSocketWatch>(
        "grpc-socket", "server.grpc_listen", listener_->socket_path(), listener_->socket_id()));
  }
  if (absl::Status s = StartOperatorListener(); !s.ok()) return s;
  if (std::string warning = OpenOperatorRpcsWarning(config_.server); !warning.empty()) {
    spdlog::warn("{}", warning);
  }
  if (!config_.server.http_listen.empty()) {
    auto admin = AdminServer::Start(config_.server.http_listen, *stats_collector_,
                                    *health_monitor_, stats_);
    if (!admin.ok()) return admin.status();
    admin_ = std::move(*admin);
    spdlog::info("admin HTTP on {}", admin_->address());
  }
  for (auto& d : dispatchers_) d->Start();
  started_ = true;
  if (absl::Status s = consumer_->Start(coordinator_.get()); !s.ok()) return s;
  // Until the first check has seen Kafka, handlers' probes wait.
  SetGrpcServing(false);
  health_checks_.Start(Millis(config_.observability.health_check_interval_ms), [this] {
    health_monitor_->Check();
    std::optional<std::string> failure = health_monitor_->StartupFailure();
    if (!failure.has_value()) return;
    {
      MutexLock l(&fatal_mu_);
      if (!fatal_.ok()) return;  // reported already
      fatal_ = absl::UnavailableError(*failure);
    }
    if (on_fatal_) on_fatal_();
  });
  if (config_.observability.stats_interval_ms > 0) {
    stats_lines_.Start(Millis(config_.observability.stats_interval_ms),
                       [this] { spdlog::info("{}", FormatStatsLine(stats_collector_->Collect())); });
  }
  spdlog::info("kafka-sidecar {} serving gRPC on {}, {} dispatchers", KAFKA_SIDECAR_VERSION,
               grpc_address_, dispatchers_.size());
  return absl::OkStatus();
}

absl::Status SidecarApp::StartOperatorListener() {
  if (config_.server.operator_listen.empty()) return absl::OkStatus();
  operator_service_ = service_->ForOperatorListener();
  absl::StatusOr<std::unique_ptr<GrpcListener>> listener =
      GrpcListener::Start("server.operator_listen", config_.server.operator_listen,
                          config_.server.tls, {operator_service_.get()});
  if (!listener.ok()) return listener.status();
  operator_listener_ = std::move(*listener);
  if (!operator_listener_->socket_path().empty()) {
    socket_watches_.push_back(std::make_unique<UnixSocketWatch>(
        "operator-socket", "server.operator_listen", operator_listener_->socket_path(),
        operator_listener_->socket_id()));
  }
  return absl::OkStatus();
}

absl::Status SidecarApp::Shutdown() {
  if (shut_down_) return absl::OkStatus();
  shut_down_ = true;
  // No dispatcher restarts while shutting down; the probes keep answering
  // what they last concluded.
  health_checks_.Stop();
  stats_lines_.Stop();
  health_monitor_->MarkDraining();
  // Probes and balancers stop sending new handlers to a draining sidecar.
  if (listener_ != nullptr) listener_->SetServing(false);
  const auto drain = std::chrono::milliseconds(config_.processing.drain_timeout_ms);
  spdlog::info("shutdown: draining, up to {} ms for {} in-flight messages", drain.count(),
               stats_.in_flight());
  consumer_->PauseAll();
  coordinator_->Drain(absl::FromChrono(drain));
  const auto deadline = std::chrono::steady_clock::now() + drain;
  while (stats_.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (stats_.in_flight() > 0) {
    spdlog::warn("shutdown: {} messages still unsettled after {} ms; they will be redelivered",
                 stats_.in_flight(), drain.count());
  }
  if (dead_letters_ != nullptr) {
    // Dead letters Kafka acknowledges now are settled before the final
    // commit (their results reach the dispatchers ahead of the revoke).
    const auto left = std::max<std::chrono::steady_clock::duration>(
        deadline - std::chrono::steady_clock::now(), std::chrono::seconds(1));
    if (absl::Status s = dead_letters_->Flush(std::chrono::duration_cast<Millis>(left)); !s.ok()) {
      spdlog::warn("shutdown: dead-letter topic: {}; those messages will be redelivered",
                   s.ToString());
    }
  }
  absl::Status closed = consumer_->Close();
  if (!closed.ok()) spdlog::error("shutdown: {}", closed.ToString());
  listener_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  if (operator_listener_ != nullptr) {
    operator_listener_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  for (auto& d : dispatchers_) d->Stop();
  // Last, so /metrics and the probes answer all through the drain.
  if (admin_ != nullptr) admin_->Stop();
  spdlog::info("shutdown: done");
  return closed;
}

}  // namespace kafka_sidecar
