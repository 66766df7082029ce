// example-handler: a kafka-sidecar handler that decodes each message as a
// UTF-8 JSON object, folds its numeric fields into running totals, and
// rejects (dead-letters) what does not parse, with the parse error as the
// reason.
//
// Settings come from the environment:
//
//	SIDECAR_ADDRESS  gRPC target of the sidecar (default 127.0.0.1:50051;
//	                 unix:/path for a Unix socket)
//	HANDLER_NAME     name shown in the sidecar's stats (default go-example)
//
// It runs until SIGTERM or SIGINT, then stops taking new batches, settles
// what it holds and exits 0.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"kafka-sidecar/client_examples/go/sidecarclient"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	target := envOr("SIDECAR_ADDRESS", "127.0.0.1:50051")
	name := envOr("HANDLER_NAME", "go-example")

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	totals := &Totals{}
	counts := &sidecarclient.Counts{}
	handler := func(_ context.Context, msg *sidecarclient.Message) (bool, error) {
		if err := process(msg.Value, totals); err != nil {
			return false, sidecarclient.Reject(err)
		}
		return true, nil
	}

	done := make(chan struct{})
	go reportProgress(logger, counts, totals, done)
	logger.Info("starting", "target", target, "handler_name", name)
	err := sidecarclient.Run(ctx, sidecarclient.Config{
		Target: target, HandlerName: name, Handler: handler, Logger: logger, Counts: counts,
	})
	close(done)
	logProgress(logger, counts, totals)
	if err != nil {
		logger.Error("handler failed", "error", err)
		os.Exit(1)
	}
	logger.Info("stopped cleanly")
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

func reportProgress(logger *slog.Logger, counts *sidecarclient.Counts, totals *Totals, done <-chan struct{}) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			logProgress(logger, counts, totals)
		}
	}
}

func logProgress(logger *slog.Logger, counts *sidecarclient.Counts, totals *Totals) {
	logger.Info("progress",
		"acked", counts.Acked.Load(), "rejected", counts.Rejected.Load(),
		"retried", counts.Retried.Load(), "batches", counts.Batches.Load(),
		"streams", counts.Streams.Load(),
		"numeric_sum", totals.NumericSum.Load(), "digest", totals.Digest.Load())
}
