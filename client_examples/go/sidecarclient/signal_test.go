package sidecarclient

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	pb "github.com/kafka-sidecar/kafka-sidecar/client_examples/go/gen/sidecarv1"
)

// raise sends sig to this process and waits until it was delivered. A
// channel of the test's own stays registered meanwhile, so a signal that Run
// does not (or no longer) catch never takes the test binary down.
func raise(t *testing.T, sig os.Signal) {
	t.Helper()
	delivered := make(chan os.Signal, 1)
	signal.Notify(delivered, sig)
	t.Cleanup(func() { signal.Stop(delivered) })
	if err := syscall.Kill(os.Getpid(), sig.(syscall.Signal)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-delivered:
	case <-time.After(waitFor):
		t.Fatalf("%v not delivered", sig)
	}
}

func TestSignalsStopRunAfterSettlingTheCurrentBatch(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			entered := make(chan struct{})
			gate := make(chan struct{})
			hs := startHarness(t, func(_ context.Context, m *Message) error {
				if string(m.Value) == "current" {
					close(entered)
					<-gate
				}
				return nil
			})
			testHookFinishing = func() { close(gate) }
			t.Cleanup(func() { testHookFinishing = nil })

			fs := hs.nextStream()
			fs.sendBatchAt(1, 0, 0, "current")
			fs.sendBatchAt(2, 0, 1, "not-started")
			select {
			case <-entered:
			case <-time.After(waitFor):
				t.Fatal("handler not called")
			}
			raise(t, sig)
			if err := hs.runResult(); err != nil {
				t.Fatalf("Run after %v: %v", sig, err)
			}
			select {
			case <-fs.halfClosed:
			case <-time.After(waitFor):
				t.Fatal("the handler did not close its side")
			}
			if n := len(fs.settles); n != 1 {
				t.Fatalf("%d Settles, want 1 (the current batch)", n)
			}
			if s := (<-fs.settles).GetSettlements(); s[0].GetBatchId() != 1 || s[0].GetOutcome() != pb.Outcome_OUTCOME_ACK {
				t.Errorf("settled %v", s)
			}
		})
	}
}

func TestDisableSignalsLeavesThemToTheCaller(t *testing.T) {
	hs := startHarness(t, ackAll, withConfig(func(c *Config) { c.DisableSignals = true }))
	fs := hs.nextStream()
	raise(t, syscall.SIGTERM)
	fs.sendBatch(1, 0, "after the signal")
	if s := fs.nextSettle(t).GetSettlements(); s[0].GetBatchId() != 1 {
		t.Errorf("settled %v", s)
	}
	select {
	case err := <-hs.done:
		hs.done <- err
		t.Errorf("Run returned (%v) on a signal it was told to leave alone", err)
	default:
	}
}
