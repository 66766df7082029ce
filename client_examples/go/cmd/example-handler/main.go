// example-handler: a kafka-sidecar handler that decodes each message as a
// UTF-8 JSON object, folds its numeric fields into running totals, rejects
// (dead-letters) what does not parse, with the parse error as the reason,
// and retries once, after 50 ms, an object carrying "fail_once": true.
//
// Settings come from the environment, through the helper's defaults:
//
//	SIDECAR_ADDRESS  gRPC target of the sidecar (default 127.0.0.1:50051;
//	                 unix:/path for a Unix socket)
//	HANDLER_NAME     name shown in the sidecar's stats (default go-example)
//
// It runs until SIGTERM or SIGINT (the helper handles both), then stops
// taking new batches, settles what it holds and exits 0.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/kafka-sidecar/kafka-sidecar/client_examples/go/sidecarclient"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	name := os.Getenv("HANDLER_NAME")
	if name == "" {
		name = "go-example"
	}

	totals := &Totals{}
	counts := &sidecarclient.Counts{}
	done := make(chan struct{})
	go reportProgress(logger, counts, totals, done)
	err := sidecarclient.Run(context.Background(), sidecarclient.Config{
		HandlerName: name,
		Handler: func(_ context.Context, msg *sidecarclient.Message) error {
			return handle(msg, totals)
		},
		Logger: logger,
		Counts: counts,
	})
	close(done)
	logProgress(logger, counts, totals)
	if err != nil {
		logger.Error("handler failed", "error", err)
		os.Exit(1)
	}
	logger.Info("stopped cleanly")
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
		"processed", counts.Processed.Load(), "failed", counts.Failed.Load(),
		"retried", counts.Retried.Load(), "batches", counts.Batches.Load(),
		"streams", counts.Streams.Load(),
		"numeric_sum", totals.NumericSum.Load(), "digest", totals.Digest.Load())
}
