package io.kafkasidecar.client;

import io.kafkasidecar.v1.ConsumeRequest;
import io.kafkasidecar.v1.Outcome;
import io.kafkasidecar.v1.Settle;
import io.kafkasidecar.v1.Settlement;
import java.util.ArrayList;
import java.util.List;

/** The outcome of one message and how a batch's outcomes become one Settle. */
public record Decision(long offset, Outcome outcome, String reason) {
  // Reasons travel in a dead-letter header and in logs; a stack-trace-sized
  // one helps nobody there.
  static final int MAX_REASON = 1000;

  /** Runs the handler on one message and maps its answer to an outcome. */
  public static Decision decide(Handler handler, Message message) {
    try {
      return handler.handle(message)
          ? new Decision(message.offset(), Outcome.OUTCOME_ACK, "")
          : new Decision(message.offset(), Outcome.OUTCOME_RETRY, "handler returned false");
    } catch (RejectException e) {
      String reason = e.getMessage() == null || e.getMessage().isEmpty() ? "rejected" : e.getMessage();
      return new Decision(message.offset(), Outcome.OUTCOME_REJECT, truncate(reason));
    } catch (Exception e) {
      // Any other failure may be transient: retry, and say why.
      return new Decision(message.offset(), Outcome.OUTCOME_RETRY,
          truncate(e.getClass().getSimpleName() + ": " + e.getMessage()));
    }
  }

  /**
   * One Settle for a batch. ACKs come first, so a RETRY that rewinds the
   * partition skips what this batch already acknowledged.
   */
  public static ConsumeRequest settleRequest(long batchId, List<Decision> decisions) {
    Settle.Builder settle = Settle.newBuilder();
    List<Long> acks = new ArrayList<>();
    for (Decision d : decisions) {
      if (d.outcome() == Outcome.OUTCOME_ACK) acks.add(d.offset());
    }
    if (acks.size() == decisions.size()) {
      // Empty offsets = every unsettled message of the batch: the common case
      // costs no offset list at all.
      settle.addSettlements(
          Settlement.newBuilder().setBatchId(batchId).setOutcome(Outcome.OUTCOME_ACK));
    } else {
      if (!acks.isEmpty()) {
        settle.addSettlements(Settlement.newBuilder()
            .setBatchId(batchId).addAllOffsets(acks).setOutcome(Outcome.OUTCOME_ACK));
      }
      for (Decision d : decisions) {
        if (d.outcome() == Outcome.OUTCOME_ACK) continue;
        settle.addSettlements(Settlement.newBuilder()
            .setBatchId(batchId)
            .addOffsets(d.offset())
            .setOutcome(d.outcome())
            .setReason(d.reason()));
      }
    }
    return ConsumeRequest.newBuilder().setSettle(settle).build();
  }

  private static String truncate(String s) {
    return s.length() <= MAX_REASON ? s : s.substring(0, MAX_REASON);
  }
}
