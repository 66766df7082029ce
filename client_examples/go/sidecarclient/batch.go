package sidecarclient

import (
	"context"

	pb "kafka-sidecar/client_examples/go/gen/sidecarv1"
)

// processBatch runs h over the batch's messages in offset order and returns
// the batch's settlements, or nil when ctx ended before the batch was done
// (the stream is gone; the sidecar takes the batch back).
//
// The first RETRY ends the batch: the sidecar rewinds the partition to that
// offset, so the later messages are retried with it instead of being
// processed now and then delivered again.
func processBatch(ctx context.Context, h Handler, b *pb.Batch, counts *Counts) []*pb.Settlement {
	var acked []int64
	var rejects []*pb.Settlement
	var retries []*pb.Settlement
	msgs := b.GetMessages()
	for i, m := range msgs {
		if ctx.Err() != nil {
			return nil
		}
		o, reason := invoke(ctx, h, toMessage(b, m))
		switch o {
		case outcomeAck:
			acked = append(acked, m.GetOffset())
			counts.Acked.Add(1)
			continue
		case outcomeReject:
			rejects = append(rejects, &pb.Settlement{
				BatchId: b.GetBatchId(), Offsets: []int64{m.GetOffset()},
				Outcome: pb.Outcome_OUTCOME_REJECT, Reason: reason,
			})
			counts.Rejected.Add(1)
			continue
		}
		counts.Retried.Add(1)
		retries = append(retries, &pb.Settlement{
			BatchId: b.GetBatchId(), Offsets: []int64{m.GetOffset()},
			Outcome: pb.Outcome_OUTCOME_RETRY, Reason: reason,
		})
		if rest := msgs[i+1:]; len(rest) > 0 {
			offsets := make([]int64, len(rest))
			for j, r := range rest {
				offsets[j] = r.GetOffset()
			}
			retries = append(retries, &pb.Settlement{
				BatchId: b.GetBatchId(), Offsets: offsets,
				Outcome: pb.Outcome_OUTCOME_RETRY, Reason: "an earlier message of the batch was retried",
			})
		}
		break
	}
	if ctx.Err() != nil {
		return nil
	}
	if len(rejects) == 0 && len(retries) == 0 {
		// Empty offsets = the whole batch: the common case stays small.
		return []*pb.Settlement{{BatchId: b.GetBatchId(), Outcome: pb.Outcome_OUTCOME_ACK}}
	}
	var out []*pb.Settlement
	if len(acked) > 0 {
		out = append(out, &pb.Settlement{BatchId: b.GetBatchId(), Offsets: acked, Outcome: pb.Outcome_OUTCOME_ACK})
	}
	// Acks and rejects before the retry: a retry rewinds the partition, and
	// settlements of what it took back would be stale.
	out = append(out, rejects...)
	return append(out, retries...)
}

func toMessage(b *pb.Batch, m *pb.Message) *Message {
	msg := &Message{
		Topic: b.GetTopic(), Partition: b.GetPartition(), Offset: m.GetOffset(),
		Key: m.Key, Value: m.Value,
		TimestampMs: m.GetTimestampMs(), DeliveryAttempt: m.GetDeliveryAttempt(),
	}
	if len(m.GetHeaders()) > 0 {
		msg.Headers = make([]Header, len(m.GetHeaders()))
		for i, h := range m.GetHeaders() {
			msg.Headers[i] = Header{Key: h.GetKey(), Value: h.Value}
		}
	}
	return msg
}
