package sidecarclient

import (
	"context"
	"sync"

	pb "github.com/kafka-sidecar/kafka-sidecar/client_examples/go/gen/sidecarv1"
)

// workerMode says how far a partition worker goes with what it has queued.
type workerMode int

const (
	modeRun         workerMode = iota // take batches as they come
	modeFinishQueue                   // Draining: process what is queued, then exit
	modeFinishBatch                   // stop: finish the current batch only, then exit
)

// partitionWorker is one goroutine per partition: batches of a partition are
// processed one after another in arrival order (the sidecar sends them in
// offset order), while different partitions' workers run concurrently.
type partitionWorker struct {
	mu    sync.Mutex
	cond  *sync.Cond
	queue []*pb.Batch
	mode  workerMode
}

func newPartitionWorker() *partitionWorker {
	w := &partitionWorker{}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// push never blocks, so the stream's reader is never held up by a slow
// partition (the sidecar's in-flight window bounds the queue).
func (w *partitionWorker) push(b *pb.Batch) {
	w.mu.Lock()
	w.queue = append(w.queue, b)
	w.mu.Unlock()
	w.cond.Signal()
}

func (w *partitionWorker) setMode(m workerMode) {
	w.mu.Lock()
	if m > w.mode {
		w.mode = m
	}
	w.mu.Unlock()
	w.cond.Signal()
}

// next returns the batch to process, or nil when the worker is to exit.
func (w *partitionWorker) next(ctx context.Context) *pb.Batch {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		if ctx.Err() != nil || w.mode == modeFinishBatch {
			return nil
		}
		if len(w.queue) > 0 {
			b := w.queue[0]
			w.queue[0] = nil
			w.queue = w.queue[1:]
			return b
		}
		if w.mode == modeFinishQueue {
			return nil
		}
		w.cond.Wait()
	}
}

// wakeOnDone lets a worker blocked in next see ctx's end.
func (w *partitionWorker) wakeOnDone(ctx context.Context) {
	<-ctx.Done()
	w.mu.Lock()
	w.mu.Unlock() //nolint:staticcheck // orders the broadcast after a waiter's check
	w.cond.Broadcast()
}

// run processes batches until next says stop; settle sends each batch's
// settlements (one Settle per batch). release is told of every batch the
// worker is done with: settled, cut off, or left queued when it exits (the
// sidecar takes those back with the stream).
func (w *partitionWorker) run(ctx context.Context, h Handler, ordering pb.Ordering, counts *Counts,
	settle func([]*pb.Settlement) error, release func(batchID uint64)) {
	defer w.releaseQueued(release)
	for {
		b := w.next(ctx)
		if b == nil {
			return
		}
		s, t, ok := processBatch(ctx, h, b, ordering)
		if !ok {
			release(b.GetBatchId())
			return
		}
		err := settle(s)
		release(b.GetBatchId())
		if err != nil {
			return
		}
		t.addTo(counts)
		counts.Batches.Add(1)
	}
}

func (w *partitionWorker) releaseQueued(release func(batchID uint64)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.queue {
		release(b.GetBatchId())
	}
}
