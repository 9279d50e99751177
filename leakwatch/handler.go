package leakwatch

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Handler serves the latest report, as [Watcher.Handler] does for the Watcher of the package-level
// functions.
func Handler() http.Handler {
	return std.Handler()
}

// Handler returns an HTTP handler that serves the latest report of w: as text (the report's String)
// by default, as JSON with ?format=json. It starts no goroutine. Mount it beside net/http/pprof:
//
//	mux.Handle("GET /debug/leaks", leakwatch.Handler())
//
// While the CPU budget allows no new check, a request serves the latest report, whether
// [Watcher.Watch], [Watcher.Snapshot] or an earlier request made it. Otherwise the first request
// runs one check, in its own goroutine, and every request that arrives meanwhile waits for that
// check and serves the same report: concurrent requests never run more than one check. A waiting
// request whose context ends returns with no body; the check goes on for the others.
func (w *Watcher) Handler() http.Handler {
	return http.HandlerFunc(w.serve)
}

// A flight is a check that a request started and that concurrent requests share.
type flight struct {
	done   chan struct{} // closed when report and err are set
	report Report
	err    error
}

var errGone = errors.New("leakwatch: the request ended while it waited for a check")

// current returns the latest report if the budget allows no new check yet; otherwise it runs a
// check, or waits for the one that another caller runs, unless cancel closes first.
func (w *Watcher) current(cancel <-chan struct{}) (Report, error) {
	w.lmu.Lock()
	if w.latest != nil && time.Now().Before(w.next) {
		r := *w.latest
		w.lmu.Unlock()
		return r, nil
	}
	if f := w.flight; f != nil {
		w.lmu.Unlock()
		select {
		case <-f.done:
			return f.report, f.err
		case <-cancel:
			return Report{}, errGone
		}
	}
	f := &flight{done: make(chan struct{})}
	w.flight = f
	w.lmu.Unlock()
	defer func() {
		w.lmu.Lock()
		w.flight = nil
		w.lmu.Unlock()
		close(f.done)
	}()
	f.report, f.err = w.do()
	return f.report, f.err
}

func (w *Watcher) serve(rw http.ResponseWriter, req *http.Request) {
	format := req.URL.Query().Get("format")
	if format != "" && format != "json" && format != "text" {
		http.Error(rw, "leakwatch: format must be text or json, got "+format, http.StatusBadRequest)
		return
	}
	r, err := w.current(req.Context().Done())
	if errors.Is(err, errGone) {
		return
	}
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Cache-Control", "no-store")
	if format == "json" {
		rw.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(rw)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = rw.Write([]byte(r.String() + "\n"))
}
