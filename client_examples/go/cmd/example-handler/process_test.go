package main

import (
	"strings"
	"testing"
)

func TestProcessSumsNumericFields(t *testing.T) {
	var totals Totals
	if err := process([]byte(`{"id": 7, "amount": 3, "name": "item-7", "tags": ["a"]}`), &totals); err != nil {
		t.Fatal(err)
	}
	if got := totals.NumericSum.Load(); got != 10 {
		t.Errorf("NumericSum = %d, want 10", got)
	}
	if totals.Messages.Load() != 1 || totals.Digest.Load() == 0 {
		t.Errorf("Messages = %d, Digest = %d", totals.Messages.Load(), totals.Digest.Load())
	}
}

func TestProcessRejectsWhatDoesNotParse(t *testing.T) {
	for _, value := range []string{`{"id": 499, "amount": `, `null`, `[1]`, "\xff{}"} {
		var totals Totals
		err := process([]byte(value), &totals)
		if err == nil || !strings.HasPrefix(err.Error(), "invalid JSON") {
			t.Errorf("%q: err = %v, want an invalid JSON error", value, err)
		}
		if totals.Messages.Load() != 0 {
			t.Errorf("%q counted as processed", value)
		}
	}
}
