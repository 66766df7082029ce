package sidecarclient

import (
	"context"
	"slices"
	"sync"
	"time"

	pb "github.com/kafka-sidecar/kafka-sidecar/client_examples/go/gen/sidecarv1"
)

// heldBatches are one stream's batches handed to partition workers and not
// yet settled or given up, each with when it was sent or last extended. A
// batch queued behind a slow one counts: its sidecar deadline runs from when
// the sidecar sent it.
type heldBatches struct {
	mu    sync.Mutex
	since map[uint64]time.Time
}

func newHeldBatches() *heldBatches {
	return &heldBatches{since: map[uint64]time.Time{}}
}

func (h *heldBatches) add(id uint64, now time.Time) {
	h.mu.Lock()
	h.since[id] = now
	h.mu.Unlock()
}

func (h *heldBatches) remove(id uint64) {
	h.mu.Lock()
	delete(h.since, id)
	h.mu.Unlock()
}

// due returns, in id order, the batches held for at least age and restarts
// their clocks at now.
func (h *heldBatches) due(now time.Time, age time.Duration) []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []uint64
	for id, since := range h.since {
		if now.Sub(since) >= age {
			ids = append(ids, id)
			h.since[id] = now
		}
	}
	slices.Sort(ids)
	return ids
}

// extendHeld sends one Extend for the batches held half of ackTimeout, every
// max(ackTimeout/4, 20ms), until ctx ends or send fails (the stream's writes
// are closed). Half the timeout leaves the other half for the Extend to
// arrive.
func extendHeld(ctx context.Context, ackTimeout time.Duration, held *heldBatches,
	send func(*pb.ConsumeRequest) error) {
	half := ackTimeout / 2
	ticker := time.NewTicker(max(ackTimeout/4, 20*time.Millisecond))
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			ids := held.due(time.Now(), half)
			if len(ids) == 0 {
				continue
			}
			// ExtendMs 0 = another ack_timeout_ms from now.
			req := &pb.ConsumeRequest{Request: &pb.ConsumeRequest_Extend{Extend: &pb.Extend{BatchIds: ids}}}
			if err := send(req); err != nil {
				return
			}
		}
	}
}
