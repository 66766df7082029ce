// Whatever a handler may send, in any order: settlements naming any batch
// id, offsets and outcome (routed by the real Coordinator, as from a
// stream), Extends, streams dropping and reconnecting, time passing, operator
// pauses, revokes, dead-letter produces succeeding or failing. The
// dispatcher is driven one loop at a time, with a fake clock, and after every
// step the fuzzer checks what must never happen:
//  - a commit offset moving backwards;
//  - a commit passing a message that was neither ACKed by the handler nor
//    accepted by the dead-letter topic;
//  - first deliveries of a partition out of offset order;
//  - a stream's window or the in-flight count going negative.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sidecar/coordinator/coordinator.h"
#include "sidecar/deadletter/dead_letter_producer.h"
#include "sidecar/dispatch/batch_id.h"
#include "sidecar/dispatch/dispatcher_impl.h"
#include "sidecar/stream/stream_session.h"
#include "sidecar/stream/stream_writer.h"
#include "tests/support/fake_clock.h"

namespace kafka_sidecar {
namespace {

#define FUZZ_CHECK(cond, ...)                       \
  do {                                              \
    if (!(cond)) {                                  \
      std::fprintf(stderr, "invariant: " __VA_ARGS__); \
      std::fprintf(stderr, "\n");                   \
      std::abort();                                 \
    }                                               \
  } while (0)

// FUZZ_TRACE=1 prints each step, for reading a crash input.
const bool kTrace = std::getenv("FUZZ_TRACE") != nullptr;
#define TRACE(...)                                         \
  do {                                                     \
    if (kTrace) std::fprintf(stderr, __VA_ARGS__);         \
  } while (0)

constexpr int kPartitions = 2;
const std::string kTopic = "t";

// Jitter from the input would only slow the fuzzer down; a fixed factor
// keeps runs reproducible.
class FixedRandom : public Random {
 public:
  double Uniform() override { return 0.5; }
};

class FakeQueue : public DispatchQueue {
 public:
  bool Consume(std::chrono::milliseconds, size_t max, std::vector<FetchedRecord>* out) override {
    size_t handed = 0;
    while (handed < max && !records.empty()) {
      out->push_back(std::move(records.front()));
      records.pop_front();
      ++handed;
    }
    return handed < max;
  }
  void Wake() override {}
  std::deque<FetchedRecord> records;
};

class Control : public PartitionControl {
 public:
  absl::Status StoreOffset(const TopicPartition& tp, int64_t next) override {
    auto it = stored.find(tp.partition);
    FUZZ_CHECK(it == stored.end() || next >= it->second, "commit of %d moved back %lld -> %lld",
               tp.partition, static_cast<long long>(it->second), static_cast<long long>(next));
    stored[tp.partition] = next;
    return absl::OkStatus();
  }
  absl::Status Pause(const TopicPartition&) override { return absl::OkStatus(); }
  absl::Status Resume(const TopicPartition&, std::optional<int64_t>) override {
    return absl::OkStatus();
  }
  std::map<int32_t, int64_t> stored;
};

// Holds every produce until the fuzzer decides how Kafka answers.
class DeadLetters : public DeadLetterProducer {
 public:
  struct Pending {
    int32_t partition;
    int64_t offset;
    Done done;
  };
  void Produce(const Record& record, const DeadLetterInfo& info, Done done) override {
    pending.push_back(Pending{info.source.partition, record.offset, std::move(done)});
  }
  absl::Status Flush(std::chrono::milliseconds) override { return absl::OkStatus(); }
  std::deque<Pending> pending;
};

class Writer : public StreamWriter {
 public:
  void StartWrite(const v1::ConsumeResponse* r) override {
    written.push_back(*r);
    outstanding = true;
  }
  void Finish(const grpc::Status&) override {}
  std::vector<v1::ConsumeResponse> written;
  bool outstanding = false;
};

struct Stream {
  std::unique_ptr<Writer> writer = std::make_unique<Writer>();
  std::shared_ptr<StreamSession> session;
};

class Harness {
 public:
  explicit Harness(FuzzedDataProvider& in) : in_(in), stats_(clock_) {
    DispatcherOptions o;
    o.index = 0;
    o.batch_size = in_.ConsumeIntegralInRange<size_t>(1, 8);
    o.batch_timeout = Millis(in_.ConsumeIntegralInRange(0, 20));
    o.partition_workers = in_.ConsumeIntegralInRange<size_t>(1, 3);
    o.max_pending_messages = 64;
    o.ordering = in_.ConsumeBool() ? OrderingMode::kPartition : OrderingMode::kNone;
    o.max_retries = in_.ConsumeIntegralInRange<uint32_t>(0, 3);
    o.retry_backoff = Millis(in_.ConsumeIntegralInRange(0, 500));
    o.retry_backoff_max = Millis(1000);
    o.ack_timeout = Millis(in_.ConsumeIntegralInRange(1, 3000));
    o.throttle.threshold = in_.ConsumeIntegralInRange<uint32_t>(0, 5);
    o.throttle.window = Millis(1000);
    o.throttle.pause = Millis(in_.ConsumeIntegralInRange(1, 2000));
    o.dead_letters = &dead_letters_;
    o.dead_letter_retry = Millis(100);
    dispatcher_ = std::make_unique<DispatcherImpl>(o, &queue_, &control_, &stats_, clock_, &random_);
    coordinator_ = std::make_unique<Coordinator>(std::vector<Dispatcher*>{dispatcher_.get()}, &stats_);
    for (int p = 0; p < kPartitions; ++p) Assign(p);
  }

  void Step() {
    const int op = in_.ConsumeIntegralInRange(0, 9);
    TRACE("step %d at %lld ms\n", op,
          static_cast<long long>(clock_.Now().time_since_epoch().count() / 1000000));
    switch (op) {
      case 0:
        Feed(in_.ConsumeIntegralInRange(0, kPartitions - 1), in_.ConsumeIntegralInRange(1, 10));
        break;
      case 1:
      case 2:
        SettleSomething();
        break;
      case 3:
        ExtendSomething();
        break;
      case 4:
        clock_.Advance(Millis(in_.ConsumeIntegralInRange(0, 3000)));
        break;
      case 5:
        if (in_.ConsumeBool() || streams_.empty()) {
          Connect();
        } else {
          Drop(in_.ConsumeIntegralInRange<size_t>(0, streams_.size() - 1));
        }
        break;
      case 6:
        dispatcher_->Post(cmd::SetPaused{
            {TopicPartition{kTopic, in_.ConsumeIntegralInRange(0, kPartitions - 1)}},
            in_.ConsumeBool()});
        break;
      case 7:
        AnswerDeadLetter();
        break;
      case 8:
        Revoke(in_.ConsumeIntegralInRange(0, kPartitions - 1));
        break;
      default:
        break;
    }
    Loop();
  }

 private:
  void Assign(int p) {
    dispatcher_->Post(cmd::Assign{TopicPartition{kTopic, p}});
    // Kafka fetches from the committed offset.
    const int64_t from = control_.stored.count(p) ? control_.stored[p] : 0;
    fetch_pos_[p] = static_cast<size_t>(
        std::lower_bound(log_[p].begin(), log_[p].end(), from) - log_[p].begin());
    first_deliveries_[p] = -1;
    if (!streams_.empty()) Bind(p, streams_.back());
  }

  void Bind(int p, const Stream& s) {
    dispatcher_->Post(cmd::Bind{TopicPartition{kTopic, p}, s.session});
  }

  void Feed(int p, int n) {
    static const std::string payload(64, 'x');
    std::vector<int64_t>& log = log_[p];
    for (int i = 0; i < n; ++i) {
      if (fetch_pos_[p] == log.size()) {
        // New records at the log end; compaction and transaction markers
        // leave gaps.
        const int64_t next = log.empty() ? 0 : log.back() + 1;
        log.push_back(next + (in_.ConsumeIntegralInRange(0, 4) == 0 ? 1 : 0));
      }
      Record r;
      r.offset = log[fetch_pos_[p]++];
      r.has_value = true;
      r.value = std::string_view(payload.data(), static_cast<size_t>(r.offset % 65));
      queue_.records.push_back(FetchedRecord{kTopic, p, std::move(r)});
    }
  }

  void Connect() {
    Stream s;
    s.session = std::make_shared<StreamSession>("s" + std::to_string(next_stream_++),
                                                s.writer.get(), clock_.Now());
    StreamOptions o;
    o.handler_name = "fuzz";
    o.max_in_flight_messages = in_.ConsumeIntegralInRange<uint32_t>(1, 20);
    o.max_in_flight_bytes = in_.ConsumeIntegralInRange<uint64_t>(1, 2000);
    o.max_batch_messages = in_.ConsumeIntegralInRange<uint32_t>(1, 10);
    s.session->Subscribe(o);
    streams_.push_back(std::move(s));
    for (int p = 0; p < kPartitions; ++p) {
      if (in_.ConsumeBool()) Bind(p, streams_.back());
    }
  }

  void Drop(size_t i) {
    Stream s = std::move(streams_[i]);
    streams_.erase(streams_.begin() + static_cast<ptrdiff_t>(i));
    CompleteWrites(s);
    s.session->Finish(grpc::Status::CANCELLED);
    s.session->Detach();
    dispatcher_->Post(cmd::StreamClosed{s.session->id()});
    dropped_.push_back(std::move(s));  // the dispatcher may still hold it
    if (!streams_.empty()) {
      for (int p = 0; p < kPartitions; ++p) Bind(p, streams_.back());
    }
  }

  void Revoke(int p) {
    auto result = std::make_shared<RevokeResult>(1);
    dispatcher_->Post(cmd::Revoke{TopicPartition{kTopic, p}, result,
                                  Millis(in_.ConsumeIntegralInRange(0, 2000))});
    // Run until the dispatcher gives the partition up (time moves on).
    for (int i = 0; i < 10 && !result->WaitFor(absl::ZeroDuration()); ++i) {
      Loop();
      clock_.Advance(Millis(500));
    }
    FUZZ_CHECK(result->WaitFor(absl::ZeroDuration()), "revoke never finished");
    for (const auto& [tp, offset] : result->offsets()) {
      if (offset) CheckCommit(p, *offset);
      if (offset) control_.StoreOffset(tp, *offset).IgnoreError();
    }
    // Unassigned: its fetched records are gone.
    std::deque<FetchedRecord> keep;
    for (auto& r : queue_.records) {
      if (r.partition != p) keep.push_back(std::move(r));
    }
    queue_.records = std::move(keep);
    Assign(p);
  }

  // Picks a delivered batch (or nonsense) and settles some of it.
  void SettleSomething() {
    if (streams_.empty() && dropped_.empty()) return;
    const Stream& s = PickStream();
    v1::Settle settle;
    const int n = in_.ConsumeIntegralInRange(1, 3);
    for (int k = 0; k < n; ++k) {
      v1::Settlement* st = settle.add_settlements();
      const v1::Batch* batch = PickBatch();
      st->set_batch_id(batch != nullptr && in_.ConsumeIntegralInRange(0, 9) > 0
                           ? batch->batch_id()
                           : in_.ConsumeIntegral<uint64_t>());
      // Outcomes outside the enum too: the coordinator must refuse them.
      st->set_outcome(static_cast<v1::Outcome>(in_.ConsumeIntegralInRange(0, 4)));
      st->set_retry_after_ms(in_.ConsumeIntegralInRange<uint32_t>(0, 300));
      if (in_.ConsumeBool()) {
        const int m = in_.ConsumeIntegralInRange(1, 4);
        for (int j = 0; j < m; ++j) {
          if (batch != nullptr && batch->messages_size() > 0 && in_.ConsumeBool()) {
            st->add_offsets(
                batch->messages(in_.ConsumeIntegralInRange(0, batch->messages_size() - 1))
                    .offset());
          } else {
            st->add_offsets(in_.ConsumeIntegral<int64_t>());
          }
        }
      }
      if (st->outcome() == v1::OUTCOME_ACK && batch != nullptr &&
          st->batch_id() == batch->batch_id()) {
        RecordAcked(*batch, *st);
      }
    }
    TRACE("settle from %s: %s\n", s.session->id().c_str(), settle.ShortDebugString().c_str());
    coordinator_->Settle(s.session->id(), &settle);
  }

  // An ACK the sidecar may apply: the handler has seen and ACKed these.
  void RecordAcked(const v1::Batch& batch, const v1::Settlement& st) {
    std::set<int64_t> in_batch;
    for (const auto& m : batch.messages()) in_batch.insert(m.offset());
    if (st.offsets_size() == 0) {
      for (int64_t o : in_batch) acked_[batch.partition()].insert(o);
    } else {
      for (int64_t o : st.offsets()) {
        if (in_batch.count(o)) acked_[batch.partition()].insert(o);
      }
    }
  }

  void ExtendSomething() {
    if (streams_.empty()) return;
    const Stream& s = PickStream();
    v1::Extend extend;
    if (const v1::Batch* b = PickBatch()) extend.add_batch_ids(b->batch_id());
    extend.add_batch_ids(in_.ConsumeIntegral<uint64_t>());
    extend.set_extend_ms(in_.ConsumeIntegralInRange<uint32_t>(0, 5000));
    coordinator_->Extend(s.session->id(), extend);
  }

  void AnswerDeadLetter() {
    if (dead_letters_.pending.empty()) return;
    DeadLetters::Pending d = std::move(dead_letters_.pending.front());
    dead_letters_.pending.pop_front();
    const bool ok = in_.ConsumeBool();
    TRACE("dead letter p%d@%lld %s\n", d.partition, static_cast<long long>(d.offset), ok ? "ok" : "failed");
    if (ok) dead_lettered_[d.partition].insert(d.offset);
    d.done(ok ? absl::OkStatus() : absl::UnavailableError("broker down"));
  }

  const Stream& PickStream() {
    const bool live = !streams_.empty() && (dropped_.empty() || in_.ConsumeIntegralInRange(0, 9) > 0);
    if (live) return streams_[in_.ConsumeIntegralInRange<size_t>(0, streams_.size() - 1)];
    return dropped_[in_.ConsumeIntegralInRange<size_t>(0, dropped_.size() - 1)];
  }

  const v1::Batch* PickBatch() {
    if (batches_.empty()) return nullptr;
    // Mostly recent batches, sometimes any.
    const size_t back = in_.ConsumeIntegralInRange<size_t>(0, std::min<size_t>(batches_.size() - 1, 8));
    const size_t i = in_.ConsumeBool() ? batches_.size() - 1 - back
                                       : in_.ConsumeIntegralInRange<size_t>(0, batches_.size() - 1);
    return &batches_[i];
  }

  void Loop() {
    dispatcher_->RunOnce(Millis(0));
    for (Stream& s : streams_) CompleteWrites(s);
    for (Stream& s : dropped_) {
      FUZZ_CHECK(s.session->in_flight_messages() < (1u << 30), "stream window underflow");
    }
    FUZZ_CHECK(stats_.in_flight() >= 0, "in-flight count negative");
    for (const auto& [p, offset] : control_.stored) CheckCommit(p, offset);
  }

  // The transport completes every write.
  void CompleteWrites(Stream& s) {
    while (s.writer->outstanding) {
      s.writer->outstanding = false;
      s.session->OnWriteDone(true);
    }
    for (auto& r : s.writer->written) {
      if (r.has_batch()) Delivered(r.batch());
    }
    s.writer->written.clear();
    FUZZ_CHECK(s.session->in_flight_messages() < (1u << 30), "stream window underflow");
  }

  void Delivered(const v1::Batch& b) {
    if (kTrace) {
      TRACE("batch %llu p%d:", static_cast<unsigned long long>(b.batch_id()), b.partition());
      for (const auto& m : b.messages()) TRACE(" %lld/%u", static_cast<long long>(m.offset()), m.delivery_attempt());
      TRACE("\n");
    }
    for (const auto& m : b.messages()) {
      if (m.delivery_attempt() != 1) continue;
      FUZZ_CHECK(m.offset() > first_deliveries_[b.partition()],
                 "first delivery of offset %lld after %lld", static_cast<long long>(m.offset()),
                 static_cast<long long>(first_deliveries_[b.partition()]));
      first_deliveries_[b.partition()] = m.offset();
    }
    batches_.push_back(b);
    if (batches_.size() > 64) batches_.pop_front();
  }

  // Everything fed below the commit offset was ACKed or dead-lettered.
  void CheckCommit(int p, int64_t offset) {
    const std::vector<int64_t>& log = log_[p];
    // Checked once is enough: commits never go back.
    for (size_t& i = checked_[p]; i < log.size() && log[i] < offset; ++i) {
      FUZZ_CHECK(acked_[p].count(log[i]) || dead_lettered_[p].count(log[i]),
                 "commit %lld of partition %d passes unsettled offset %lld",
                 static_cast<long long>(offset), p, static_cast<long long>(log[i]));
    }
  }

  FuzzedDataProvider& in_;
  FakeClock clock_;
  FakeQueue queue_;
  Control control_;
  DeadLetters dead_letters_;
  SidecarStats stats_;
  FixedRandom random_;
  std::unique_ptr<DispatcherImpl> dispatcher_;
  std::unique_ptr<Coordinator> coordinator_;
  std::vector<Stream> streams_;
  std::vector<Stream> dropped_;
  int next_stream_ = 1;
  std::map<int, std::vector<int64_t>> log_;  // offsets the partition holds
  std::map<int, size_t> fetch_pos_;          // index in log_ of the next fetch
  std::map<int, size_t> checked_;            // log_ below this index checked
  std::map<int, int64_t> first_deliveries_;
  std::map<int, std::set<int64_t>> acked_;
  std::map<int, std::set<int64_t>> dead_lettered_;
  std::deque<v1::Batch> batches_;
};

}  // namespace
}  // namespace kafka_sidecar

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  kafka_sidecar::Harness harness(in);
  while (in.remaining_bytes() > 0) harness.Step();
  return 0;
}
