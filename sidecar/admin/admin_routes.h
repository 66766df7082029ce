// What the admin endpoint answers, apart from any HTTP library: the route
// table (/metrics, /healthz, /readyz, /stats), 404 for other paths and 405
// for methods other than GET and HEAD. Only reads snapshots, never blocks.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "sidecar/health/health_status.h"
#include "sidecar/metrics/sidecar_metrics.h"
#include "sidecar/stats/metrics_source.h"
#include "sidecar/stats/stats_source.h"

namespace kafka_sidecar {

struct AdminResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  // The Allow header of a 405; empty otherwise.
  std::string allow;
};

class AdminRoutes {
 public:
  // The sources must outlive this object.
  AdminRoutes(const StatsSource& stats, const HealthSource& health, const MetricsSource& metrics)
      : stats_(stats), health_(health), metrics_source_(metrics) {}

  // `path` without the query string. HEAD gets GET's answer; leaving the
  // body out is the server's job.
  AdminResponse Handle(absl::string_view method, absl::string_view path) const;

 private:
  AdminResponse Metrics() const;
  AdminResponse Healthz() const;
  AdminResponse Readyz() const;
  AdminResponse Stats() const;

  const StatsSource& stats_;
  const HealthSource& health_;
  const MetricsSource& metrics_source_;
  const SidecarMetrics metrics_;
};

}  // namespace kafka_sidecar
