package health_test

import (
	"testing"
	"time"

	"github.com/leaksafe/leaksafe/leaktest"
)

// TestMain fails the test binary if any test or example leaves a goroutine running, or one that the
// runtime's goroutine leak profile proves leaked, where the toolchain has it.
func TestMain(m *testing.M) {
	leaktest.VerifyTestMain(m)
}

// deadline bounds every wait in a test, so that a bug fails the test instead of hanging it. It is
// never used to measure speed.
const deadline = 5 * time.Second

// waitClosed fails t unless ch is closed within the deadline.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatalf("%s: received a value, want the channel closed", what)
		}
	case <-timer.C:
		t.Fatalf("%s: not closed within %v", what, deadline)
	}
}

// isClosed reports, without waiting, whether the signal ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// receive returns the next value of out, failing t if out is closed or nothing arrives in time.
func receive[T any](t *testing.T, out <-chan T) T {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	select {
	case v, ok := <-out:
		if !ok {
			t.Fatalf("output closed, want a value")
		}
		return v
	case <-timer.C:
		t.Fatalf("no value within %v", deadline)
	}
	panic("unreachable")
}

// drain receives every value of out until it closes, failing t if it does not close in time.
func drain[T any](t *testing.T, out <-chan T) []T {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	var got []T
	for {
		select {
		case v, ok := <-out:
			if !ok {
				return got
			}
			got = append(got, v)
		case <-timer.C:
			t.Fatalf("output not closed within %v; got %d values", deadline, len(got))
		}
	}
}

// feed starts a test-owned producer that sends 0, 1, … n-1 on the returned channel and closes it; with
// n < 0 it sends forever. It stops when done closes.
func feed(done <-chan struct{}, n int) <-chan int {
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i := 0; n < 0 || i < n; i++ {
			select {
			case ch <- i:
			case <-done:
				return
			}
		}
	}()
	return ch
}

// closedChan returns a channel that is already closed.
func closedChan[T any]() <-chan T {
	ch := make(chan T)
	close(ch)
	return ch
}

// count returns 0, 1, … n-1.
func count(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
