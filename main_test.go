package leaksafe_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

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

// within calls f, a blocking call named what, in a goroutine of its own and fails t if f does not
// return within the deadline. It returns the value f panicked with, or f's error.
func within(t *testing.T, what string, f func() error) (panicked any, err error) {
	t.Helper()
	type outcome struct {
		panicked any
		err      error
	}
	res := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			o.panicked = recover()
			res <- o
		}()
		o.err = f()
	}()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	select {
	case o := <-res:
		return o.panicked, o.err
	case <-timer.C:
		t.Fatalf("%s did not return within %v", what, deadline)
	}
	return nil, nil
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

// drainBoth receives every value of a and b, as they come, until both close, failing t if they do
// not close in time. It reads the two outputs of Tee or Partition, which hold each other back.
func drainBoth[T any](t *testing.T, a, b <-chan T) (gotA, gotB []T) {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for a != nil || b != nil {
		select {
		case v, ok := <-a:
			if !ok {
				a = nil
				continue
			}
			gotA = append(gotA, v)
		case v, ok := <-b:
			if !ok {
				b = nil
				continue
			}
			gotB = append(gotB, v)
		case <-timer.C:
			t.Fatalf("outputs not closed within %v; got %d and %d values", deadline, len(gotA), len(gotB))
		}
	}
	return gotA, gotB
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

// countedFeed is feed(done, n) on an unbuffered channel that also counts the values it has sent, so a
// test can tell how far a stage has read.
func countedFeed(done <-chan struct{}, n int) (<-chan int, *atomic.Int64) {
	ch := make(chan int)
	var sent atomic.Int64
	go func() {
		defer close(ch)
		for i := range n {
			select {
			case ch <- i:
				sent.Add(1)
			case <-done:
				return
			}
		}
	}()
	return ch, &sent
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

// raise sets *peak to v if v is larger, safely against concurrent callers.
func raise(peak *atomic.Int64, v int64) {
	for {
		m := peak.Load()
		if v <= m || peak.CompareAndSwap(m, v) {
			return
		}
	}
}

// hangServer is a local HTTP server with fast pages ("/page/..."), a failing page ("/fail") and a
// page ("/hang") whose handler returns only when its request is cancelled. A missing cancellation
// therefore hangs the code under test, until the handler gives up after the deadline and reports
// that it was never cancelled.
type hangServer struct {
	*httptest.Server
	entered   chan struct{} // receives a value when a /hang request has arrived
	cancelled chan bool     // receives, per /hang request, whether its context was cancelled
	before    goleak.Option // the goroutines that ran before the server started
}

func newHangServer(t *testing.T) *hangServer {
	t.Helper()
	s := &hangServer{entered: make(chan struct{}, 8), cancelled: make(chan bool, 8), before: goleak.IgnoreCurrent()}
	mux := http.NewServeMux()
	mux.HandleFunc("/page/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "page %s", r.PathValue("name"))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		s.entered <- struct{}{}
		select {
		case <-r.Context().Done():
			s.cancelled <- true
		case <-time.After(2 * deadline):
			s.cancelled <- false
		}
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// finish fails t unless the /hang request saw its context cancelled. It then shuts the server and
// the client's idle connections, and checks that no goroutine of the test is left: neither the
// server's nor the transport's nor leaksafe's.
func (s *hangServer) finish(t *testing.T) {
	t.Helper()
	select {
	case ok := <-s.cancelled:
		require.True(t, ok, "the hanging request was never cancelled")
	case <-time.After(3 * deadline):
		t.Fatal("the hanging handler did not return")
	}
	s.Client().CloseIdleConnections()
	s.Close()
	goleak.VerifyNone(t, s.before)
}

// get fetches url with ctx, reads and closes the body, and returns it: the response never leaves the
// function, so nothing that owns a connection travels through a stage.
func get(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), nil
}
