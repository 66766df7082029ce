#include "sidecar/admin/admin_routes.h"

#include <cstdio>
#include <utility>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "sidecar/metrics/prometheus_text.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {
namespace {

constexpr char kJson[] = "application/json";
constexpr char kText[] = "text/plain";

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

AdminResponse Answer(int status, const char* content_type, std::string body) {
  AdminResponse r;
  r.status = status;
  r.content_type = content_type;
  r.body = std::move(body);
  return r;
}

}  // namespace

AdminResponse AdminRoutes::Handle(absl::string_view method, absl::string_view path) const {
  using Handler = AdminResponse (AdminRoutes::*)() const;
  static const std::pair<const char*, Handler> kRoutes[] = {
      {"/metrics", &AdminRoutes::Metrics},
      {"/healthz", &AdminRoutes::Healthz},
      {"/readyz", &AdminRoutes::Readyz},
      {"/stats", &AdminRoutes::Stats},
  };
  for (const auto& [route, handler] : kRoutes) {
    if (path != route) continue;
    if (method != "GET" && method != "HEAD") {
      AdminResponse r =
          Answer(405, kText, absl::StrCat("method ", method, " not allowed on ", route, "\n"));
      r.allow = "GET, HEAD";
      return r;
    }
    return (this->*handler)();
  }
  return Answer(404, kText, "not found: try /metrics, /healthz, /readyz or /stats\n");
}

AdminResponse AdminRoutes::Metrics() const {
  const HealthStatus health = health_.Current();
  const MetricsSnapshot counters = metrics_source_.Snapshot();
  const v1::GetStatsResponse stats = stats_.Collect();
  return Answer(200, kPrometheusContentType, metrics_.Render(stats, health, counters));
}

AdminResponse AdminRoutes::Healthz() const {
  const HealthStatus health = health_.Current();
  return Answer(health.live ? 200 : 503, kJson, HealthJson(health.live, health));
}

AdminResponse AdminRoutes::Readyz() const {
  const HealthStatus health = health_.Current();
  return Answer(health.ready ? 200 : 503, kJson, HealthJson(health.ready, health));
}

AdminResponse AdminRoutes::Stats() const {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(stats_.Collect(), &json, options);
  if (!status.ok()) {
    spdlog::warn("GET /stats: {}", status.ToString());
    return Answer(500, kText, "stats could not be rendered\n");
  }
  json.push_back('\n');
  return Answer(200, kJson, std::move(json));
}

}  // namespace kafka_sidecar
