package sidecarclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	pb "github.com/kafka-sidecar/kafka-sidecar/client_examples/go/gen/sidecarv1"
)

type wantSettlement struct {
	outcome      pb.Outcome
	offsets      string
	reason       string
	retryAfterMs uint32
}

func checkSettlements(t *testing.T, batchID uint64, got []*pb.Settlement, want []wantSettlement) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("settlements: %v, want %+v", got, want)
	}
	for i, w := range want {
		s := got[i]
		if s.GetBatchId() != batchID || s.GetOutcome() != w.outcome || fmt.Sprint(s.GetOffsets()) != w.offsets ||
			s.GetReason() != w.reason || s.GetRetryAfterMs() != w.retryAfterMs {
			t.Errorf("settlement %d = %v, want %+v", i, s, w)
		}
	}
}

// recordingHandler settles by value: "poison" rejects, "flaky" retries with
// the sidecar's backoff, "slow-flaky" retries after 2s, anything else acks.
// It records the values it was called with.
type recordingHandler struct {
	mu      sync.Mutex
	handled []string
}

func (r *recordingHandler) handle(_ context.Context, m *Message) error {
	r.mu.Lock()
	r.handled = append(r.handled, string(m.Value))
	r.mu.Unlock()
	switch string(m.Value) {
	case "poison":
		return Rejectf("cannot parse %q", m.Value)
	case "flaky":
		return errors.New("database unavailable")
	case "slow-flaky":
		return RetryAfter(2*time.Second, errors.New("database unavailable"))
	}
	return nil
}

func (r *recordingHandler) calls() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprint(r.handled)
}

// checkCounts waits for the counters to reach the values given: they are
// added once a Settle was sent, a moment after the fake may have read it.
func checkCounts(t *testing.T, c *Counts, processed, failed, retried uint64) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		p, f, r := c.Processed.Load(), c.Failed.Load(), c.Retried.Load()
		if p == processed && f == failed && r == retried {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("Counts processed/failed/retried = %d/%d/%d, want %d/%d/%d",
				p, f, r, processed, failed, retried)
			return
		}
		time.Sleep(time.Millisecond) // polling a condition, bounded by the deadline
	}
}

func TestPartitionOrderingStopsAtTheFirstRetryAndLeavesTheRestUnsettled(t *testing.T) {
	// UNSPECIFIED is what a sidecar older than the field announces.
	for _, ordering := range []pb.Ordering{pb.Ordering_ORDERING_PARTITION, pb.Ordering_ORDERING_UNSPECIFIED} {
		t.Run(ordering.String(), func(t *testing.T) {
			var r recordingHandler
			hs := startHarness(t, r.handle, withOrdering(ordering))
			fs := hs.nextStream()
			fs.sendBatchAt(7, 0, 10, "ok", "poison", "ok", "flaky", "after", "poison")
			checkSettlements(t, 7, fs.nextSettle(t).GetSettlements(), []wantSettlement{
				{pb.Outcome_OUTCOME_ACK, "[10 12]", "", 0},
				{pb.Outcome_OUTCOME_REJECT, "[11]", `cannot parse "poison"`, 0},
				{pb.Outcome_OUTCOME_RETRY, "[13]", "database unavailable", 0},
			})
			// The sidecar rewinds to 13 and delivers 14 and 15 again: they
			// are not handled now.
			if got := r.calls(); got != "[ok poison ok flaky]" {
				t.Errorf("handled %s", got)
			}
			// A later batch is still handled (the Settle above was the only one).
			fs.sendBatchAt(8, 0, 13, "ok")
			checkSettlements(t, 8, fs.nextSettle(t).GetSettlements(), []wantSettlement{
				{pb.Outcome_OUTCOME_ACK, "[]", "", 0},
			})
			checkCounts(t, hs.counts, 3, 1, 1)
		})
	}
}

func TestNoneOrderingSettlesEveryMessageOnItsOwn(t *testing.T) {
	var r recordingHandler
	hs := startHarness(t, r.handle, withOrdering(pb.Ordering_ORDERING_NONE))
	fs := hs.nextStream()
	fs.sendBatchAt(3, 0, 0, "ok", "flaky", "ok", "flaky", "slow-flaky", "poison", "ok")
	checkSettlements(t, 3, fs.nextSettle(t).GetSettlements(), []wantSettlement{
		{pb.Outcome_OUTCOME_ACK, "[0 2 6]", "", 0},
		{pb.Outcome_OUTCOME_REJECT, "[5]", `cannot parse "poison"`, 0},
		// Same reason, different delays: two settlements.
		{pb.Outcome_OUTCOME_RETRY, "[1 3]", "database unavailable", 0},
		{pb.Outcome_OUTCOME_RETRY, "[4]", "database unavailable", 2000},
	})
	if got := r.calls(); got != "[ok flaky ok flaky slow-flaky poison ok]" {
		t.Errorf("handled %s", got)
	}
	checkCounts(t, hs.counts, 3, 1, 3)
}

func TestRetryAfterSetsTheSettlementsDelay(t *testing.T) {
	hs := startHarness(t, func(_ context.Context, m *Message) error {
		switch string(m.Value) {
		case "1500ms":
			return RetryAfter(1500*time.Millisecond, errors.New("rate limited"))
		case "1ns":
			return RetryAfter(time.Nanosecond, errors.New("soon"))
		case "zero":
			return RetryAfter(0, errors.New("backoff"))
		case "wrapped":
			return fmt.Errorf("charging: %w", RetryAfter(time.Second, errors.New("gateway busy")))
		case "no-cause":
			return RetryAfter(3*time.Second, nil)
		case "reject-wins":
			return Reject(RetryAfter(time.Second, errors.New("bad")))
		case "false-start":
			return errors.New("plain")
		case "panic":
			panic("boom")
		}
		return nil
	}, withOrdering(pb.Ordering_ORDERING_NONE))
	fs := hs.nextStream()
	fs.sendBatch(1, 0, "1500ms", "1ns", "zero", "wrapped", "no-cause", "reject-wins", "false-start", "panic")
	checkSettlements(t, 1, fs.nextSettle(t).GetSettlements(), []wantSettlement{
		{pb.Outcome_OUTCOME_REJECT, "[5]", "bad", 0},
		{pb.Outcome_OUTCOME_RETRY, "[0]", "rate limited", 1500},
		// A delay that was asked for never rounds to 0 ("the sidecar's backoff").
		{pb.Outcome_OUTCOME_RETRY, "[1]", "soon", 1},
		{pb.Outcome_OUTCOME_RETRY, "[2]", "backoff", 0},
		{pb.Outcome_OUTCOME_RETRY, "[3]", "charging: gateway busy", 1000},
		{pb.Outcome_OUTCOME_RETRY, "[4]", "retry requested after 3s", 3000},
		{pb.Outcome_OUTCOME_RETRY, "[6]", "plain", 0},
		{pb.Outcome_OUTCOME_RETRY, "[7]", "handler panic: boom", 0},
	})
}

func TestRetryAfterMsRoundsUpAndCaps(t *testing.T) {
	for d, want := range map[time.Duration]uint32{
		-time.Second:                   0,
		0:                              0,
		time.Microsecond:               1,
		time.Millisecond:               1,
		1001 * time.Microsecond:        2,
		50 * time.Millisecond:          50,
		time.Duration(1 << 62):         1<<32 - 1,
		(1<<32 - 1) * time.Millisecond: 1<<32 - 1,
	} {
		if got := retryAfterMs(d); got != want {
			t.Errorf("retryAfterMs(%v) = %d, want %d", d, got, want)
		}
	}
}
