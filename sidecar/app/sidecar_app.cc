#include "sidecar/app/sidecar_app.h"

#include <chrono>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sidecar/config/config_loader.h"
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
  o.throttle.threshold = static_cast<uint32_t>(p.error_threshold);
  o.throttle.window = Millis(p.error_window_ms);
  o.throttle.pause = Millis(p.pause_duration_ms);
  return o;
}

}  // namespace

SidecarApp::SidecarApp(const Config& config) : config_(config), stats_(clock_) {}

absl::StatusOr<std::unique_ptr<SidecarApp>> SidecarApp::Create(const Config& config) {
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  std::unique_ptr<SidecarApp> app(new SidecarApp(config));
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
  app->coordinator_ = std::make_unique<Coordinator>(std::move(raw), &app->stats_);
  app->stats_collector_ = std::make_unique<StatsCollector>(
      app->config_.kafka.group_id, &app->stats_, app->coordinator_.get(), nullptr, app->clock_);
  app->service_ = std::make_unique<SidecarService>(app->config_, app->coordinator_.get(),
                                                   app->stats_collector_.get(), app->clock_);
  return app;
}

SidecarApp::~SidecarApp() {
  if (started_ && !shut_down_) Shutdown().IgnoreError();
  // Dead-letter results are posted to dispatchers, so the producer goes
  // first; dispatchers hold librdkafka messages, so they go before the
  // consumer.
  dead_letters_.reset();
  dispatchers_.clear();
  consumer_.reset();
}

absl::Status SidecarApp::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  const std::string& listen = config_.server.grpc_listen;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(-1);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("server.grpc_listen: cannot listen on ", listen));
  }
  if (absl::StartsWith(listen, "unix:")) {
    grpc_address_ = listen;
  } else {
    grpc_address_ = absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port);
  }
  for (auto& d : dispatchers_) d->Start();
  started_ = true;
  if (absl::Status s = consumer_->Start(coordinator_.get()); !s.ok()) return s;
  spdlog::info("kafka-sidecar {} serving gRPC on {}, {} dispatchers", KAFKA_SIDECAR_VERSION,
               grpc_address_, dispatchers_.size());
  return absl::OkStatus();
}

absl::Status SidecarApp::Shutdown() {
  if (shut_down_) return absl::OkStatus();
  shut_down_ = true;
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
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
  for (auto& d : dispatchers_) d->Stop();
  spdlog::info("shutdown: done");
  return closed;
}

}  // namespace kafka_sidecar
