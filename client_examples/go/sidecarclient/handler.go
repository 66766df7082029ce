// Package sidecarclient runs a kafka-sidecar handler: the user supplies a
// function of one message, the package speaks the ConsumerSidecar stream.
//
// Outcomes of a Handler call:
//   - (true, nil): ACK.
//   - (false, nil): RETRY; the sidecar redelivers after its backoff.
//   - (_, err): RETRY with err's text as the reason.
//   - (_, err) where err wraps a *RejectError (see Reject): REJECT, the
//     message is given up on (dead-lettered when the sidecar has a
//     dead-letter topic). For poison messages that no retry will fix.
//   - a panic: RETRY with the panic's text as the reason.
package sidecarclient

import (
	"context"
	"errors"
	"fmt"
)

// Header is one Kafka record header; Value nil = a null header value.
type Header struct {
	Key   string
	Value []byte
}

// Message is one Kafka record as delivered by the sidecar.
type Message struct {
	Topic     string
	Partition int32
	Offset    int64
	// Key nil = null key; Value nil = tombstone.
	Key             []byte
	Value           []byte
	Headers         []Header
	TimestampMs     int64
	DeliveryAttempt uint32
}

// Handler processes one message. ctx is cancelled when the stream the message
// came on is gone (its settlement could no longer be delivered).
type Handler func(ctx context.Context, msg *Message) (bool, error)

// RejectError marks a message as poison: settled REJECT, never retried.
type RejectError struct{ Err error }

func (e *RejectError) Error() string { return e.Err.Error() }
func (e *RejectError) Unwrap() error { return e.Err }

// Reject wraps err so that the message is rejected with err's text as the
// reason.
func Reject(err error) error { return &RejectError{Err: err} }

// Rejectf is Reject(fmt.Errorf(format, args...)).
func Rejectf(format string, args ...any) error { return Reject(fmt.Errorf(format, args...)) }

type outcome int

const (
	outcomeAck outcome = iota
	outcomeRetry
	outcomeReject
)

// invoke calls h and maps its result, or its panic, to an outcome and reason.
func invoke(ctx context.Context, h Handler, msg *Message) (o outcome, reason string) {
	defer func() {
		if p := recover(); p != nil {
			o, reason = outcomeRetry, fmt.Sprintf("handler panic: %v", p)
		}
	}()
	ok, err := h(ctx, msg)
	var reject *RejectError
	switch {
	case errors.As(err, &reject):
		return outcomeReject, err.Error()
	case err != nil:
		return outcomeRetry, err.Error()
	case ok:
		return outcomeAck, ""
	default:
		return outcomeRetry, "handler returned false"
	}
}
