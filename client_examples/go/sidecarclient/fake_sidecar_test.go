package sidecarclient

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/kafka-sidecar/kafka-sidecar/client_examples/go/gen/sidecarv1"
)

// waitFor bounds every wait of the tests: a broken helper fails, never hangs.
const waitFor = 10 * time.Second

// fakeSidecar is an in-process ConsumerSidecar: each Consume call becomes a
// fakeStream the test drives by hand.
type fakeSidecar struct {
	pb.UnimplementedConsumerSidecarServer
	streams chan *fakeStream
	// ackTimeoutMs and ordering go out in every Subscribed (ack timeout
	// 0 = none: no Extends).
	ackTimeoutMs uint32
	ordering     pb.Ordering
}

type fakeStream struct {
	subscribe *pb.Subscribe
	send      chan *pb.ConsumeResponse
	settles   chan *pb.Settle
	extends   chan *pb.Extend
	// end ends the call with the given status (nil = OK).
	end chan error
	// halfClosed is closed when the handler closed its side of the stream.
	halfClosed chan struct{}
}

func (f *fakeSidecar) Consume(stream grpc.BidiStreamingServer[pb.ConsumeRequest, pb.ConsumeResponse]) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	fs := &fakeStream{
		subscribe:  first.GetSubscribe(),
		send:       make(chan *pb.ConsumeResponse, 100),
		settles:    make(chan *pb.Settle, 1000),
		extends:    make(chan *pb.Extend, 1000),
		end:        make(chan error, 1),
		halfClosed: make(chan struct{}),
	}
	if err := stream.Send(&pb.ConsumeResponse{Response: &pb.ConsumeResponse_Subscribed{
		Subscribed: &pb.Subscribed{StreamId: "s", GroupId: "g", AckTimeoutMs: f.ackTimeoutMs, Ordering: f.ordering}}}); err != nil {
		return err
	}
	go func() {
		defer close(fs.halfClosed)
		for {
			req, err := stream.Recv()
			if err != nil {
				return
			}
			if s := req.GetSettle(); s != nil {
				fs.settles <- s
			}
			if e := req.GetExtend(); e != nil {
				fs.extends <- e
			}
		}
	}()
	f.streams <- fs
	for {
		select {
		case r := <-fs.send:
			if err := stream.Send(r); err != nil {
				return err
			}
		case err := <-fs.end:
			return err
		case <-fs.halfClosed:
			return nil
		case <-stream.Context().Done():
			return nil
		}
	}
}

// harness runs the helper's Run against a fakeSidecar over bufconn.
type harness struct {
	t      *testing.T
	fake   *fakeSidecar
	counts *Counts
	cancel context.CancelFunc
	done   chan error
	dialed chan string
}

// harnessOption changes the fake sidecar or the Config of a harness.
type harnessOption func(*fakeSidecar, *Config)

func withAckTimeoutMs(ms uint32) harnessOption {
	return func(f *fakeSidecar, _ *Config) { f.ackTimeoutMs = ms }
}

func withOrdering(o pb.Ordering) harnessOption {
	return func(f *fakeSidecar, _ *Config) { f.ordering = o }
}

func withConfig(change func(*Config)) harnessOption {
	return func(_ *fakeSidecar, c *Config) { change(c) }
}

// startHarness runs Run against a fake sidecar that announces
// ORDERING_PARTITION (the sidecar's default) unless an option says otherwise.
func startHarness(t *testing.T, h Handler, opts ...harnessOption) *harness {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	// The addresses Run dialed (the first few: enough for a test to read).
	dialed := make(chan string, 10)
	srv := grpc.NewServer()
	fake := &fakeSidecar{streams: make(chan *fakeStream, 10), ordering: pb.Ordering_ORDERING_PARTITION}
	cfg := Config{
		Target:         "passthrough:///fake-sidecar",
		HandlerName:    "test-handler",
		Handler:        h,
		InitialBackoff: 10 * time.Millisecond,
		MaxBackoff:     50 * time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		DialOptions: []grpc.DialOption{grpc.WithContextDialer(
			func(ctx context.Context, addr string) (net.Conn, error) {
				select {
				case dialed <- addr:
				default:
				}
				return lis.DialContext(ctx)
			})},
	}
	for _, o := range opts {
		o(fake, &cfg)
	}
	pb.RegisterConsumerSidecarServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()

	ctx, cancel := context.WithCancel(context.Background())
	hs := &harness{t: t, fake: fake, counts: &Counts{}, cancel: cancel, done: make(chan error, 1), dialed: dialed}
	cfg.Counts = hs.counts
	go func() { hs.done <- Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-hs.done:
		case <-time.After(waitFor):
			t.Error("Run did not return after cancel")
		}
		srv.Stop()
	})
	return hs
}

func (hs *harness) nextStream() *fakeStream {
	hs.t.Helper()
	select {
	case fs := <-hs.fake.streams:
		return fs
	case <-time.After(waitFor):
		hs.t.Fatal("no Consume stream opened")
		return nil
	}
}

func (hs *harness) runResult() error {
	hs.t.Helper()
	select {
	case err := <-hs.done:
		hs.done <- err // Cleanup reads it again
		return err
	case <-time.After(waitFor):
		hs.t.Fatal("Run did not return")
		return nil
	}
}

func (fs *fakeStream) nextSettle(t *testing.T) *pb.Settle {
	t.Helper()
	select {
	case s := <-fs.settles:
		return s
	case <-time.After(waitFor):
		t.Fatal("no Settle received")
		return nil
	}
}

func (fs *fakeStream) sendBatch(id uint64, partition int32, values ...string) {
	fs.sendBatchAt(id, partition, 0, values...)
}

// sendBatchAt sends a batch of messages at offsets first, first+1, ...
func (fs *fakeStream) sendBatchAt(id uint64, partition int32, first int64, values ...string) {
	b := &pb.Batch{BatchId: id, Topic: "t", Partition: partition}
	for i, v := range values {
		b.Messages = append(b.Messages, &pb.Message{Offset: first + int64(i), Value: []byte(v), DeliveryAttempt: 1})
	}
	fs.send <- &pb.ConsumeResponse{Response: &pb.ConsumeResponse_Batch{Batch: b}}
}

func (fs *fakeStream) sendMessages(id uint64, partition int32, msgs ...*pb.Message) {
	fs.send <- &pb.ConsumeResponse{Response: &pb.ConsumeResponse_Batch{Batch: &pb.Batch{
		BatchId: id, Topic: "t", Partition: partition, Messages: msgs}}}
}

func (fs *fakeStream) sendDraining() {
	fs.send <- &pb.ConsumeResponse{Response: &pb.ConsumeResponse_Draining{Draining: &pb.Draining{DeadlineMs: 5000}}}
}

// settlementsByBatch collects settles until n batches have one.
func (fs *fakeStream) settlementsByBatch(t *testing.T, n int) map[uint64][]*pb.Settlement {
	t.Helper()
	got := map[uint64][]*pb.Settlement{}
	for len(got) < n {
		s := fs.nextSettle(t)
		ids := map[uint64]bool{}
		for _, x := range s.GetSettlements() {
			ids[x.GetBatchId()] = true
			got[x.GetBatchId()] = append(got[x.GetBatchId()], x)
		}
		if len(ids) != 1 {
			t.Fatalf("a Settle should carry one batch, got %v", s)
		}
	}
	return got
}

// lockedBuffer is a log destination that handlers on several goroutines may
// write to while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
