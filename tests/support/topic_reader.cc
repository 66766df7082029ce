#include "tests/support/topic_reader.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kafka_sidecar::testing {

std::ostream& operator<<(std::ostream& os, const ReadHeader& h) {
  os << h.key << "=";
  if (h.value.has_value()) {
    os << '"' << absl::CHexEscape(*h.value) << '"';
  } else {
    os << "null";
  }
  return os;
}

namespace {

// A freshly created topic may be unknown to the broker's metadata for a
// moment; after this long it really does not exist.
constexpr absl::Duration kUnknownTopicGrace = absl::Seconds(3);
constexpr int kPollSliceMs = 100;

int RemainingMs(absl::Time deadline, int cap_ms) {
  return static_cast<int>(std::clamp<int64_t>(
      absl::ToInt64Milliseconds(deadline - absl::Now()), 0, cap_ms));
}

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

// The legacy (simple) consumer API: it fetches assigned partitions without a
// group.id, which rd_kafka_assign would require.
class Reader {
 public:
  Reader() = default;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  ~Reader() {
    for (int32_t p : started_) rd_kafka_consume_stop(rkt_, p);
    if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
    if (rkt_ != nullptr) rd_kafka_topic_destroy(rkt_);
    if (rk_ != nullptr) rd_kafka_destroy(rk_);
  }

  absl::Status Open(const std::string& bootstrap, const std::string& topic, absl::Time deadline) {
    topic_ = topic;
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    const std::pair<const char*, const char*> settings[] = {
        {"bootstrap.servers", bootstrap.c_str()},
        {"client.id", "kafka-sidecar-test-topic-reader"},
        // Tells ReadAllOfTopic where a partition ends even when its last
        // offsets hold no record (transaction markers).
        {"enable.partition.eof", "true"},
        {"fetch.wait.max.ms", "50"},
    };
    for (const auto& [name, value] : settings) {
      if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return absl::InvalidArgumentError(absl::StrCat("topic reader config ", name, ": ", err));
      }
    }
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      return absl::InternalError(absl::StrCat("rd_kafka_new: ", err));
    }
    rkt_ = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
    queue_ = rd_kafka_queue_new(rk_);
    return LoadPartitions(deadline);
  }

  const std::vector<int32_t>& partitions() const { return partitions_; }

  // Low and high watermark of `partition`, asked of the broker.
  absl::StatusOr<std::pair<int64_t, int64_t>> Watermarks(int32_t partition, absl::Time deadline) {
    rd_kafka_resp_err_t err;
    do {
      int64_t low = -1;
      int64_t high = -1;
      err = rd_kafka_query_watermark_offsets(rk_, topic_.c_str(), partition, &low, &high,
                                             std::max(1, RemainingMs(deadline, 5000)));
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return std::make_pair(low, high);
    } while (absl::Now() < deadline);
    return absl::DeadlineExceededError(absl::StrCat("watermarks of ", topic_, "/", partition,
                                                    ": ", rd_kafka_err2str(err)));
  }

  absl::Status StartAll() {
    for (int32_t p : partitions_) {
      if (rd_kafka_consume_start_queue(rkt_, p, RD_KAFKA_OFFSET_BEGINNING, queue_) != 0) {
        return absl::InternalError(absl::StrCat("consume start ", topic_, "/", p, ": ",
                                                rd_kafka_err2str(rd_kafka_last_error())));
      }
      started_.push_back(p);
    }
    return absl::OkStatus();
  }

  MessagePtr Poll(int timeout_ms) { return MessagePtr(rd_kafka_consume_queue(queue_, timeout_ms)); }

 private:
  absl::Status LoadPartitions(absl::Time deadline) {
    const absl::Time unknown_deadline = std::min(deadline, absl::Now() + kUnknownTopicGrace);
    std::string last_error = "no metadata";
    while (true) {
      const rd_kafka_metadata_t* md = nullptr;
      const rd_kafka_resp_err_t err =
          rd_kafka_metadata(rk_, 0, rkt_, &md, std::max(1, RemainingMs(deadline, 5000)));
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> owned(
            md, &rd_kafka_metadata_destroy);
        if (md->topic_cnt == 1) {
          const rd_kafka_metadata_topic_t& t = md->topics[0];
          if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0) {
            for (int i = 0; i < t.partition_cnt; ++i) partitions_.push_back(t.partitions[i].id);
            std::sort(partitions_.begin(), partitions_.end());
            return absl::OkStatus();
          }
          if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
              absl::Now() >= unknown_deadline) {
            return absl::NotFoundError(absl::StrCat("topic ", topic_, " does not exist"));
          }
          last_error = rd_kafka_err2str(t.err);
        }
      } else {
        last_error = rd_kafka_err2str(err);
      }
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("metadata of topic ", topic_, ": ", last_error));
      }
      absl::SleepFor(absl::Milliseconds(100));  // metadata retry backoff, not synchronisation
    }
  }

  std::string topic_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* rkt_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
  std::vector<int32_t> partitions_;
  std::vector<int32_t> started_;
};

ReadRecord ToRecord(const rd_kafka_message_t* m) {
  ReadRecord r;
  r.partition = m->partition;
  r.offset = m->offset;
  if (m->key != nullptr) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
  if (m->payload != nullptr) r.value.emplace(static_cast<const char*>(m->payload), m->len);
  rd_kafka_timestamp_type_t type;
  r.timestamp_ms = rd_kafka_message_timestamp(m, &type);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      ReadHeader h{name, std::nullopt};
      if (value != nullptr) h.value.emplace(static_cast<const char*>(value), size);
      r.headers.push_back(std::move(h));
    }
  }
  return r;
}

// With `expected`, reads until that many records arrived; without, until
// every partition is read up to its high watermark at the start.
absl::StatusOr<std::vector<ReadRecord>> Read(const std::string& bootstrap,
                                             const std::string& topic,
                                             std::optional<size_t> expected,
                                             absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Reader reader;
  if (absl::Status s = reader.Open(bootstrap, topic, deadline); !s.ok()) return s;

  std::map<int32_t, int64_t> ends;       // partition -> high watermark at start
  std::map<int32_t, int64_t> unfinished;  // the partitions of `ends` not read to the end
  if (!expected.has_value()) {
    for (int32_t p : reader.partitions()) {
      absl::StatusOr<std::pair<int64_t, int64_t>> wm = reader.Watermarks(p, deadline);
      if (!wm.ok()) return wm.status();
      ends[p] = wm->second;
      if (wm->second > wm->first) unfinished[p] = wm->second;
    }
  }
  if (absl::Status s = reader.StartAll(); !s.ok()) return s;

  std::vector<ReadRecord> records;
  std::string last_error;
  auto done = [&] {
    return expected.has_value() ? records.size() >= *expected : unfinished.empty();
  };
  while (!done()) {
    if (absl::Now() >= deadline) {
      std::string missing =
          expected.has_value()
              ? absl::StrCat("read ", records.size(), " of ", *expected, " records")
              : absl::StrCat("read ", records.size(), " records; partitions ",
                             absl::StrJoin(unfinished, ",", absl::PairFormatter("<")),
                             " (partition<end) not read to their end");
      return absl::DeadlineExceededError(absl::StrCat(
          "topic ", topic, ": ", missing, " within ", absl::FormatDuration(timeout),
          last_error.empty() ? "" : "; last error: ", last_error));
    }
    MessagePtr m = reader.Poll(RemainingMs(deadline, kPollSliceMs));
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // m->offset is where the partition ended when fetched.
      auto it = unfinished.find(m->partition);
      if (it != unfinished.end() && m->offset >= it->second) unfinished.erase(it);
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_error = rd_kafka_message_errstr(m.get());  // often transient: keep reading
      continue;
    }
    if (!expected.has_value()) {
      // Written after the call began: not part of what the topic held.
      if (m->offset >= ends[m->partition]) continue;
      auto it = unfinished.find(m->partition);
      if (it != unfinished.end() && m->offset + 1 >= it->second) unfinished.erase(it);
    }
    records.push_back(ToRecord(m.get()));
  }
  std::sort(records.begin(), records.end(), [](const ReadRecord& a, const ReadRecord& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  return records;
}

}  // namespace

absl::StatusOr<std::vector<ReadRecord>> ReadTopic(const std::string& bootstrap,
                                                  const std::string& topic, size_t expected,
                                                  absl::Duration timeout) {
  return Read(bootstrap, topic, expected, timeout);
}

absl::StatusOr<std::vector<ReadRecord>> ReadAllOfTopic(const std::string& bootstrap,
                                                       const std::string& topic,
                                                       absl::Duration timeout) {
  return Read(bootstrap, topic, std::nullopt, timeout);
}

}  // namespace kafka_sidecar::testing
