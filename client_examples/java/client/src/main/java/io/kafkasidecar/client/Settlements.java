package io.kafkasidecar.client;

import io.kafkasidecar.v1.ConsumeRequest;
import io.kafkasidecar.v1.Outcome;
import io.kafkasidecar.v1.Settle;
import io.kafkasidecar.v1.Settlement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How a batch's decisions become one Settle. */
final class Settlements {
  private Settlements() {}

  // A Settlement carries one outcome, reason and retry delay for all its
  // offsets: decisions share an entry only when all three agree.
  private record Group(Outcome outcome, String reason, long retryAfterMs) {}

  /**
   * One Settle for a batch of {@code batchSize} messages. ACKs come first and
   * RETRYs last, so a RETRY that rewinds the partition skips what this batch
   * already settled.
   */
  static ConsumeRequest request(long batchId, int batchSize, List<Decision> decisions) {
    Settle.Builder settle = Settle.newBuilder();
    List<Long> acks = new ArrayList<>();
    Map<Group, List<Long>> rejects = new LinkedHashMap<>();
    Map<Group, List<Long>> retries = new LinkedHashMap<>();
    for (Decision d : decisions) {
      if (d.outcome() == Outcome.OUTCOME_ACK) {
        acks.add(d.offset());
        continue;
      }
      Map<Group, List<Long>> into = d.isRetry() ? retries : rejects;
      into.computeIfAbsent(new Group(d.outcome(), d.reason(), d.isRetry() ? d.retryAfterMs() : 0),
          g -> new ArrayList<>()).add(d.offset());
    }
    if (acks.size() == batchSize) {
      // Empty offsets = every unsettled message of the batch: the common case
      // costs no offset list at all.
      settle.addSettlements(
          Settlement.newBuilder().setBatchId(batchId).setOutcome(Outcome.OUTCOME_ACK));
    } else if (!acks.isEmpty()) {
      settle.addSettlements(Settlement.newBuilder()
          .setBatchId(batchId).addAllOffsets(acks).setOutcome(Outcome.OUTCOME_ACK));
    }
    for (Map<Group, List<Long>> groups : List.of(rejects, retries)) {
      for (Map.Entry<Group, List<Long>> e : groups.entrySet()) {
        Group g = e.getKey();
        settle.addSettlements(Settlement.newBuilder()
            .setBatchId(batchId)
            .addAllOffsets(e.getValue())
            .setOutcome(g.outcome())
            .setReason(g.reason())
            // A uint32 on the wire: the int cast keeps its bits.
            .setRetryAfterMs((int) g.retryAfterMs()));
      }
    }
    return ConsumeRequest.newBuilder().setSettle(settle).build();
  }
}
