package sidecarclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/kafka-sidecar/kafka-sidecar/client_examples/go/gen/sidecarv1"
)

// DefaultTarget is the sidecar's address when neither Config.Target nor
// SIDECAR_ADDRESS names one.
const DefaultTarget = "127.0.0.1:50051"

// DefaultHandlerName is the stream's name in the sidecar's stats when neither
// Config.HandlerName nor HANDLER_NAME names one.
const DefaultHandlerName = "go-handler"

// Config of Run. Handler is required; zero values of the rest take the
// defaults noted (window sizes: the sidecar's configured values), so a
// deployment configures a handler through its environment alone.
type Config struct {
	Handler Handler
	// gRPC target: "127.0.0.1:50051", "unix:/run/sidecar.sock", ...
	// Empty = $SIDECAR_ADDRESS, else DefaultTarget.
	Target string
	// Shown in the sidecar's stats. Empty = $HANDLER_NAME, else
	// DefaultHandlerName.
	HandlerName string

	MaxInFlightMessages uint32
	MaxBatchMessages    uint32
	// Topics this handler takes; empty = all the sidecar consumes.
	Topics []string

	// Reconnect backoff: doubles from InitialBackoff (100ms) up to
	// MaxBackoff (5s), and starts over once a stream is subscribed.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// How long a graceful stop waits for the sidecar to end the stream after
	// the handler closed its side (5s).
	CloseTimeout time.Duration
	// Run stops gracefully on SIGTERM and SIGINT, as on a cancelled ctx.
	// DisableSignals leaves signals alone: the caller owns them and cancels
	// ctx itself.
	DisableSignals bool

	// Extra dial options (tests dial an in-process server). Without any
	// transport credentials option the connection is plaintext.
	DialOptions []grpc.DialOption
	Logger      *slog.Logger
	// Counts, if set, receives the running counters (else Run keeps its own).
	Counts *Counts
}

// Counts of this process's work, in the sidecar's meanings (GetStats'
// messages_processed, messages_retried, messages_failed), counted once the
// settlement was sent; safe to read while Run runs.
type Counts struct {
	// Messages settled ACK.
	Processed atomic.Uint64
	// Messages the handler settled RETRY: not the later messages of a batch
	// left unsettled after a RETRY under ORDERING_PARTITION, which the
	// sidecar delivers again (its redeliveries.rewind).
	Retried atomic.Uint64
	// Messages settled REJECT. The sidecar's messages_failed also counts
	// messages it gave up on after max_retries.
	Failed atomic.Uint64
	// Batches settled, and streams subscribed (1 + reconnects).
	Batches, Streams atomic.Uint64
}

// Run handles messages until ctx is cancelled, SIGTERM or SIGINT arrives
// (unless DisableSignals), or the sidecar drains, and returns nil in all
// three cases once what it held is settled. A dropped stream is reconnected
// with exponential backoff. It returns an error only for an invalid Config
// or a connection that cannot be created.
//
// On cancel or a signal it stops taking new batches, finishes the one each
// partition is working on, settles it and closes the stream; batches not
// started go back to the sidecar with the stream. On Draining it processes
// and settles every batch it holds, then closes the stream. Batches held for
// half the sidecar's ack timeout are extended by another one.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Handler == nil {
		return errors.New("sidecarclient: Config.Handler is nil")
	}
	if cfg.Target == "" {
		cfg.Target = envOr("SIDECAR_ADDRESS", DefaultTarget)
	}
	if cfg.HandlerName == "" {
		cfg.HandlerName = envOr("HANDLER_NAME", DefaultHandlerName)
	}
	if !cfg.DisableSignals {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
		defer stop()
	}
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Counts == nil {
		cfg.Counts = &Counts{}
	}
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, cfg.DialOptions...)
	conn, err := grpc.NewClient(cfg.Target, opts...)
	if err != nil {
		return fmt.Errorf("sidecarclient: target %q: %w", cfg.Target, err)
	}
	defer conn.Close()
	cfg.Logger.Info("connecting", "target", cfg.Target, "handler_name", cfg.HandlerName)
	c := &client{cfg: cfg, stub: pb.NewConsumerSidecarClient(conn)}

	backoff := cfg.InitialBackoff
	for {
		res, err := c.session(ctx)
		switch res {
		case sessionDrained:
			cfg.Logger.Info("sidecar drained; settled what was held")
			return nil
		case sessionStopped:
			return nil
		case sessionSubscribed:
			backoff = cfg.InitialBackoff
		}
		if ctx.Err() != nil {
			return nil
		}
		cfg.Logger.Warn("stream ended; reconnecting", "error", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(backoff*2, cfg.MaxBackoff)
	}
}

// testHookFinishing, when set, runs once the workers were told to finish:
// tests release their blocked handlers only then.
var testHookFinishing func()

// errWritesClosed: the handler closed its side of the stream.
var errWritesClosed = errors.New("sidecarclient: the stream's writes are closed")

type client struct {
	cfg  Config
	stub pb.ConsumerSidecarClient
}

type sessionResult int

const (
	sessionFailed     sessionResult = iota // never subscribed
	sessionSubscribed                      // subscribed, then the stream dropped
	sessionDrained
	sessionStopped
)

type received struct {
	resp *pb.ConsumeResponse
	err  error
}

// session is one stream's life.
func (c *client) session(ctx context.Context) (sessionResult, error) {
	// The stream outlives ctx: a stop still settles over it.
	sctx, cancel := context.WithCancel(context.Background())
	var extender sync.WaitGroup
	defer func() {
		cancel()
		extender.Wait()
	}()
	stream, err := c.stub.Consume(sctx)
	if err != nil {
		return sessionFailed, err
	}
	var sendMu sync.Mutex // a gRPC stream allows one sender at a time
	writesClosed := false // guarded by sendMu
	send := func(req *pb.ConsumeRequest) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		if writesClosed {
			return errWritesClosed
		}
		return stream.Send(req)
	}
	if err := send(&pb.ConsumeRequest{Request: &pb.ConsumeRequest_Subscribe{Subscribe: &pb.Subscribe{
		HandlerName:         c.cfg.HandlerName,
		MaxInFlightMessages: c.cfg.MaxInFlightMessages,
		MaxBatchMessages:    c.cfg.MaxBatchMessages,
		Topics:              c.cfg.Topics,
	}}}); err != nil {
		return sessionFailed, streamError(stream, err)
	}

	recv := make(chan received)
	go func() {
		for {
			resp, err := stream.Recv()
			select {
			case recv <- received{resp, err}:
			case <-sctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	result := sessionFailed
	extending := false
	// Read from Subscribed, which comes before any batch.
	ordering := pb.Ordering_ORDERING_UNSPECIFIED
	workers := map[string]*partitionWorker{}
	held := newHeldBatches()
	var wg sync.WaitGroup
	settle := func(s []*pb.Settlement) error {
		return send(&pb.ConsumeRequest{Request: &pb.ConsumeRequest_Settle{Settle: &pb.Settle{Settlements: s}}})
	}
	// finish lets every worker reach mode m, then closes this side and waits
	// for the sidecar to end the stream.
	finish := func(m workerMode) {
		for _, w := range workers {
			w.setMode(m)
		}
		if testHookFinishing != nil {
			testHookFinishing()
		}
		wg.Wait()
		sendMu.Lock()
		writesClosed = true
		_ = stream.CloseSend()
		sendMu.Unlock()
		t := time.NewTimer(c.cfg.CloseTimeout)
		defer t.Stop()
		for {
			select {
			case r := <-recv:
				if r.err != nil {
					return
				}
			case <-t.C:
				return
			}
		}
	}
	stopping := ctx.Done()
	for {
		select {
		case <-stopping:
			c.cfg.Logger.Info("stopping: finishing the current batches")
			finish(modeFinishBatch)
			return sessionStopped, nil
		case r := <-recv:
			if r.err != nil {
				// Workers see sctx end, drop what they hold (the sidecar
				// takes it back) and exit.
				cancel()
				wg.Wait()
				if errors.Is(r.err, io.EOF) {
					r.err = errors.New("the sidecar ended the stream")
				}
				return result, r.err
			}
			switch x := r.resp.GetResponse().(type) {
			case *pb.ConsumeResponse_Subscribed:
				result = sessionSubscribed
				ordering = x.Subscribed.GetOrdering()
				c.cfg.Counts.Streams.Add(1)
				c.cfg.Logger.Info("subscribed", "stream_id", x.Subscribed.GetStreamId(),
					"group_id", x.Subscribed.GetGroupId(), "topics", x.Subscribed.GetTopics(),
					"ack_timeout_ms", x.Subscribed.GetAckTimeoutMs(), "ordering", ordering)
				if ms := x.Subscribed.GetAckTimeoutMs(); ms > 0 && !extending {
					extending = true
					extender.Add(1)
					go func() {
						defer extender.Done()
						extendHeld(sctx, time.Duration(ms)*time.Millisecond, held, send)
					}()
				}
			case *pb.ConsumeResponse_Batch:
				key := fmt.Sprintf("%s/%d", x.Batch.GetTopic(), x.Batch.GetPartition())
				w := workers[key]
				if w == nil {
					w = newPartitionWorker()
					workers[key] = w
					wg.Add(1)
					go w.wakeOnDone(sctx)
					go func() {
						defer wg.Done()
						w.run(sctx, c.cfg.Handler, ordering, c.cfg.Counts, settle, held.remove)
					}()
				}
				// The sidecar's ack deadline runs from now, queued or not.
				held.add(x.Batch.GetBatchId(), time.Now())
				w.push(x.Batch)
			case *pb.ConsumeResponse_Assignment:
				c.cfg.Logger.Info("assignment changed",
					"assigned", len(x.Assignment.GetAssigned()), "revoked", len(x.Assignment.GetRevoked()))
			case *pb.ConsumeResponse_Paused:
				// Informational (nothing to settle), but the handler's log is
				// where a person looks for why messages stopped coming.
				p := x.Paused
				c.cfg.Logger.Warn(fmt.Sprintf("kafka-sidecar paused %s/%d for %d ms: %s",
					p.GetPartition().GetTopic(), p.GetPartition().GetPartition(),
					p.GetResumeInMs(), p.GetReason()))
			case *pb.ConsumeResponse_Draining:
				c.cfg.Logger.Info("sidecar draining: settling what is held",
					"deadline_ms", x.Draining.GetDeadlineMs())
				finish(modeFinishQueue)
				return sessionDrained, nil
			default:
				// A response kind newer than this helper: nothing it must act on.
			}
		}
	}
}

// streamError is the stream's real status when Send failed (Send reports
// only io.EOF).
func streamError(stream grpc.BidiStreamingClient[pb.ConsumeRequest, pb.ConsumeResponse], err error) error {
	if errors.Is(err, io.EOF) {
		if _, rerr := stream.Recv(); rerr != nil && !errors.Is(rerr, io.EOF) {
			return rerr
		}
	}
	return err
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
