// AdminServer on cpp-httplib; nothing outside this file sees httplib.
#include <httplib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include <google/protobuf/util/json_util.h>
#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sidecar/admin/admin_server.h"
#include "sidecar/metrics/prometheus_text.h"
#include "sidecar/metrics/sidecar_metrics.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {
namespace {

// Enough for a scrape and both Kubernetes probes at once, so a slow scraper
// never makes a liveness probe time out; bounded whatever the load.
constexpr int kThreads = 4;
// A client that connects and says nothing, or reads nothing, gives its
// thread back after this long.
constexpr time_t kIoTimeoutSeconds = 5;
constexpr time_t kFirstByteTimeoutSeconds = 2;
// Only GETs are served: no request needs a body.
constexpr size_t kMaxRequestBody = 64 * 1024;

constexpr char kJson[] = "application/json";

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string HealthJson(bool ok, const HealthStatus& health) {
  std::string out = absl::StrCat("{\"status\":", ok ? "\"ok\"" : "\"unhealthy\"", ",\"checks\":[");
  bool first = true;
  for (const HealthCheck& c : health.checks) {
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, "{\"name\":", JsonString(c.name), ",\"ok\":", c.ok ? "true" : "false",
                    ",\"detail\":", JsonString(c.detail), "}");
  }
  out += "]}\n";
  return out;
}

struct HostPort {
  std::string host;
  int port = 0;
};

absl::StatusOr<HostPort> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("server.http_listen: must be host:port, got \"", listen, "\""));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return HostPort{std::move(host), port};
}

// httplib's default adds SO_REUSEPORT, which would let a second sidecar bind
// the same port and silently take half the scrapes. SO_REUSEADDR alone only
// allows a restart while old connections sit in TIME_WAIT.
void ListenSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

class AdminServerImpl final : public AdminServer {
 public:
  AdminServerImpl(const StatsSource& stats, const HealthSource& health,
                  const MetricsSource& metrics)
      : stats_(stats), health_(health), metrics_source_(metrics) {}

  ~AdminServerImpl() override { Stop(); }

  absl::Status Bind(const std::string& listen) {
    absl::StatusOr<HostPort> hp = ParseListen(listen);
    if (!hp.ok()) return hp.status();
    server_.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    server_.set_socket_options(ListenSocketOptions);
    server_.set_read_timeout(kIoTimeoutSeconds, 0);
    server_.set_write_timeout(kIoTimeoutSeconds, 0);
    server_.set_keep_alive_timeout(kFirstByteTimeoutSeconds);
    // One request per connection: an idle keep-alive connection would hold
    // one of the few threads.
    server_.set_keep_alive_max_count(1);
    server_.set_payload_max_length(kMaxRequestBody);
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      Route(req, res);
      return httplib::Server::HandlerResponse::Handled;
    });

    errno = 0;
    int port = hp->port;
    bool bound;
    if (port == 0) {
      port = server_.bind_to_any_port(hp->host);
      bound = port > 0;
    } else {
      bound = server_.bind_to_port(hp->host, port);
    }
    if (!bound) {
      const int err = errno;
      return absl::UnavailableError(absl::StrCat("server.http_listen: cannot listen on ", listen,
                                                 err != 0 ? ": " : "",
                                                 err != 0 ? std::strerror(err) : ""));
    }
    port_ = port;
    address_ = hp->host.find(':') != std::string::npos
                   ? absl::StrCat("[", hp->host, "]:", port)
                   : absl::StrCat(hp->host, ":", port);
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      loop_done_.store(true);
    });
    // httplib's stop() does nothing before the accept loop has started, so
    // Stop() must not be possible until then; this is a thread start away.
    while (!server_.is_running() && !loop_done_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return absl::OkStatus();
  }

  int port() const override { return port_; }
  const std::string& address() const override { return address_; }

  void Stop() override {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }

 private:
  void Route(const httplib::Request& req, httplib::Response& res) const {
    using Handler = void (AdminServerImpl::*)(httplib::Response&) const;
    static const std::pair<const char*, Handler> kRoutes[] = {
        {"/metrics", &AdminServerImpl::Metrics},
        {"/healthz", &AdminServerImpl::Healthz},
        {"/readyz", &AdminServerImpl::Readyz},
        {"/stats", &AdminServerImpl::Stats},
    };
    for (const auto& [path, handler] : kRoutes) {
      if (req.path != path) continue;
      // HEAD is GET without the body (httplib leaves the body out).
      if (req.method != "GET" && req.method != "HEAD") {
        res.status = 405;
        res.set_header("Allow", "GET, HEAD");
        res.set_content(absl::StrCat("method ", req.method, " not allowed on ", path, "\n"),
                        "text/plain");
        return;
      }
      (this->*handler)(res);
      return;
    }
    res.status = 404;
    res.set_content("not found: try /metrics, /healthz, /readyz or /stats\n", "text/plain");
  }

  void Metrics(httplib::Response& res) const {
    const HealthStatus health = health_.Current();
    const MetricsSnapshot counters = metrics_source_.Snapshot();
    const v1::GetStatsResponse stats = stats_.Collect();
    res.status = 200;
    res.set_content(metrics_.Render(stats, health, counters), kPrometheusContentType);
  }

  void Healthz(httplib::Response& res) const {
    const HealthStatus health = health_.Current();
    res.status = health.live ? 200 : 503;
    res.set_content(HealthJson(health.live, health), kJson);
  }

  void Readyz(httplib::Response& res) const {
    const HealthStatus health = health_.Current();
    res.status = health.ready ? 200 : 503;
    res.set_content(HealthJson(health.ready, health), kJson);
  }

  void Stats(httplib::Response& res) const {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    options.always_print_primitive_fields = true;
    std::string json;
    const auto status = google::protobuf::util::MessageToJsonString(stats_.Collect(), &json,
                                                                     options);
    if (!status.ok()) {
      spdlog::warn("GET /stats: {}", status.ToString());
      res.status = 500;
      res.set_content("stats could not be rendered\n", "text/plain");
      return;
    }
    json.push_back('\n');
    res.status = 200;
    res.set_content(json, kJson);
  }

  const StatsSource& stats_;
  const HealthSource& health_;
  const MetricsSource& metrics_source_;
  const SidecarMetrics metrics_;
  httplib::Server server_;
  std::thread thread_;
  std::atomic<bool> loop_done_{false};
  int port_ = 0;
  std::string address_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(const std::string& listen,
                                                                const StatsSource& stats,
                                                                const HealthSource& health,
                                                                const MetricsSource& metrics) {
  auto server = std::make_unique<AdminServerImpl>(stats, health, metrics);
  if (absl::Status s = server->Bind(listen); !s.ok()) return s;
  return std::unique_ptr<AdminServer>(std::move(server));
}

}  // namespace kafka_sidecar
