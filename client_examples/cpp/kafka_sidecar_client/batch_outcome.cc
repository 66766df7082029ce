#include "kafka_sidecar_client/batch_outcome.h"

#include <algorithm>
#include <exception>
#include <limits>

namespace kafka_sidecar_client {
namespace {

std::string Truncated(std::string reason) {
  if (reason.size() <= kMaxReasonBytes) return reason;
  // Cut at a UTF-8 character boundary: the reason becomes a proto string.
  size_t cut = kMaxReasonBytes;
  while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
  reason.resize(cut);
  return reason;
}

uint32_t RetryAfterMs(std::chrono::milliseconds after) {
  const auto ms = std::clamp<int64_t>(after.count(), 0, std::numeric_limits<uint32_t>::max());
  return static_cast<uint32_t>(ms);
}

}  // namespace

MessageOutcome Decide(const Handler& handler, const Message& message) {
  MessageOutcome out;
  out.offset = message.offset();
  try {
    const Outcome outcome = handler(message);
    out.outcome = outcome.kind();
    switch (outcome.kind()) {
      case v1::OUTCOME_ACK:
        return out;
      case v1::OUTCOME_REJECT:
        out.reason = Truncated(outcome.reason().empty() ? "rejected" : outcome.reason());
        return out;
      default:
        out.outcome = v1::OUTCOME_RETRY;
        out.reason = Truncated(outcome.reason().empty() ? "retry" : outcome.reason());
        out.retry_after_ms = RetryAfterMs(outcome.retry_after());
        return out;
    }
  } catch (const Reject& e) {
    out.outcome = v1::OUTCOME_REJECT;
    out.reason = Truncated(*e.what() != '\0' ? e.what() : "rejected");
  } catch (const std::exception& e) {
    out.outcome = v1::OUTCOME_RETRY;
    out.reason = Truncated(*e.what() != '\0' ? e.what() : "handler threw");
  } catch (...) {
    out.outcome = v1::OUTCOME_RETRY;
    out.reason = "handler threw a non-std::exception";
  }
  return out;
}

bool StopsAtFirstRetry(v1::Ordering ordering) { return ordering != v1::ORDERING_NONE; }

BatchDecision DecideBatch(const Handler& handler, const v1::Batch& batch, v1::Ordering ordering,
                          const std::atomic<bool>& abandoned) {
  BatchDecision decision;
  decision.outcomes.reserve(batch.messages_size());
  const bool stop_at_retry = StopsAtFirstRetry(ordering);
  for (const v1::Message& m : batch.messages()) {
    if (abandoned) return decision;
    decision.outcomes.push_back(Decide(handler, Message(batch, m)));
    if (stop_at_retry && decision.outcomes.back().outcome == v1::OUTCOME_RETRY) break;
  }
  decision.settle = !abandoned;
  return decision;
}

v1::ConsumeRequest SettleRequest(const v1::Batch& batch,
                                 const std::vector<MessageOutcome>& outcomes) {
  v1::ConsumeRequest request;
  v1::Settle* settle = request.mutable_settle();
  const bool whole_batch = outcomes.size() == static_cast<size_t>(batch.messages_size());
  const bool all_acked = std::all_of(outcomes.begin(), outcomes.end(), [](const MessageOutcome& o) {
    return o.outcome == v1::OUTCOME_ACK;
  });
  if (whole_batch && all_acked) {
    // No offsets = every still-unsettled message of the batch.
    v1::Settlement* s = settle->add_settlements();
    s->set_batch_id(batch.batch_id());
    s->set_outcome(v1::OUTCOME_ACK);
    return request;
  }
  // One Settlement carries one reason and one retry delay: messages that
  // differ in either cannot share one.
  for (v1::Outcome kind : {v1::OUTCOME_ACK, v1::OUTCOME_REJECT, v1::OUTCOME_RETRY}) {
    const int first_of_kind = settle->settlements_size();
    for (const MessageOutcome& o : outcomes) {
      if (o.outcome != kind) continue;
      v1::Settlement* group = nullptr;
      for (int i = first_of_kind; i < settle->settlements_size(); ++i) {
        v1::Settlement* s = settle->mutable_settlements(i);
        if (s->reason() == o.reason && s->retry_after_ms() == o.retry_after_ms) {
          group = s;
          break;
        }
      }
      if (group == nullptr) {
        group = settle->add_settlements();
        group->set_batch_id(batch.batch_id());
        group->set_outcome(kind);
        group->set_reason(o.reason);
        group->set_retry_after_ms(o.retry_after_ms);
      }
      group->add_offsets(o.offset);
    }
  }
  return request;
}

}  // namespace kafka_sidecar_client
