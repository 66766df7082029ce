// Waits until a consumer group's committed offsets on a topic add up to a
// target, and prints when that happened. The benchmark's stopwatch for "the
// sidecar is done": polling OffsetFetch every 10 ms from outside the group
// (no subscribe, so it never joins it or triggers a rebalance).
//
//   bench_await_committed --bootstrap B --group G --topic T --partitions P
//                         --target SUM [--timeout-s 600]
//
// Prints {"done_us":<CLOCK_REALTIME µs>,"committed":SUM} and exits 0, or 1 at
// the timeout with what it last saw.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "bench/bench_tool.h"

namespace {

constexpr const char* kUsage =
    "usage: bench_await_committed --bootstrap B --group G --topic T --partitions P "
    "--target SUM [--timeout-s S]\n";

[[noreturn]] void BadFlags(const std::string& why) {
  bench::BadFlags("bench_await_committed", kUsage, why);
}

uint64_t ParseUint(const std::string& flag, const char* text, uint64_t min, uint64_t max) {
  return bench::ParseUint("bench_await_committed", kUsage, flag, text, min, max);
}

}  // namespace

int main(int argc, char** argv) {
  std::string bootstrap, group, topic;
  int partitions = 0;
  long long target = -1;
  int timeout_s = 600;
  if (argc % 2 != 1) BadFlags("every flag takes a value");
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--bootstrap") bootstrap = v;
    else if (k == "--group") group = v;
    else if (k == "--topic") topic = v;
    else if (k == "--partitions") partitions = static_cast<int>(ParseUint(k, v, 1, 1000000));
    else if (k == "--target") target = static_cast<long long>(ParseUint(k, v, 0, INT64_MAX));
    else if (k == "--timeout-s") timeout_s = static_cast<int>(ParseUint(k, v, 1, 86400));
    else BadFlags("unknown flag " + k);
  }
  if (bootstrap.empty()) BadFlags("--bootstrap is required");
  if (group.empty()) BadFlags("--group is required");
  if (topic.empty()) BadFlags("--topic is required");
  if (partitions <= 0) BadFlags("--partitions is required");
  if (target < 0) BadFlags("--target is required");

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err) != 0 ||
      rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err) != 0 ||
      rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) != 0) {
    std::fprintf(stderr, "config: %s\n", err);
    return 1;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "consumer: %s\n", err);
    return 1;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  long long sum = -1;
  int rc = 1;
  while (std::chrono::steady_clock::now() < deadline) {
    if (rd_kafka_committed(rk, list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      sum = 0;
      for (int i = 0; i < list->cnt; ++i) {
        if (list->elems[i].offset > 0) sum += list->elems[i].offset;
      }
      if (sum >= target) {
        std::printf("{\"done_us\":%lld,\"committed\":%lld}\n", static_cast<long long>(bench::RealtimeUs()), sum);
        rc = 0;
        break;
      }
    }
    // A stopwatch's tick, not synchronisation.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (rc != 0) std::fprintf(stderr, "timeout: committed %lld of %lld\n", sum, target);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  return rc;
}
