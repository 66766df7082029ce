package sidecarclient

import (
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	pb "github.com/kafka-sidecar/kafka-sidecar/client_examples/go/gen/sidecarv1"
)

func TestPartitionPausedIsLoggedAndUnknownResponsesAreIgnored(t *testing.T) {
	var log lockedBuffer
	hs := startHarness(t, ackAll, withConfig(func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	}))
	fs := hs.nextStream()
	fs.send <- &pb.ConsumeResponse{Response: &pb.ConsumeResponse_Paused{Paused: &pb.PartitionPaused{
		Partition: &pb.TopicPartition{Topic: "orders", Partition: 2},
		Reason:    "error threshold: 10 errors within 60000 ms", ResumeInMs: 30000,
	}}}
	// A response kind newer than this helper: field 99, an empty message.
	newer := &pb.ConsumeResponse{}
	newer.ProtoReflect().SetUnknown(protowire.AppendBytes(protowire.AppendTag(nil, 99, protowire.BytesType), nil))
	fs.send <- newer
	fs.send <- &pb.ConsumeResponse{}
	fs.sendBatch(1, 0, "still flowing")

	// Responses are read in order: once the batch is settled, the pause was
	// logged and the unknown kinds passed over.
	if s := fs.nextSettle(t).GetSettlements(); s[0].GetBatchId() != 1 || s[0].GetOutcome() != pb.Outcome_OUTCOME_ACK {
		t.Errorf("settled %v", s)
	}
	const want = "kafka-sidecar paused orders/2 for 30000 ms: error threshold: 10 errors within 60000 ms"
	if n := strings.Count(log.String(), want); n != 1 {
		t.Errorf("log has %q %d times, want once; log:\n%s", want, n, log.String())
	}
	if n := hs.counts.Streams.Load(); n != 1 {
		t.Errorf("Counts.Streams = %d: an unknown response ended the stream", n)
	}
}
