package leaktest_test

import (
	"testing"
	"time"

	"github.com/leaksafe/leaksafe/leaktest"
)

// TestMain fails the test binary if any test or example leaves a goroutine behind.
func TestMain(m *testing.M) {
	leaktest.VerifyTestMain(m)
}

// deadline bounds every wait in a test, so that a bug fails the test instead of hanging it. It is
// never used to measure speed.
const deadline = 10 * time.Second

// waitClosed fails t unless ch is closed within the deadline.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
		t.Fatalf("%s: not closed within %v", what, deadline)
	}
}
