package leakwatch

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get serves a GET of target with h and returns the response.
func get(ctx context.Context, h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil))
	return rec
}

// sampleReport is a report with one site, as a check returns it.
func sampleReport() Report {
	return Report{
		Time: t0, Mode: ModeProfile, GoVersion: "go1.27.3", Goroutines: 12, Leaked: 3,
		Cost: 2 * time.Millisecond,
		Sites: []Site{{
			Name: "main.serve", Creator: "main.serve", Created: "/src/main.go:31", State: "chan send",
			BlockedIn: "main.serve.func1", BlockedAt: "/src/main.go:32", Count: 3, New: true, Proven: true,
			Stack: "goroutine 7 [chan send (leaked)]:\n...",
		}},
	}
}

func TestHandlerFormats(t *testing.T) {
	w := New()
	w.check = func() (Report, error) { return sampleReport(), nil }
	want := sampleReport()
	want.Next = 200 * time.Millisecond // the cost divided by the budget

	t.Run("text by default", func(t *testing.T) {
		rec := get(t.Context(), w.Handler(), "/debug/leaks")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
		assert.Equal(t, want.String()+"\n", rec.Body.String())
	})
	t.Run("JSON with format=json", func(t *testing.T) {
		rec := get(t.Context(), w.Handler(), "/debug/leaks?format=json")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		var got Report
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
		assert.Equal(t, want, got)
	})
	t.Run("an unknown format", func(t *testing.T) {
		rec := get(t.Context(), w.Handler(), "/debug/leaks?format=xml")
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Equal(t, "leakwatch: format must be text or json, got xml\n", rec.Body.String())
	})
	t.Run("a check that fails", func(t *testing.T) {
		w := New()
		w.check = func() (Report, error) { return Report{}, errors.New("leakwatch: boom") }
		rec := get(t.Context(), w.Handler(), "/debug/leaks")
		assert.Equal(t, http.StatusInternalServerError, rec.Code)
		assert.Equal(t, "leakwatch: boom\n", rec.Body.String())
	})
}

// gatedCheck makes w's checks wait for gate to close, then return a report that cost cost; it
// counts them.
func gatedCheck(w *Watcher, gate <-chan struct{}, cost time.Duration) *atomic.Int32 {
	var calls atomic.Int32
	w.check = func() (Report, error) {
		n := calls.Add(1)
		<-gate
		return Report{Time: time.Now(), Mode: ModeProfile, Goroutines: int(n), Cost: cost, Sites: []Site{}}, nil
	}
	return &calls
}

func TestHandlerSharesOneCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New()
		gate := make(chan struct{})
		calls := gatedCheck(w, gate, time.Second) // the budget allows a check every 100s
		h := w.Handler()

		const requests = 5
		bodies := make([]string, requests)
		var wg sync.WaitGroup
		for i := range requests {
			wg.Go(func() { bodies[i] = get(t.Context(), h, "/?format=json").Body.String() })
		}
		synctest.Wait()
		assert.EqualValues(t, 1, calls.Load(), "one check while %d requests wait", requests)
		close(gate)
		wg.Wait()
		for i := range requests {
			assert.JSONEq(t, bodies[0], bodies[i], "request %d serves the shared report", i)
		}
		assert.EqualValues(t, 1, calls.Load())

		time.Sleep(99 * time.Second)
		for range requests {
			get(t.Context(), h, "/")
		}
		assert.EqualValues(t, 1, calls.Load(), "no check before the budget allows one")

		time.Sleep(time.Second)
		get(t.Context(), h, "/")
		get(t.Context(), h, "/")
		assert.EqualValues(t, 2, calls.Load(), "one check once the budget allows it")
	})
}

func TestHandlerServesTheReportOfWatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New()
		calls := fakeCheck(w, time.Second, nil)
		done := make(chan struct{})
		reports, terminated := w.Watch(done, time.Minute)
		r := receive(t, reports)
		var got Report
		require.NoError(t, json.Unmarshal(get(t.Context(), w.Handler(), "/?format=json").Body.Bytes(), &got))
		assert.Equal(t, r.Goroutines, got.Goroutines, "the report of Watch's check")
		assert.EqualValues(t, 1, calls.Load())
		close(done)
		ended(t, reports, terminated)
	})
}

func TestHandlerRequestEndsWhileItWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New()
		gate := make(chan struct{})
		calls := gatedCheck(w, gate, time.Millisecond)
		h := w.Handler()

		var first *httptest.ResponseRecorder
		started := make(chan struct{})
		go func() {
			close(started)
			first = get(t.Context(), h, "/")
		}()
		<-started
		synctest.Wait()

		ctx, cancel := context.WithCancel(t.Context())
		var gone *httptest.ResponseRecorder
		waited := make(chan struct{})
		go func() {
			defer close(waited)
			gone = get(ctx, h, "/")
		}()
		synctest.Wait()
		cancel()
		<-waited
		assert.Empty(t, gone.Body.String(), "a request that ended gets no report")

		close(gate)
		synctest.Wait()
		assert.Equal(t, http.StatusOK, first.Code, "the check went on for the request that started it")
		assert.EqualValues(t, 1, calls.Load())
	})
}
