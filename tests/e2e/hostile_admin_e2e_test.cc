// The admin endpoint of the real binary against hostile clients on
// loopback: clients that trickle header lines, an idle-connection flood, and
// headers sent without end. Liveness must be answered within a second
// throughout (a kubelet probe times out after 1 s by default), and no client
// can make the sidecar hold more than a few KiB for it. Each test sends at
// most 64 MiB and ends within 30 s.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/ports.h"
#include "tests/support/raw_http.h"

namespace kafka_sidecar::testing {
namespace {

class HostileAdminE2eTest : public E2eTest {
 protected:
  // A sidecar serving /healthz 200 on `http_port`, or nullptr after
  // recording the failure.
  SidecarProcess* Start(int http_port) {
    const std::string topic = Unique("topic");
    if (!PrepareTopic(topic, 1, 0).ok()) {
      ADD_FAILURE() << "topic " << topic << " not created";
      return nullptr;
    }
    SidecarProcess* sidecar = StartSidecar(Options(
        Unique("group"), {topic},
        {{"server.http_listen", absl::StrCat("\"127.0.0.1:", http_port, "\"")}}));
    if (sidecar == nullptr) return nullptr;
    if (!PollUntil([&] { return TimedGet(http_port, "/healthz").status == 200; },
                   absl::Seconds(30))) {
      ADD_FAILURE() << "/healthz never answered 200";
      return nullptr;
    }
    return sidecar;
  }
};

TEST_F(HostileAdminE2eTest, SlowClientsAndAnIdleFloodDoNotDelayLiveness) {
  const int http = PickFreePort();
  ASSERT_NE(Start(http), nullptr);

  // One header line a second each, never finishing the request, from the
  // probes' address.
  SlowHeaderClients slow(http, 4, absl::Seconds(1));
  ASSERT_EQ(slow.connected(), 4);
  // More connections than the endpoint takes (64), saying nothing, from
  // another address: the flood displaces its own oldest connections, so the
  // slow clients stay until their request deadline.
  std::vector<Socket> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(ConnectTo(http, "127.0.0.1", "127.0.0.2"));
    ASSERT_TRUE(idle.back().valid()) << i;
  }

  // Probe until the request deadline (10 s) has cut every slow client.
  int probes = 0;
  int failures = 0;
  absl::Duration worst;
  const absl::Time start = absl::Now();
  const bool all_cut = PollUntil(
      [&] {
        const TimedResponse r = TimedGet(http, "/healthz", absl::Seconds(5));
        ++probes;
        if (r.status != 200 || r.elapsed >= absl::Seconds(1)) ++failures;
        worst = std::max(worst, r.elapsed);
        return slow.ClosedAfter().size() == 4;
      },
      absl::Seconds(20), absl::Milliseconds(200));
  std::cout << "[ INFO     ] /healthz under 4 slow clients and 200 idle connections: " << probes
            << " probes in " << absl::FormatDuration(absl::Now() - start) << ", slowest "
            << absl::FormatDuration(worst) << ", " << failures << " not 200 within 1 s"
            << std::endl;
  EXPECT_EQ(failures, 0);
  EXPECT_LT(worst, absl::Seconds(1));
  ASSERT_TRUE(all_cut) << slow.ClosedAfter().size() << " of 4 slow clients cut";
  for (absl::Duration after : slow.ClosedAfter()) {
    // 10 s, plus up to one of the client's 1 s steps to notice.
    EXPECT_GE(after, absl::Seconds(9));
    EXPECT_LE(after, absl::Seconds(12));
  }
  // The idle ones were displaced or met the same deadline (the last ones
  // connected a moment after the slow clients).
  int still_open = 0;
  for (Socket& s : idle) {
    if (!AwaitClosedByPeer(s.fd(), absl::Seconds(2))) ++still_open;
  }
  EXPECT_EQ(still_open, 0);
}

TEST_F(HostileAdminE2eTest, EndlessHeadersAreCutEarlyAndMemoryStaysFlat) {
  const int http = PickFreePort();
  SidecarProcess* sidecar = Start(http);
  ASSERT_NE(sidecar, nullptr);
  const std::string pid = absl::StrCat(sidecar->pid());
  const int64_t rss_before = RssKib(pid);
  ASSERT_GT(rss_before, 0);

  constexpr int64_t kMaxBytes = int64_t{64} << 20;
  const EndlessHeadersResult r = SendEndlessHeaders(http, kMaxBytes, absl::Seconds(20));
  const int64_t rss_after = RssKib(pid);
  std::cout << "[ INFO     ] endless headers: " << r.bytes_sent << " bytes sent, "
            << (r.closed_by_server ? "closed by the sidecar" : "never closed")
            << ", answer " << StatusOf(r.received) << ", VmRSS " << rss_before << " -> "
            << rss_after << " KiB" << std::endl;
  EXPECT_TRUE(r.closed_by_server);
  // The server keeps 16 KiB; the rest sat in socket buffers.
  EXPECT_LT(r.bytes_sent, int64_t{8} << 20);
  EXPECT_LT(rss_after - rss_before, 20 * 1024) << "KiB";
  const TimedResponse after = TimedGet(http, "/healthz");
  EXPECT_EQ(after.status, 200);
  EXPECT_LT(after.elapsed, absl::Seconds(1));
}

}  // namespace
}  // namespace kafka_sidecar::testing
