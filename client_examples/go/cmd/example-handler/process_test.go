package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kafka-sidecar/kafka-sidecar/client_examples/go/sidecarclient"
)

func message(value string, attempt uint32) *sidecarclient.Message {
	return &sidecarclient.Message{Topic: "orders", Value: []byte(value), DeliveryAttempt: attempt}
}

func TestHandleSumsNumericFields(t *testing.T) {
	var totals Totals
	if err := handle(message(`{"id": 7, "amount": 3, "name": "item-7", "tags": ["a"]}`, 1), &totals); err != nil {
		t.Fatal(err)
	}
	if got := totals.NumericSum.Load(); got != 10 {
		t.Errorf("NumericSum = %d, want 10", got)
	}
	if totals.Messages.Load() != 1 || totals.Digest.Load() == 0 {
		t.Errorf("Messages = %d, Digest = %d", totals.Messages.Load(), totals.Digest.Load())
	}
}

func TestHandleRejectsWhatDoesNotParse(t *testing.T) {
	cases := map[string]*sidecarclient.Message{
		"truncated":  message(`{"id": 499, "amount": `, 1),
		"null":       message(`null`, 1),
		"array":      message(`[1]`, 1),
		"not UTF-8":  message("\xff{}", 1),
		"empty":      message(``, 1),
		"tombstone":  {Topic: "orders", DeliveryAttempt: 1},
		"fail_once!": message(`{"fail_once": tru`, 1),
	}
	for name, m := range cases {
		var totals Totals
		err := handle(m, &totals)
		var reject *sidecarclient.RejectError
		if !errors.As(err, &reject) || !strings.HasPrefix(err.Error(), "invalid JSON") {
			t.Errorf("%s: err = %v, want a Reject with an invalid JSON reason", name, err)
		}
		if totals.Messages.Load() != 0 {
			t.Errorf("%s: counted as processed", name)
		}
	}
}

func TestFailOnceIsRetriedAfter50msOnTheFirstDeliveryOnly(t *testing.T) {
	const value = `{"id": 1, "amount": 5, "fail_once": true}`
	for _, attempt := range []uint32{0, 1} {
		var totals Totals
		err := handle(message(value, attempt), &totals)
		var retry *sidecarclient.RetryError
		if !errors.As(err, &retry) {
			t.Fatalf("attempt %d: err = %v, want a RetryError", attempt, err)
		}
		if retry.After != 50*time.Millisecond || err.Error() != "transient failure (fail_once)" {
			t.Errorf("attempt %d: retry after %v, reason %q", attempt, retry.After, err.Error())
		}
		if totals.Messages.Load() != 0 {
			t.Errorf("attempt %d: a retried message was folded into the totals", attempt)
		}
	}
	var totals Totals
	if err := handle(message(value, 2), &totals); err != nil {
		t.Fatalf("second delivery: %v, want it processed", err)
	}
	if totals.Messages.Load() != 1 || totals.NumericSum.Load() != 6 {
		t.Errorf("second delivery: Messages = %d, NumericSum = %d", totals.Messages.Load(), totals.NumericSum.Load())
	}
	// fail_once other than true is an ordinary field.
	if err := handle(message(`{"fail_once": false}`, 1), &totals); err != nil {
		t.Errorf(`"fail_once": false: %v`, err)
	}
}
