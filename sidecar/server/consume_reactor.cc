#include "sidecar/server/consume_reactor.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "sidecar/common/quote.h"
#include "sidecar/server/request_limits.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {
namespace {

// Zero asks for the sidecar's value; the configured value is also the
// ceiling, so a handler cannot make the sidecar hold more than it was sized for.
template <typename T>
T Effective(T requested, T configured) {
  return requested == 0 ? configured : std::min(requested, configured);
}

grpc::Status Refused(const absl::Status& s) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message()));
}

}  // namespace

ConsumeReactor::ConsumeReactor(grpc::CallbackServerContext* context, const Config& config,
                               Coordinator* coordinator, const Clock& clock,
                               std::string stream_id)
    : context_(context),
      config_(config),
      coordinator_(coordinator),
      session_(std::make_shared<StreamSession>(std::move(stream_id), this, clock.Now())) {
  StartRead(&request_);
}

void ConsumeReactor::StartWrite(const v1::ConsumeResponse* response) {
  grpc::ServerBidiReactor<v1::ConsumeRequest, v1::ConsumeResponse>::StartWrite(response);
}

void ConsumeReactor::Finish(const grpc::Status& status) {
  grpc::ServerBidiReactor<v1::ConsumeRequest, v1::ConsumeResponse>::Finish(status);
}

void ConsumeReactor::OnReadDone(bool ok) {
  if (!ok) {
    // The handler closed its side or went away.
    End(grpc::Status::OK);
    return;
  }
  switch (request_.request_case()) {
    case v1::ConsumeRequest::kSubscribe:
      if (session_->subscribed()) {
        End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                         "Subscribe may be sent only once, as the first request"));
        return;
      }
      if (absl::Status s = CheckSubscribe(request_.subscribe()); !s.ok()) {
        End(Refused(s));
        return;
      }
      HandleSubscribe(request_.subscribe());
      if (ended_) return;
      break;
    case v1::ConsumeRequest::kSettle:
      if (!session_->subscribed()) {
        End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                         "the first request must be Subscribe"));
        return;
      }
      if (absl::Status s = CheckSettle(request_.mutable_settle()); !s.ok()) {
        End(Refused(s));
        return;
      }
      coordinator_->Settle(session_->id(), request_.mutable_settle());
      break;
    case v1::ConsumeRequest::kExtend:
      if (!session_->subscribed()) {
        End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                         "the first request must be Subscribe"));
        return;
      }
      if (absl::Status s = CheckExtend(request_.extend()); !s.ok()) {
        End(Refused(s));
        return;
      }
      coordinator_->Extend(session_->id(), request_.extend());
      break;
    default:
      End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       "empty ConsumeRequest: set subscribe, settle or extend"));
      return;
  }
  request_.Clear();
  StartRead(&request_);
}

void ConsumeReactor::HandleSubscribe(const v1::Subscribe& sub) {
  const ProcessingConfig& p = config_.processing;
  StreamOptions options;
  options.handler_name = sub.handler_name();
  options.peer = context_->peer();
  options.max_in_flight_messages = Effective(sub.max_in_flight_messages(), p.max_in_flight_messages);
  options.max_in_flight_bytes = Effective(sub.max_in_flight_bytes(), p.max_in_flight_bytes);
  options.max_batch_messages =
      Effective(sub.max_batch_messages(), static_cast<uint32_t>(p.batch_size));
  const auto& consumed = config_.kafka.topics;
  std::set<std::string> seen;
  for (const std::string& t : sub.topics()) {
    if (std::find(consumed.begin(), consumed.end(), t) == consumed.end()) {
      End(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       absl::StrCat("Subscribe.topics: the sidecar does not consume topic ",
                                    QuoteForLog(t))));
      return;
    }
    if (seen.insert(t).second) options.topics.push_back(t);
  }
  session_->Subscribe(options);

  Outgoing out = Outgoing::Make();
  v1::Subscribed* s = out.response->mutable_subscribed();
  s->set_stream_id(session_->id());
  s->set_group_id(config_.kafka.group_id);
  for (const std::string& t : options.topics.empty() ? consumed : options.topics) s->add_topics(t);
  s->set_max_in_flight_messages(options.max_in_flight_messages);
  s->set_max_in_flight_bytes(options.max_in_flight_bytes);
  s->set_max_batch_messages(options.max_batch_messages);
  s->set_ack_timeout_ms(static_cast<uint32_t>(p.ack_timeout_ms));
  s->set_sidecar_version(KAFKA_SIDECAR_VERSION);
  s->set_ordering(p.ordering == OrderingMode::kNone ? v1::ORDERING_NONE : v1::ORDERING_PARTITION);
  session_->Send(std::move(out));
  coordinator_->OpenStream(session_);
  spdlog::info("stream {} subscribed: handler {} from {}, window {} messages / {} bytes",
               session_->id(), QuoteForLog(options.handler_name, kMaxHandlerNameBytes),
               options.peer,
               options.max_in_flight_messages, options.max_in_flight_bytes);
}

void ConsumeReactor::End(const grpc::Status& status) {
  if (ended_) return;
  ended_ = true;
  if (session_->subscribed()) {
    coordinator_->CloseStream(session_->id());
    const uint64_t cut = session_->extensions_cut.load(std::memory_order_relaxed);
    spdlog::info("stream {} ended: {}{}", session_->id(),
                 status.ok() ? "closed by handler" : status.error_message(),
                 cut == 0 ? ""
                          : absl::StrCat(" (", cut,
                                         " batch extensions cut to processing.max_extension_ms)"));
  } else if (!status.ok()) {
    spdlog::warn("stream {} refused: {}", session_->id(), status.error_message());
  }
  session_->Finish(status);
}

void ConsumeReactor::OnWriteDone(bool ok) { session_->OnWriteDone(ok); }

void ConsumeReactor::OnDone() {
  // Reached when the client cancels without our Finish, too.
  if (!ended_ && session_->subscribed()) coordinator_->CloseStream(session_->id());
  session_->Detach();
  delete this;
}

}  // namespace kafka_sidecar
