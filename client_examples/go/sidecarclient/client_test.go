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

func ackAll(context.Context, *Message) error { return nil }

func TestEachPartitionIsProcessedInOffsetOrder(t *testing.T) {
	const partitions, batches, perBatch = 3, 6, 5
	var mu sync.Mutex
	seen := map[int32][]int64{}
	hs := startHarness(t, func(_ context.Context, m *Message) error {
		mu.Lock()
		seen[m.Partition] = append(seen[m.Partition], m.Offset)
		mu.Unlock()
		return nil
	})
	fs := hs.nextStream()
	if fs.subscribe.GetHandlerName() != "test-handler" {
		t.Errorf("Subscribe.handler_name = %q", fs.subscribe.GetHandlerName())
	}
	id := uint64(0)
	for b := 0; b < batches; b++ {
		for p := int32(0); p < partitions; p++ {
			id++
			values := make([]string, perBatch)
			fs.sendBatchAt(id, p, int64(b*perBatch), values...)
		}
	}
	got := fs.settlementsByBatch(t, partitions*batches)
	for batch, s := range got {
		if len(s) != 1 || s[0].GetOutcome() != pb.Outcome_OUTCOME_ACK || len(s[0].GetOffsets()) != 0 {
			t.Errorf("batch %d: want one whole-batch ACK, got %v", batch, s)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for p := int32(0); p < partitions; p++ {
		offsets := seen[p]
		if len(offsets) != batches*perBatch {
			t.Fatalf("partition %d: %d messages handled, want %d", p, len(offsets), batches*perBatch)
		}
		for i, o := range offsets {
			if o != int64(i) {
				t.Fatalf("partition %d handled out of order: %v", p, offsets)
			}
		}
	}
	checkCounts(t, hs.counts, partitions*batches*perBatch, 0, 0)
}

func TestPartitionsAreProcessedConcurrently(t *testing.T) {
	p1Started := make(chan struct{})
	hs := startHarness(t, func(_ context.Context, m *Message) error {
		if m.Partition == 1 {
			close(p1Started)
			return nil
		}
		// Partition 0 waits for partition 1 to start: only possible when
		// they run at the same time.
		select {
		case <-p1Started:
			return nil
		case <-time.After(waitFor):
			return errors.New("partition 1 never started while partition 0 was busy")
		}
	})
	fs := hs.nextStream()
	fs.sendBatch(1, 0, "a")
	fs.sendBatch(2, 1, "b")
	got := fs.settlementsByBatch(t, 2)
	for batch, s := range got {
		if s[0].GetOutcome() != pb.Outcome_OUTCOME_ACK {
			t.Errorf("batch %d: %v", batch, s)
		}
	}
}

func TestReconnectsAfterTheStreamDrops(t *testing.T) {
	hs := startHarness(t, ackAll)
	first := hs.nextStream()
	first.sendBatch(1, 0, "a")
	first.nextSettle(t)
	first.end <- errors.New("sidecar restarting")

	second := hs.nextStream()
	if second.subscribe.GetHandlerName() != "test-handler" {
		t.Errorf("resubscribed as %q", second.subscribe.GetHandlerName())
	}
	second.sendBatch(2, 0, "b")
	if s := second.nextSettle(t).GetSettlements(); s[0].GetBatchId() != 2 || s[0].GetOutcome() != pb.Outcome_OUTCOME_ACK {
		t.Errorf("after reconnect: %v", s)
	}
	if n := hs.counts.Streams.Load(); n != 2 {
		t.Errorf("Counts.Streams = %d, want 2", n)
	}
}

func TestABatchCutOffByADroppedStreamIsNotSettled(t *testing.T) {
	entered := make(chan struct{}, 1)
	hs := startHarness(t, func(ctx context.Context, m *Message) error {
		if string(m.Value) != "slow" {
			return nil
		}
		entered <- struct{}{}
		<-ctx.Done() // the stream is gone: give up
		return ctx.Err()
	})
	first := hs.nextStream()
	first.sendBatch(1, 0, "slow", "next")
	select {
	case <-entered:
	case <-time.After(waitFor):
		t.Fatal("handler not called")
	}
	first.end <- errors.New("dropped")

	second := hs.nextStream()
	second.sendBatch(2, 0, "redelivered")
	if s := second.nextSettle(t).GetSettlements(); s[0].GetBatchId() != 2 {
		t.Errorf("settled on the new stream: %v", s)
	}
	if len(first.settles) != 0 {
		t.Errorf("the cut-off batch was settled: %v", <-first.settles)
	}
}

func TestDrainingSettlesEverythingHeldThenReturns(t *testing.T) {
	gate := make(chan struct{})
	hs := startHarness(t, func(_ context.Context, m *Message) error {
		if m.Partition == 0 && m.Offset == 0 {
			<-gate
		}
		return nil
	})
	fs := hs.nextStream()
	fs.sendBatchAt(1, 0, 0, "held")
	fs.sendBatchAt(2, 0, 1, "queued")
	fs.sendBatchAt(3, 1, 0, "other")
	fs.sendDraining()
	close(gate)

	if err := hs.runResult(); err != nil {
		t.Fatalf("Run after Draining: %v", err)
	}
	select {
	case <-fs.halfClosed:
	case <-time.After(waitFor):
		t.Fatal("the handler did not close its side after Draining")
	}
	// Settles are queued before halfClosed, so all are here now.
	if n := len(fs.settles); n != 3 {
		t.Fatalf("%d batches settled before the stream closed, want 3", n)
	}
	// Run returned: every count is in.
	if n := hs.counts.Processed.Load(); n != 3 {
		t.Errorf("Counts.Processed = %d", n)
	}
}

func TestCancelFinishesTheCurrentBatchOnly(t *testing.T) {
	entered := make(chan struct{})
	gate := make(chan struct{})
	var mu sync.Mutex
	var handled []string
	hs := startHarness(t, func(_ context.Context, m *Message) error {
		if string(m.Value) == "current" {
			close(entered)
			<-gate
		}
		mu.Lock()
		handled = append(handled, string(m.Value))
		mu.Unlock()
		return nil
	})
	testHookFinishing = func() { close(gate) }
	t.Cleanup(func() { testHookFinishing = nil })

	fs := hs.nextStream()
	fs.sendBatchAt(1, 0, 0, "current", "same-batch")
	fs.sendBatchAt(2, 0, 2, "not-started")
	select {
	case <-entered:
	case <-time.After(waitFor):
		t.Fatal("handler not called")
	}
	hs.cancel()
	if err := hs.runResult(); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	select {
	case <-fs.halfClosed:
	case <-time.After(waitFor):
		t.Fatal("the handler did not close its side")
	}
	if n := len(fs.settles); n != 1 {
		t.Fatalf("%d Settles, want 1 (the current batch)", n)
	}
	if s := (<-fs.settles).GetSettlements(); s[0].GetBatchId() != 1 || s[0].GetOutcome() != pb.Outcome_OUTCOME_ACK {
		t.Errorf("settled %v", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(handled) != "[current same-batch]" {
		t.Errorf("handled %v", handled)
	}
}

// extendedUntil reads Extends until every id in want was named, and returns
// every id named on the way.
func (fs *fakeStream) extendedUntil(t *testing.T, want ...uint64) map[uint64]bool {
	t.Helper()
	named := map[uint64]bool{}
	deadline := time.After(waitFor)
	for {
		missing := false
		for _, id := range want {
			missing = missing || !named[id]
		}
		if !missing {
			return named
		}
		select {
		case e := <-fs.extends:
			if e.GetExtendMs() != 0 {
				t.Errorf("Extend.extend_ms = %d, want 0 (another ack_timeout_ms)", e.GetExtendMs())
			}
			for _, id := range e.GetBatchIds() {
				named[id] = true
			}
		case <-deadline:
			t.Fatalf("no Extend named all of %v while they were held; named %v", want, named)
			return nil
		}
	}
}

func TestExtendsHeldBatchesUntilTheyAreSettled(t *testing.T) {
	extended := make(chan struct{})
	hs := startHarness(t, func(_ context.Context, m *Message) error {
		// Held until the test saw the Extend: far past the 200 ms ack timeout.
		select {
		case <-extended:
			return nil
		case <-time.After(waitFor):
			return errors.New("no Extend seen")
		}
	}, withAckTimeoutMs(200))
	fs := hs.nextStream()
	fs.sendBatchAt(42, 0, 0, "slow")
	// Queued behind batch 42: its sidecar deadline runs as well.
	fs.sendBatchAt(43, 0, 1, "queued")
	named := fs.extendedUntil(t, 42, 43)
	close(extended)
	got := fs.settlementsByBatch(t, 2)
	for _, id := range []uint64{42, 43} {
		if s := got[id]; len(s) != 1 || s[0].GetOutcome() != pb.Outcome_OUTCOME_ACK {
			t.Errorf("batch %d: %v", id, s)
		}
	}
	if len(named) != 2 {
		t.Errorf("Extends named %v, want only the held batches 42 and 43", named)
	}
}

func TestExtendNeverNamesABatchOfAnEarlierStream(t *testing.T) {
	entered := make(chan struct{}, 1)
	extended := make(chan struct{})
	hs := startHarness(t, func(ctx context.Context, m *Message) error {
		switch string(m.Value) {
		case "cut-off":
			entered <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		case "held":
			select {
			case <-extended:
				return nil
			case <-time.After(waitFor):
				return errors.New("no Extend seen")
			}
		}
		return nil
	}, withAckTimeoutMs(200))
	first := hs.nextStream()
	first.sendBatch(1, 0, "cut-off")
	select {
	case <-entered:
	case <-time.After(waitFor):
		t.Fatal("handler not called")
	}
	first.end <- errors.New("dropped")

	second := hs.nextStream()
	second.sendBatch(2, 0, "held")
	named := second.extendedUntil(t, 2)
	close(extended)
	if s := second.nextSettle(t).GetSettlements(); s[0].GetBatchId() != 2 {
		t.Errorf("settled %v", s)
	}
	if named[1] {
		t.Errorf("the new stream was sent an Extend for batch 1 of the dropped one: %v", named)
	}
}

func TestExtendDueRestartsTheClockOfWhatItReturns(t *testing.T) {
	t0 := time.Unix(1000, 0)
	h := newHeldBatches()
	h.add(7, t0)
	h.add(3, t0.Add(40*time.Millisecond))
	h.add(9, t0.Add(90*time.Millisecond))
	if ids := h.due(t0.Add(99*time.Millisecond), 100*time.Millisecond); len(ids) != 0 {
		t.Errorf("due before the age: %v", ids)
	}
	if ids := h.due(t0.Add(140*time.Millisecond), 100*time.Millisecond); fmt.Sprint(ids) != "[3 7]" {
		t.Errorf("due at 140ms = %v, want [3 7]", ids)
	}
	// 3 and 7 restarted at 140 ms; 9 is due at 190 ms.
	if ids := h.due(t0.Add(200*time.Millisecond), 100*time.Millisecond); fmt.Sprint(ids) != "[9]" {
		t.Errorf("due at 200ms = %v, want [9]", ids)
	}
	h.remove(3)
	if ids := h.due(t0.Add(300*time.Millisecond), 100*time.Millisecond); fmt.Sprint(ids) != "[7 9]" {
		t.Errorf("due at 300ms = %v, want [7 9] (3 was removed)", ids)
	}
}
