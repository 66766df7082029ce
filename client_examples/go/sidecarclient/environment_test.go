package sidecarclient

import (
	"testing"
	"time"
)

func (hs *harness) dialedAddress() string {
	hs.t.Helper()
	select {
	case a := <-hs.dialed:
		return a
	case <-time.After(waitFor):
		hs.t.Fatal("Run dialed nothing")
		return ""
	}
}

func unsetTargetAndName(c *Config) { c.Target, c.HandlerName = "", "" }

func TestTargetAndHandlerNameComeFromTheEnvironment(t *testing.T) {
	t.Setenv("SIDECAR_ADDRESS", "passthrough:///sidecar-from-env:50051")
	t.Setenv("HANDLER_NAME", "orders")
	hs := startHarness(t, ackAll, withConfig(unsetTargetAndName))
	fs := hs.nextStream()
	if got := hs.dialedAddress(); got != "sidecar-from-env:50051" {
		t.Errorf("dialed %q, want SIDECAR_ADDRESS's sidecar-from-env:50051", got)
	}
	if got := fs.subscribe.GetHandlerName(); got != "orders" {
		t.Errorf("Subscribe.handler_name = %q, want HANDLER_NAME's orders", got)
	}
}

func TestDefaultsWithoutEnvironment(t *testing.T) {
	// Set but empty counts as unset.
	t.Setenv("SIDECAR_ADDRESS", "")
	t.Setenv("HANDLER_NAME", "")
	hs := startHarness(t, ackAll, withConfig(unsetTargetAndName))
	fs := hs.nextStream()
	if got := hs.dialedAddress(); got != DefaultTarget {
		t.Errorf("dialed %q, want %q", got, DefaultTarget)
	}
	if got := fs.subscribe.GetHandlerName(); got != DefaultHandlerName {
		t.Errorf("Subscribe.handler_name = %q, want %q", got, DefaultHandlerName)
	}
}

func TestConfigOverridesTheEnvironment(t *testing.T) {
	t.Setenv("SIDECAR_ADDRESS", "passthrough:///from-env")
	t.Setenv("HANDLER_NAME", "from-env")
	hs := startHarness(t, ackAll) // Target and HandlerName set by the harness
	fs := hs.nextStream()
	if got := hs.dialedAddress(); got != "fake-sidecar" {
		t.Errorf("dialed %q, want Config.Target's fake-sidecar", got)
	}
	if got := fs.subscribe.GetHandlerName(); got != "test-handler" {
		t.Errorf("Subscribe.handler_name = %q, want Config.HandlerName's", got)
	}
}
