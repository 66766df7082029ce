package sidecarclient

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	pb "github.com/kafka-sidecar/kafka-sidecar/client_examples/go/gen/sidecarv1"
)

func TestNullAndEmptyKeysValuesAndHeadersStayDistinct(t *testing.T) {
	var mu sync.Mutex
	var got []*Message
	// A naive handler: a tombstone's nil value fails to parse and is
	// rejected like any malformed value, nothing in the helper trips on it.
	hs := startHarness(t, func(_ context.Context, m *Message) error {
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		var v map[string]any
		if err := json.Unmarshal(m.Value, &v); err != nil {
			return Reject(err)
		}
		return nil
	})
	fs := hs.nextStream()
	fs.sendMessages(1, 0,
		&pb.Message{Offset: 0, DeliveryAttempt: 1,
			Headers: []*pb.Header{{Key: "null"}, {Key: "empty", Value: []byte{}}}},
		&pb.Message{Offset: 1, DeliveryAttempt: 1, Key: []byte{}, Value: []byte{}},
		&pb.Message{Offset: 2, DeliveryAttempt: 1, Key: []byte("k"), Value: []byte(`{}`)},
	)
	s := fs.nextSettle(t).GetSettlements()
	checkSettlements(t, 1, s, []wantSettlement{
		{pb.Outcome_OUTCOME_ACK, "[2]", "", 0},
		{pb.Outcome_OUTCOME_REJECT, "[0 1]", "unexpected end of JSON input", 0},
	})

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("handled %d messages, want 3", len(got))
	}
	null, empty, set := got[0], got[1], got[2]
	if null.Key != nil || null.Value != nil || !null.IsTombstone() {
		t.Errorf("absent key/value: Key %#v, Value %#v, IsTombstone %v; want nil, nil, true",
			null.Key, null.Value, null.IsTombstone())
	}
	if empty.Key == nil || len(empty.Key) != 0 || empty.Value == nil || len(empty.Value) != 0 || empty.IsTombstone() {
		t.Errorf("empty key/value: Key %#v, Value %#v, IsTombstone %v; want empty non-nil, not a tombstone",
			empty.Key, empty.Value, empty.IsTombstone())
	}
	if string(set.Key) != "k" || string(set.Value) != "{}" {
		t.Errorf("key/value: %q %q", set.Key, set.Value)
	}
	if h := null.Headers; len(h) != 2 || h[0].Key != "null" || h[0].Value != nil ||
		h[1].Key != "empty" || h[1].Value == nil || len(h[1].Value) != 0 {
		t.Errorf("headers: %#v, want a null and an empty value", h)
	}
}
