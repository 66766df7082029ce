package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kafka-sidecar/kafka-sidecar/client_examples/go/sidecarclient"
)

// Totals is what the example "processes" into: running sums over every
// acked message, printed in the progress log.
type Totals struct {
	Messages atomic.Uint64
	// Sum of every numeric field, rounded to integers.
	NumericSum atomic.Int64
	// XOR of the per-message digests: order-independent, so partitions can
	// add to it concurrently.
	Digest atomic.Uint64
}

// failOnceDelay is how long a fail_once message waits before it comes back.
const failOnceDelay = 50 * time.Millisecond

// handle is the example's Handler: a message whose value is not a UTF-8 JSON
// object (a tombstone included) is rejected; an object with "fail_once":
// true stands for a transient failure on its first delivery and is retried
// after failOnceDelay; every other object is folded into totals and acked.
func handle(msg *sidecarclient.Message, totals *Totals) error {
	if msg.IsTombstone() {
		return sidecarclient.Rejectf("invalid JSON: tombstone (null value)")
	}
	doc, err := decode(msg.Value)
	if err != nil {
		return sidecarclient.Reject(err)
	}
	if failOnce, _ := doc["fail_once"].(bool); failOnce && msg.DeliveryAttempt <= 1 {
		return sidecarclient.RetryAfter(failOnceDelay, errors.New("transient failure (fail_once)"))
	}
	fold(doc, totals)
	return nil
}

// decode parses value as a JSON object.
func decode(value []byte) (map[string]any, error) {
	if !utf8.Valid(value) {
		return nil, fmt.Errorf("invalid JSON: not UTF-8")
	}
	var doc map[string]any
	if err := json.Unmarshal(value, &doc); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if doc == nil {
		return nil, fmt.Errorf("invalid JSON: not an object")
	}
	return doc, nil
}

// fold adds doc's numeric fields and digest to totals.
func fold(doc map[string]any, totals *Totals) {
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := fnv.New64a()
	var sum float64
	for _, k := range keys {
		h.Write([]byte(k))
		switch v := doc[k].(type) {
		case float64:
			sum += v
			fmt.Fprintf(h, "=%g;", v)
		default:
			fmt.Fprintf(h, "=%v;", v)
		}
	}
	totals.Messages.Add(1)
	totals.NumericSum.Add(int64(math.Round(sum)))
	digest := h.Sum64()
	for {
		old := totals.Digest.Load()
		if totals.Digest.CompareAndSwap(old, old^digest) {
			return
		}
	}
}
