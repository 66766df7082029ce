// Package sidecarclient runs a kafka-sidecar handler: the user supplies a
// function of one message, the package speaks the ConsumerSidecar stream.
//
// What a Handler returns settles its message:
//   - nil: ACK.
//   - an error wrapping a *RejectError (Reject, Rejectf): REJECT. The message
//     is given up on (dead-lettered when the sidecar has a dead-letter
//     topic); for poison messages that no retry will fix.
//   - an error wrapping a *RetryError (RetryAfter): RETRY after that delay.
//   - any other error, or a panic: RETRY after the sidecar's backoff.
//
// The error's text is the settlement's reason.
package sidecarclient

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Header is one Kafka record header; Value nil = a null header value.
type Header struct {
	Key   string
	Value []byte
}

// Message is one Kafka record as delivered by the sidecar.
//
// Key and Value keep Kafka's null apart from empty: nil is null (a null key;
// a tombstone value), a non-nil empty slice is an empty key or value.
type Message struct {
	Topic           string
	Partition       int32
	Offset          int64
	Key             []byte
	Value           []byte
	Headers         []Header
	TimestampMs     int64
	DeliveryAttempt uint32 // 1 on first delivery
}

// IsTombstone reports whether the record's value is null (a deletion marker
// on a compacted topic), as opposed to empty.
func (m *Message) IsTombstone() bool { return m.Value == nil }

// Handler processes one message; see the package comment for what its
// result means. ctx is cancelled when the stream the message came on is gone
// (its settlement could no longer be delivered).
type Handler func(ctx context.Context, msg *Message) error

// RejectError marks a message as poison: settled REJECT, never retried.
type RejectError struct{ Err error }

func (e *RejectError) Error() string { return e.Err.Error() }
func (e *RejectError) Unwrap() error { return e.Err }

// Reject wraps err so that the message is rejected with err's text as the
// reason.
func Reject(err error) error { return &RejectError{Err: err} }

// Rejectf is Reject(fmt.Errorf(format, args...)).
func Rejectf(format string, args ...any) error { return Reject(fmt.Errorf(format, args...)) }

// RetryError asks for the message to be delivered again after After
// (Settlement.retry_after_ms); After <= 0 leaves the delay to the sidecar's
// backoff, like a plain error.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("retry requested after %v", e.After)
	}
	return e.Err.Error()
}

func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter wraps err so that the message is retried after d, with err's
// text as the reason.
func RetryAfter(d time.Duration, err error) error { return &RetryError{After: d, Err: err} }

type outcome int

const (
	outcomeAck outcome = iota
	outcomeRetry
	outcomeReject
)

// verdict is what one handler call settles its message as.
type verdict struct {
	outcome      outcome
	reason       string
	retryAfterMs uint32
}

// invoke calls h and maps its result, or its panic, to a verdict.
func invoke(ctx context.Context, h Handler, msg *Message) (v verdict) {
	defer func() {
		if p := recover(); p != nil {
			v = verdict{outcome: outcomeRetry, reason: fmt.Sprintf("handler panic: %v", p)}
		}
	}()
	err := h(ctx, msg)
	if err == nil {
		return verdict{outcome: outcomeAck}
	}
	// A Reject anywhere in the chain wins over a RetryError: it says that no
	// retry will fix the message.
	var reject *RejectError
	if errors.As(err, &reject) {
		return verdict{outcome: outcomeReject, reason: err.Error()}
	}
	v = verdict{outcome: outcomeRetry, reason: err.Error()}
	var retry *RetryError
	if errors.As(err, &retry) {
		v.retryAfterMs = retryAfterMs(retry.After)
	}
	return v
}

// retryAfterMs rounds d up to whole milliseconds (so a delay that was asked
// for is never 0, the sidecar's "use your backoff") and caps it to the
// field's range.
func retryAfterMs(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return uint32(min(int64(ms), math.MaxUint32))
}
