package sidecarclient

import (
	"context"

	pb "github.com/kafka-sidecar/kafka-sidecar/client_examples/go/gen/sidecarv1"
)

// tally is what one batch's settlements count, added to Counts only once the
// Settle was sent, so the counters never include what the sidecar did not get.
type tally struct{ processed, failed, retried uint64 }

func (t tally) addTo(c *Counts) {
	c.Processed.Add(t.processed)
	c.Failed.Add(t.failed)
	c.Retried.Add(t.retried)
}

// processBatch runs h over the batch's messages in offset order and returns
// the batch's settlements, or ok false when ctx ended before the batch was
// done (the stream is gone; the sidecar takes the batch back).
//
// ordering is the stream's, from Subscribed. Under ORDERING_PARTITION (and
// UNSPECIFIED, an older sidecar) the first RETRY ends the batch: the sidecar
// rewinds the partition to that offset and delivers the later messages
// again, so they are neither processed now nor settled (a settlement of
// them would be stale). Under ORDERING_NONE a RETRY concerns its message
// only, and every message is processed and settled on its own.
func processBatch(ctx context.Context, h Handler, b *pb.Batch, ordering pb.Ordering) (s []*pb.Settlement, t tally, ok bool) {
	stopAtRetry := ordering != pb.Ordering_ORDERING_NONE
	var acked []int64
	rejects := settlementGroups{batchID: b.GetBatchId(), outcome: pb.Outcome_OUTCOME_REJECT}
	retries := settlementGroups{batchID: b.GetBatchId(), outcome: pb.Outcome_OUTCOME_RETRY}
	for _, m := range b.GetMessages() {
		if ctx.Err() != nil {
			return nil, tally{}, false
		}
		v := invoke(ctx, h, toMessage(b, m))
		switch v.outcome {
		case outcomeAck:
			acked = append(acked, m.GetOffset())
			t.processed++
		case outcomeReject:
			rejects.add(m.GetOffset(), v)
			t.failed++
		case outcomeRetry:
			retries.add(m.GetOffset(), v)
			t.retried++
		}
		if v.outcome == outcomeRetry && stopAtRetry {
			break
		}
	}
	if ctx.Err() != nil {
		return nil, tally{}, false
	}
	if len(rejects.list) == 0 && len(retries.list) == 0 {
		// Empty offsets = the whole batch: the common case stays small.
		return []*pb.Settlement{{BatchId: b.GetBatchId(), Outcome: pb.Outcome_OUTCOME_ACK}}, t, true
	}
	if len(acked) > 0 {
		s = append(s, &pb.Settlement{BatchId: b.GetBatchId(), Offsets: acked, Outcome: pb.Outcome_OUTCOME_ACK})
	}
	// Retries last: under ORDERING_PARTITION a retry rewinds the partition,
	// and what it took back can no longer be settled.
	s = append(s, rejects.list...)
	return append(s, retries.list...), t, true
}

// settlementGroups gathers one outcome's offsets into one Settlement per
// distinct (reason, retry delay): a Settlement carries one of each, so
// messages that differ in either cannot share one.
type settlementGroups struct {
	batchID uint64
	outcome pb.Outcome
	list    []*pb.Settlement
	index   map[groupKey]*pb.Settlement
}

type groupKey struct {
	reason       string
	retryAfterMs uint32
}

func (g *settlementGroups) add(offset int64, v verdict) {
	k := groupKey{v.reason, v.retryAfterMs}
	if s := g.index[k]; s != nil {
		s.Offsets = append(s.Offsets, offset)
		return
	}
	if g.index == nil {
		g.index = map[groupKey]*pb.Settlement{}
	}
	s := &pb.Settlement{
		BatchId: g.batchID, Offsets: []int64{offset}, Outcome: g.outcome,
		Reason: v.reason, RetryAfterMs: v.retryAfterMs,
	}
	g.index[k] = s
	g.list = append(g.list, s)
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
