// The benchmark's load generator: N JSON messages of exactly BYTES bytes,
// message i to partition i % P, optionally paced at a fixed rate. Each value
// carries its produce time (ts_us) so the consumers can measure end-to-end
// latency.
//
// Prints one JSON line: {"messages":N,"bytes":BYTES,"seconds":S,"rate":R},
// seconds from the first produce to the end of the final flush.
#include <librdkafka/rdkafka.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_tool.h"

namespace {

constexpr const char* kUsage =
    "usage: bench_produce --bootstrap HOST:PORT --topic T --messages N --size BYTES "
    "--partitions P [--rate MSGS_PER_S]\n";
constexpr size_t kMinSize = 64;
constexpr int kFlushTimeoutMs = 120000;

struct Options {
  std::string bootstrap;
  std::string topic;
  uint64_t messages = 0;
  uint64_t size = 0;
  int32_t partitions = 0;
  double rate = 0;  // 0 = as fast as possible
};

[[noreturn]] void BadFlags(const std::string& why) {
  bench::BadFlags("bench_produce", kUsage, why);
}

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "bench_produce: %s\n", why.c_str());
  std::exit(1);
}

uint64_t ParseCount(const std::string& flag, const char* text, uint64_t min) {
  return bench::ParseUint("bench_produce", kUsage, flag, text, min, UINT64_MAX);
}

Options Parse(int argc, char** argv) {
  Options o;
  if (argc % 2 != 1) BadFlags("every flag takes a value");
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--bootstrap") o.bootstrap = v;
    else if (k == "--topic") o.topic = v;
    else if (k == "--messages") o.messages = ParseCount(k, v, 1);
    else if (k == "--size") o.size = ParseCount(k, v, kMinSize);
    else if (k == "--partitions") {
      o.partitions = static_cast<int32_t>(ParseCount(k, v, 1));
      if (o.partitions > 1000000) BadFlags("--partitions: too large");
    } else if (k == "--rate") {
      char* end = nullptr;
      o.rate = std::strtod(v, &end);
      if (end == v || *end != '\0' || !(o.rate > 0)) {
        BadFlags(std::string("--rate: expected a positive number, got '") + v + "'");
      }
    } else {
      BadFlags("unknown flag " + k);
    }
  }
  if (o.bootstrap.empty()) BadFlags("--bootstrap is required");
  if (o.topic.empty()) BadFlags("--topic is required");
  if (o.messages == 0) BadFlags("--messages is required");
  if (o.size == 0) BadFlags("--size is required");
  if (o.partitions == 0) BadFlags("--partitions is required");
  return o;
}

double MonotonicSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Writes {"id":<id>,"amount":<id % 97>,"ts_us":<ts>,"pad":"xx..x"} into a
// buffer of exactly size bytes. The pad and the closing `"}` stay in place
// between messages; only the header is rewritten, and the pad bytes a longer
// previous header covered are restored.
class ValueWriter {
 public:
  explicit ValueWriter(size_t size) : buf_(size, 'x') {
    buf_[size - 2] = '"';
    buf_[size - 1] = '}';
  }

  // For checking up front that the longest header of a run fits.
  static size_t HeaderLength(uint64_t id, uint64_t amount, int64_t ts_us) {
    char tmp[kMaxHeader];
    return Header(tmp, id, amount, ts_us);
  }

  const char* Write(uint64_t id, int64_t ts_us) {
    char tmp[kMaxHeader];
    const size_t len = Header(tmp, id, id % 97, ts_us);
    std::memcpy(buf_.data(), tmp, len);
    if (len < header_len_) std::memset(buf_.data() + len, 'x', header_len_ - len);
    header_len_ = len;
    return buf_.data();
  }

  size_t size() const { return buf_.size(); }

 private:
  // Every field at its widest (20 digits) still fits.
  static constexpr size_t kMaxHeader = 96;

  // Returns the header's length.
  static size_t Header(char (&out)[kMaxHeader], uint64_t id, uint64_t amount, int64_t ts_us) {
    char* p = out;
    p = Append(p, "{\"id\":");
    p = Digits(p, id);
    p = Append(p, ",\"amount\":");
    p = Digits(p, amount);
    p = Append(p, ",\"ts_us\":");
    p = Digits(p, ts_us);
    p = Append(p, ",\"pad\":\"");
    return p - out;
  }

  template <typename T>
  static char* Digits(char* p, T v) {
    return std::to_chars(p, p + 20, v).ptr;
  }

  template <size_t N>
  static char* Append(char* p, const char (&s)[N]) {
    std::memcpy(p, s, N - 1);
    return p + N - 1;
  }

  std::vector<char> buf_;
  size_t header_len_ = 0;
};

struct Delivery {
  std::atomic<uint64_t> failed{0};
  std::string first_error;  // written from the poll thread only
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  auto* d = static_cast<Delivery*>(opaque);
  if (d->failed.fetch_add(1) == 0) {
    d->first_error = std::string(rd_kafka_err2str(m->err)) + " (partition " +
                     std::to_string(m->partition) + ")";
  }
}

rd_kafka_t* MakeProducer(const Options& o, Delivery* delivery) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, std::string> props[] = {
      {"bootstrap.servers", o.bootstrap},
      {"linger.ms", "5"},
      {"batch.size", "1000000"},
      {"queue.buffering.max.messages", "1000000"},
      {"queue.buffering.max.kbytes", "1048576"},
      {"compression.type", "none"},
      {"acks", "all"},
      {"enable.idempotence", "false"},
  };
  char err[512];
  for (const auto& [key, value] : props) {
    if (rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      Fail(std::string("producer property ") + key + ": " + err);
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_conf_set_opaque(conf, delivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) Fail(std::string("cannot create the producer: ") + err);
  return rk;
}

// Produces one message, waiting for queue space as long as it takes: the
// queue drains as the broker acknowledges.
void ProduceOne(rd_kafka_t* rk, rd_kafka_topic_t* rkt, int32_t partition, const char* value,
                size_t len) {
  while (rd_kafka_produce(rkt, partition, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value), len,
                          nullptr, 0, nullptr) != 0) {
    const rd_kafka_resp_err_t e = rd_kafka_last_error();
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      Fail(std::string("produce to partition ") + std::to_string(partition) + ": " +
           rd_kafka_err2str(e));
    }
    rd_kafka_poll(rk, 1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  // ts_us keeps its digit count until the year 2286, so the last id with a
  // two-digit amount is the longest header.
  if (ValueWriter::HeaderLength(o.messages - 1, 96, bench::RealtimeUs()) + 2 > o.size) {
    BadFlags("--size " + std::to_string(o.size) + " is too small for ids up to " +
             std::to_string(o.messages - 1));
  }

  Delivery delivery;
  rd_kafka_t* rk = MakeProducer(o, &delivery);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
  if (rkt == nullptr) Fail("topic " + o.topic + ": " + rd_kafka_err2str(rd_kafka_last_error()));

  ValueWriter value(o.size);
  const double start = MonotonicSeconds();
  uint64_t i = 0;
  if (o.rate <= 0) {
    for (; i < o.messages; ++i) {
      ProduceOne(rk, rkt, static_cast<int32_t>(i % o.partitions), value.Write(i, bench::RealtimeUs()),
                 value.size());
      if ((i & 1023) == 0) rd_kafka_poll(rk, 0);  // serve delivery reports
    }
  } else {
    // Every ~0.2 ms, send what the rate says should have gone by now.
    const timespec tick = {0, 200000};
    while (i < o.messages) {
      const double due_f = (MonotonicSeconds() - start) * o.rate + 1;
      const uint64_t due = due_f >= static_cast<double>(o.messages)
                               ? o.messages
                               : static_cast<uint64_t>(due_f);
      for (; i < due; ++i) {
        ProduceOne(rk, rkt, static_cast<int32_t>(i % o.partitions),
                   value.Write(i, bench::RealtimeUs()), value.size());
      }
      rd_kafka_poll(rk, 0);
      if (i < o.messages) nanosleep(&tick, nullptr);
    }
  }

  const rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, kFlushTimeoutMs);
  const double seconds = MonotonicSeconds() - start;
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Fail("flush did not complete within " + std::to_string(kFlushTimeoutMs / 1000) + " s: " +
         std::to_string(rd_kafka_outq_len(rk)) + " messages still queued");
  }
  if (const uint64_t failed = delivery.failed.load(); failed > 0) {
    Fail(std::to_string(failed) + " of " + std::to_string(o.messages) +
         " messages were not delivered; first error: " + delivery.first_error);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);

  std::printf("{\"messages\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"rate\":%.1f}\n",
              static_cast<unsigned long long>(o.messages), static_cast<unsigned long long>(o.size),
              seconds, static_cast<double>(o.messages) / seconds);
  return 0;
}
