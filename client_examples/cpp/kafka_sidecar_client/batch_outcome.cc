#include "kafka_sidecar_client/batch_outcome.h"

#include <exception>

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

}  // namespace

MessageOutcome Decide(const Handler& handler, const Message& message) {
  MessageOutcome out;
  out.offset = message.offset();
  try {
    if (handler(message)) return out;
    out.outcome = v1::OUTCOME_RETRY;
    out.reason = "handler returned false";
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

v1::ConsumeRequest SettleRequest(uint64_t batch_id, const std::vector<MessageOutcome>& outcomes) {
  v1::ConsumeRequest request;
  v1::Settle* settle = request.mutable_settle();
  v1::Settlement* acks = nullptr;
  bool all_acked = true;
  for (const MessageOutcome& o : outcomes) all_acked = all_acked && o.outcome == v1::OUTCOME_ACK;
  if (all_acked) {
    v1::Settlement* s = settle->add_settlements();
    s->set_batch_id(batch_id);
    s->set_outcome(v1::OUTCOME_ACK);
    return request;
  }
  for (const MessageOutcome& o : outcomes) {
    if (o.outcome != v1::OUTCOME_ACK) continue;
    if (acks == nullptr) {
      acks = settle->add_settlements();
      acks->set_batch_id(batch_id);
      acks->set_outcome(v1::OUTCOME_ACK);
    }
    acks->add_offsets(o.offset);
  }
  for (v1::Outcome kind : {v1::OUTCOME_REJECT, v1::OUTCOME_RETRY}) {
    for (const MessageOutcome& o : outcomes) {
      if (o.outcome != kind) continue;
      v1::Settlement* s = settle->add_settlements();
      s->set_batch_id(batch_id);
      s->add_offsets(o.offset);
      s->set_outcome(kind);
      s->set_reason(o.reason);
    }
  }
  return request;
}

}  // namespace kafka_sidecar_client
