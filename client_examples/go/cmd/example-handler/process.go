package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"sync/atomic"
	"unicode/utf8"
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

// process decodes value as a JSON object and folds it into totals. A value
// that is not UTF-8 JSON object text is an error (the caller rejects it).
func process(value []byte, totals *Totals) error {
	if !utf8.Valid(value) {
		return fmt.Errorf("invalid JSON: not UTF-8")
	}
	var doc map[string]any
	if err := json.Unmarshal(value, &doc); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if doc == nil {
		return fmt.Errorf("invalid JSON: not an object")
	}
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
			return nil
		}
	}
}
