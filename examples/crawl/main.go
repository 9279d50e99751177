// Command crawl fetches URLs, a few at a time, and prints each result in the order of its
// arguments as soon as it is ready. When it stops early, the requests still in flight are
// cancelled, not waited for.
//
//	go run ./examples/crawl [-workers N] [-max-errors N] [-timeout D] [url ...]
//
// -workers requests are in flight at once (default 4), and each has -timeout to answer, body
// included (default 10s). A fetch that fails (no answer, a timeout, a status of 400 or more) is
// printed as a result like the others, and the exit status is then 1. The crawl stops after
// -max-errors failed fetches (default 3; 0: never), or on Ctrl-C (exit status 130), and prints how
// long stopping took and the number of goroutines before and after, to show that nothing is left
// running.
//
// With no URL it serves a demo site on 127.0.0.1 and crawls that, so it runs offline: fast pages,
// slow pages, pages that fail with status 500 and one page that answers only when its request is
// cancelled. With the default flags the third failure arrives while that page is in flight, and
// the demo site reports the requests that stopping cancelled.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leaksafe/leaksafe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args, crawls until every URL is fetched, -max-errors fetches have failed or ctx is
// done, and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	stderr = &syncWriter{w: stderr} // the demo site's handlers write to it as well
	flags := flag.NewFlagSet("crawl", flag.ContinueOnError)
	flags.SetOutput(stderr)
	workers := flags.Int("workers", 4, "requests in flight at once (at least 1)")
	maxErrors := flags.Int("max-errors", 3, "stop after this many failed fetches (0: never)")
	timeout := flags.Duration("timeout", 10*time.Second,
		"time limit of each request, body included")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: crawl [-workers N] [-max-errors N] [-timeout D] [url ...]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *workers < 1 || *maxErrors < 0 || *timeout <= 0 {
		flags.Usage()
		return 2
	}

	before := runtime.NumGoroutine()
	fmt.Fprintf(stderr, "goroutines before: %d\n", before)
	urls := flags.Args()
	var demo *httptest.Server
	if len(urls) == 0 {
		demo = newDemoSite(stderr)
		urls = demoURLs(demo.URL)
		fmt.Fprintf(stderr, "crawl: no URL given: crawling the demo site at %s\n", demo.URL)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	c := crawler{
		client:    &http.Client{Transport: transport},
		workers:   *workers,
		maxErrors: *maxErrors,
		timeout:   *timeout,
		stdout:    stdout,
		stderr:    stderr,
	}
	code := c.crawl(ctx, urls)
	transport.CloseIdleConnections() // the connections kept for reuse, and their goroutines
	if demo != nil {
		demo.Close() // waits for its handlers to return
	}
	fmt.Fprintf(stderr, "goroutines after: %d\n", settled(before))
	return code
}

// crawler fetches URLs with the settings of the command line.
type crawler struct {
	client         *http.Client
	workers        int
	maxErrors      int           // 0: never stop for errors
	timeout        time.Duration // of each request
	stdout, stderr io.Writer
}

// crawl fetches urls, at most c.workers at once, prints each result in the order of urls and
// returns the exit status. It returns once every request it started has ended.
func (c *crawler) crawl(ctx context.Context, urls []string) int {
	// interrupted is the outer done of the loop below. It closes when ctx is done, once
	// interruptedAt is set, so that the moment the stop began is known when the loop ends.
	interrupted := make(chan struct{})
	var interruptedAt time.Time
	unwatch := context.AfterFunc(ctx, func() {
		interruptedAt = time.Now()
		close(interrupted)
	})
	defer unwatch()

	pages := func(done <-chan struct{}) (<-chan page, <-chan struct{}) {
		// cancelled when the loop below ends: so are the requests
		ctx := leaksafe.WithDone(ctx, done)
		in, t1 := leaksafe.Generate(done, urls...)
		out, t2 := leaksafe.ParallelMapOrdered(done, in, c.workers, func(u string) page {
			return c.fetch(ctx, u)
		})
		return out, leaksafe.All(t1, t2)
	}
	start := time.Now()
	var stopping time.Time // when the crawl was told to stop early
	printed, failed := 0, 0
	for p := range leaksafe.Range(interrupted, pages) {
		if ctx.Err() != nil {
			break // interrupted before Range saw it: p may be a request that ctx cancelled
		}
		fmt.Fprintln(c.stdout, p)
		printed++
		if p.failed() {
			failed++
		}
		if failed > 0 && failed == c.maxErrors && printed < len(urls) {
			fmt.Fprintf(c.stderr, "crawl: stopping after %d failed fetches (-max-errors %d)\n",
				failed, c.maxErrors)
			stopping = time.Now()
			break // cancels the requests in flight, and waits for the workers to return
		}
	}
	wasInterrupted := false
	if stopping.IsZero() && printed < len(urls) {
		// only ctx ends the loop early this way: interruptedAt is set, or is about to be
		<-interrupted
		wasInterrupted, stopping = true, interruptedAt
		fmt.Fprintln(c.stderr, "crawl: interrupted")
	}
	if !stopping.IsZero() {
		fmt.Fprintf(c.stderr, "crawl: stopping took %v\n", roundDuration(time.Since(stopping)))
	}
	fmt.Fprintf(c.stderr, "crawl: %d of %d URLs fetched, %d failed, in %v\n",
		printed, len(urls), failed, roundDuration(time.Since(start)))
	switch {
	case wasInterrupted:
		return 130
	case failed > 0:
		return 1
	}
	return 0
}

// page is what fetch learned about one URL. It keeps no part of the response: the body is read and
// closed inside fetch, so a page dropped when the crawl stops holds no connection.
type page struct {
	url     string
	status  int   // 0 when no response arrived
	size    int64 // bytes of the body that were read
	elapsed time.Duration
	err     error // the request failed, or its body could not be read to the end
}

func (p page) failed() bool { return p.err != nil || p.status >= 400 }

// String formats p as a line of the crawl's output: status, size, time, URL and error, if any.
func (p page) String() string {
	status := "---"
	if p.status != 0 {
		status = strconv.Itoa(p.status)
	}
	s := fmt.Sprintf("%s %8d B %9v  %s", status, p.size, roundDuration(p.elapsed), p.url)
	if p.err != nil {
		err := p.err
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the message of a url.Error repeats the URL
		}
		s += "  error: " + err.Error()
	}
	return s
}

// fetch gets u and reads its body to the end, within c.timeout. The request is cancelled, and fetch
// returns at once, when ctx is.
func (c *crawler) fetch(ctx context.Context, u string) page {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	p := page{url: u}
	start := time.Now()
	p.status, p.size, p.err = c.get(ctx, u)
	p.elapsed = time.Since(start)
	return p
}

// get gets u, reads the body to the end and closes it, and returns the status and the body's size.
func (c *crawler) get(ctx context.Context, u string) (status int, size int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	size, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, size, err
}

// demoPages are the paths of the demo site, in the order crawl fetches them. With the default
// flags, the third failure arrives while /hang is in flight, and stopping the crawl cancels it.
var demoPages = []string{
	"/fast/1", "/fail/1", "/slow/1", "/fast/2", "/fail/2", "/slow/2",
	"/fail/3", "/hang", "/fast/3", "/fast/4", "/slow/3", "/fail/4",
}

// demoURLs returns the URLs of demoPages on the demo site at base.
func demoURLs(base string) []string {
	urls := make([]string, len(demoPages))
	for i, p := range demoPages {
		urls[i] = base + p
	}
	return urls
}

// newDemoSite starts a web server on 127.0.0.1 that serves demoPages: /fast/{n} answers at once
// with n KiB, /slow/{n} after n×300 ms, /fail/{n} with status 500, and /hang not before its
// request is cancelled. A slow or hanging request that is cancelled is reported on log. The caller
// must call Close, which waits for the handlers to return.
func newDemoSite(log io.Writer) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fast/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		fmt.Fprint(w, strings.Repeat("this page: fast\n", n*64))
	})
	mux.HandleFunc("GET /slow/{n}", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		n, _ := strconv.Atoi(r.PathValue("n"))
		timer := time.NewTimer(time.Duration(n) * 300 * time.Millisecond)
		defer timer.Stop()
		select {
		case <-timer.C:
			fmt.Fprint(w, strings.Repeat("this page: slow\n", n*64))
		case <-r.Context().Done():
			demoCancelled(log, r, start)
		}
	})
	mux.HandleFunc("GET /fail/{n}", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "this page fails on purpose", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		<-r.Context().Done() // nothing else ends this request
		demoCancelled(log, r, start)
	})
	return httptest.NewServer(mux)
}

// demoCancelled reports on log that the request r, which arrived at start, was cancelled before
// the demo site answered it.
func demoCancelled(log io.Writer, r *http.Request, start time.Time) {
	fmt.Fprintf(log, "demo site: %s %s: request cancelled after %v\n", r.Method, r.URL.Path,
		roundDuration(time.Since(start)))
}

// syncWriter serializes the writes to w, which come from more than one goroutine.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// roundDuration rounds d for printing: to 1 µs below a millisecond, to 100 µs below a second, and
// to 1 ms from there up.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// settled returns the goroutine count, read again for a moment while it is above before: a
// goroutine that has closed its terminated channel, or whose connection was just closed, may still
// be on its way out.
func settled(before int) int {
	n := runtime.NumGoroutine()
	for i := 0; n > before && i < 100; i++ {
		time.Sleep(time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}
