// The benchmark's baseline: a plain librdkafka high-level consumer with the
// sidecar's fetch defaults, reading N messages, committing once, closing.
//
// Prints one JSON line:
//   {"messages":N,"first_us":..,"last_us":..,"commit_done_us":..,"rate":..}
// (CLOCK_REALTIME microseconds). With --samples-out FILE it also writes one
// line per message, "<id> <ts_us> <recv_us> <partition>", id and ts_us read
// from the bench_produce payload (-1 when a payload lacks them).
#include <librdkafka/rdkafka.h>
#include <time.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_tool.h"

namespace {

constexpr const char* kUsage =
    "usage: bench_raw_consume --bootstrap HOST:PORT --topic T --group G --messages N "
    "[--samples-out FILE] [--timeout-s 300]\n";
constexpr int kPollTimeoutMs = 100;

struct Options {
  std::string bootstrap;
  std::string topic;
  std::string group;
  uint64_t messages = 0;
  std::string samples_out;
  uint64_t timeout_s = 300;
};

[[noreturn]] void BadFlags(const std::string& why) {
  bench::BadFlags("bench_raw_consume", kUsage, why);
}

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "bench_raw_consume: %s\n", why.c_str());
  std::exit(1);
}

uint64_t ParseCount(const std::string& flag, const char* text) {
  return bench::ParseUint("bench_raw_consume", kUsage, flag, text, 1, UINT64_MAX);
}

Options Parse(int argc, char** argv) {
  Options o;
  if (argc % 2 != 1) BadFlags("every flag takes a value");
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--bootstrap") o.bootstrap = v;
    else if (k == "--topic") o.topic = v;
    else if (k == "--group") o.group = v;
    else if (k == "--messages") o.messages = ParseCount(k, v);
    else if (k == "--samples-out") o.samples_out = v;
    else if (k == "--timeout-s") o.timeout_s = ParseCount(k, v);
    else BadFlags("unknown flag " + k);
  }
  if (o.bootstrap.empty()) BadFlags("--bootstrap is required");
  if (o.topic.empty()) BadFlags("--topic is required");
  if (o.group.empty()) BadFlags("--group is required");
  if (o.messages == 0) BadFlags("--messages is required");
  return o;
}

rd_kafka_t* MakeConsumer(const Options& o) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // fetch.* as the sidecar's defaults (kafka.fetch_max_wait_ms,
  // kafka.fetch_min_bytes), so the comparison is like for like.
  const std::pair<const char*, std::string> props[] = {
      {"bootstrap.servers", o.bootstrap},
      {"group.id", o.group},
      {"auto.offset.reset", "earliest"},
      {"enable.auto.commit", "false"},
      {"fetch.wait.max.ms", "100"},
      {"fetch.min.bytes", "1"},
  };
  char err[512];
  for (const auto& [key, value] : props) {
    if (rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      Fail(std::string("consumer property ") + key + ": " + err);
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) Fail(std::string("cannot create the consumer: ") + err);
  rd_kafka_poll_set_consumer(rk);
  return rk;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  const bool sampling = !o.samples_out.empty();
  std::vector<bench::Sample> samples;
  if (sampling) samples.reserve(o.messages);

  const int64_t deadline_us = bench::RealtimeUs() + static_cast<int64_t>(o.timeout_s) * 1000000;
  rd_kafka_t* rk = MakeConsumer(o);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, o.topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, topics); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Fail("subscribe to " + o.topic + ": " + rd_kafka_err2str(e));
  }
  rd_kafka_topic_partition_list_destroy(topics);

  // The "work": read every payload, so neither side can skip it.
  volatile uint64_t touched = 0;
  uint64_t got = 0;
  int64_t first_us = 0;
  int64_t last_us = 0;
  while (got < o.messages) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, kPollTimeoutMs);
    const int64_t now = bench::RealtimeUs();
    if (now > deadline_us) {
      Fail("timed out after " + std::to_string(o.timeout_s) + " s with " + std::to_string(got) +
           " of " + std::to_string(o.messages) + " messages");
    }
    if (m == nullptr) continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Transient consumer errors (e.g. the topic not there yet) are retried
      // by librdkafka; the timeout bounds them.
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::fprintf(stderr, "bench_raw_consume: consumer error: %s\n", rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    const std::string_view payload(static_cast<const char*>(m->payload), m->len);
    touched = touched + payload.size() + (payload.empty() ? 0 : static_cast<uint8_t>(payload[0]));
    if (sampling) {
      samples.push_back(bench::SampleOf(payload, now, m->partition));
    }
    if (got == 0) first_us = now;
    last_us = now;
    ++got;
    rd_kafka_message_destroy(m);
  }

  // enable.auto.offset.store (the default) stored each message's offset as
  // poll returned it; this commits exactly those.
  if (rd_kafka_resp_err_t e = rd_kafka_commit(rk, nullptr, 0); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Fail(std::string("commit: ") + rd_kafka_err2str(e));
  }
  const int64_t commit_done_us = bench::RealtimeUs();
  if (rd_kafka_resp_err_t e = rd_kafka_consumer_close(rk); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::fprintf(stderr, "bench_raw_consume: close: %s\n", rd_kafka_err2str(e));
  }
  rd_kafka_destroy(rk);

  if (std::string error; sampling && !bench::WriteSamples(o.samples_out, {samples}, &error)) {
    Fail(error);
  }
  const double span_s = static_cast<double>(last_us - first_us) / 1e6;
  std::printf(
      "{\"messages\":%llu,\"first_us\":%lld,\"last_us\":%lld,\"commit_done_us\":%lld,"
      "\"rate\":%.1f}\n",
      static_cast<unsigned long long>(got), static_cast<long long>(first_us),
      static_cast<long long>(last_us), static_cast<long long>(commit_done_us),
      span_s > 0 ? static_cast<double>(got) / span_s : 0.0);
  return 0;
}
