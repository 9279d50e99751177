package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe/leaktest"
)

func TestMain(m *testing.M) {
	leaktest.VerifyTestMain(m)
}

// deadline bounds every wait in a test, so that a bug fails the test instead of hanging it. It is
// never used to measure speed.
const deadline = 10 * time.Second

// chainLen is the number of /reverse pages of a site.
const chainLen = 6

// site is a web server on loopback for the tests:
//
//   - /ok/{name} answers 200 with the body "page {name}";
//   - /fail answers 500;
//   - /hang answers only when its request is cancelled; one request at most per site;
//   - /after-hang answers 500, but not before a /hang request has arrived, so a run that fetches both
//     is sure to have /hang in flight when it sees this failure;
//   - /reverse/{i}, for i below chainLen, answers 200 once /reverse/{i+1} has answered (the last one
//     at once), so that those pages finish in the reverse of their order.
type site struct {
	*httptest.Server
	hangArrived   chan struct{} // closed when the /hang request arrives
	hangCancelled chan struct{} // closed when its context is cancelled, just before it returns
	onHang        func()        // if not nil, called when the /hang request arrives
	answered      [chainLen]chan struct{}
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{hangArrived: make(chan struct{}), hangCancelled: make(chan struct{})}
	for i := range s.answered {
		s.answered[i] = make(chan struct{})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "page "+r.PathValue("name"))
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) {
		close(s.hangArrived)
		if s.onHang != nil {
			s.onHang()
		}
		<-r.Context().Done() // nothing else ends this request
		close(s.hangCancelled)
	})
	mux.HandleFunc("GET /after-hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.hangArrived:
			w.WriteHeader(http.StatusInternalServerError)
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("GET /reverse/{i}", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.PathValue("i"))
		if err != nil || i < 0 || i >= chainLen {
			http.NotFound(w, r)
			return
		}
		if i+1 < chainLen {
			select {
			case <-s.answered[i+1]:
			case <-r.Context().Done():
				return
			}
		}
		defer close(s.answered[i])
		fmt.Fprintf(w, "page %d", i)
	})
	s.Server = httptest.NewServer(mux)
	// These cleanups run before leaktest.Check's, which was registered earlier. Closing the
	// connections first ends a /hang request that a failed test left in flight, so that Close,
	// which waits for the handlers, does not hang.
	t.Cleanup(func() {
		s.CloseClientConnections()
		s.Close()
	})
	return s
}

// urls returns the URLs of paths on s.
func (s *site) urls(paths ...string) []string {
	urls := make([]string, len(paths))
	for i, p := range paths {
		urls[i] = s.URL + p
	}
	return urls
}

// unreachable returns a URL on 127.0.0.1 where nothing listens: the address of a closed listener.
func unreachable(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr + "/"
}

// runCrawl runs the command with args and returns its exit status and outputs. It fails t if run has
// not returned within the deadline, which happens when a request in flight is not cancelled.
func runCrawl(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		code = run(ctx, args, &out, &errOut)
	}()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	select {
	case <-finished:
	case <-timer.C:
		t.Fatalf("run %q has not returned within %v", args, deadline)
	}
	return code, out.String(), errOut.String()
}

// line is one result line of the output, split into its fields.
type line struct {
	status string // "---" when no response arrived
	size   int
	url    string
	err    string // after "error: "
}

func parseLines(t *testing.T, stdout string) []line {
	t.Helper()
	var lines []line
	for _, s := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if s == "" {
			continue
		}
		s, errText, _ := strings.Cut(s, "  error: ")
		f := strings.Fields(s)
		require.Len(t, f, 5, "a result line has status, size, B, time and URL: %q", s)
		size, err := strconv.Atoi(f[1])
		require.NoError(t, err, "size in %q", s)
		_, err = time.ParseDuration(f[3])
		require.NoError(t, err, "time in %q", s)
		lines = append(lines, line{status: f[0], size: size, url: f[4], err: errText})
	}
	return lines
}

func urlsOf(lines []line) []string {
	urls := make([]string, len(lines))
	for i, l := range lines {
		urls[i] = l.url
	}
	return urls
}

func TestRunPrintsEveryResultInInputOrder(t *testing.T) {
	leaktest.Check(t)
	s := newSite(t)

	t.Run("pages that finish in reverse order", func(t *testing.T) {
		var paths []string
		for i := range chainLen {
			paths = append(paths, fmt.Sprintf("/reverse/%d", i))
		}
		urls := s.urls(paths...)
		// Every page is in flight at once, and the first one finishes last.
		code, out, errOut := runCrawl(t, context.Background(), append([]string{"-workers", strconv.Itoa(chainLen)}, urls...)...)
		require.Equal(t, 0, code, errOut)
		lines := parseLines(t, out)
		assert.Equal(t, urls, urlsOf(lines))
		for i, l := range lines {
			assert.Equal(t, "200", l.status, l.url)
			assert.Equal(t, len(fmt.Sprintf("page %d", i)), l.size, l.url)
		}
		assert.Contains(t, errOut, fmt.Sprintf("%d of %d URLs fetched, 0 failed", chainLen, chainLen))
	})
	t.Run("successes and failures, with -max-errors 0", func(t *testing.T) {
		urls := append(s.urls("/ok/a", "/fail", "/ok/bb", "/fail"), unreachable(t))
		urls = append(urls, s.urls("/ok/ccc")...)
		for _, workers := range []string{"1", "2", "8"} {
			code, out, errOut := runCrawl(t, context.Background(), append([]string{"-max-errors", "0", "-workers", workers}, urls...)...)
			assert.Equal(t, 1, code, "some fetches failed")
			lines := parseLines(t, out)
			require.Equal(t, urls, urlsOf(lines), "workers %s", workers)
			var statuses []string
			for _, l := range lines {
				statuses = append(statuses, l.status)
			}
			assert.Equal(t, []string{"200", "500", "200", "500", "---", "200"}, statuses)
			assert.Equal(t, len("page ccc"), lines[5].size)
			assert.Contains(t, errOut, "6 of 6 URLs fetched, 3 failed")
			assert.NotContains(t, errOut, "stopping")
		}
	})
}

func TestRunDoesNotStopWhenTheLastURLReachesMaxErrors(t *testing.T) {
	leaktest.Check(t)
	s := newSite(t)
	urls := s.urls("/fail", "/ok/a", "/fail")
	code, out, errOut := runCrawl(t, context.Background(), append([]string{"-max-errors", "2"}, urls...)...)
	assert.Equal(t, 1, code)
	assert.Equal(t, urls, urlsOf(parseLines(t, out)))
	assert.Contains(t, errOut, "3 of 3 URLs fetched, 2 failed")
	assert.NotContains(t, errOut, "stopping", "nothing was left to stop")
}

func TestRunStopsTheRequestsInFlight(t *testing.T) {
	leaktest.Check(t)
	// In each case the /hang request is in flight when the crawl stops, and would keep run from
	// returning for an hour unless stopping cancels it.
	tests := []struct {
		name      string
		paths     []string
		args      []string
		interrupt bool // cancel run's context when /hang arrives
		wantCode  int
		wantPaths []string // of the lines printed
		wantErr   string   // in stderr
	}{
		{
			name:      "-max-errors failures",
			paths:     []string{"/ok/a", "/after-hang", "/hang", "/ok/b"},
			args:      []string{"-max-errors", "1"},
			wantCode:  1,
			wantPaths: []string{"/ok/a", "/after-hang"},
			wantErr:   "stopping after 1 failed fetches (-max-errors 1)",
		},
		{
			name:      "interrupted",
			paths:     []string{"/hang", "/ok/a"},
			args:      []string{"-max-errors", "0"},
			interrupt: true,
			wantCode:  130,
			wantPaths: []string{}, // /ok/a waits for /hang, which comes first
			wantErr:   "interrupted",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			ctx := context.Background()
			if tt.interrupt {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
				s.onHang = cancel
			}
			args := append(append([]string{"-timeout", "1h"}, tt.args...), s.urls(tt.paths...)...)
			code, out, errOut := runCrawl(t, ctx, args...)
			assert.Equal(t, tt.wantCode, code, errOut)
			assert.Equal(t, s.urls(tt.wantPaths...), urlsOf(parseLines(t, out)))
			assert.Contains(t, errOut, tt.wantErr)
			assert.Contains(t, errOut, "stopping took")
			assert.Contains(t, errOut, "goroutines after")
			waitClosed(t, s.hangCancelled, "the /hang request's context")
		})
	}
}

func TestRunReportsAFailedFetchAsAResult(t *testing.T) {
	leaktest.Check(t)
	s := newSite(t)
	gone := unreachable(t)
	ok1, ok2 := s.URL+"/ok/a", s.URL+"/ok/b"
	tests := []struct {
		name    string
		urls    []string
		args    []string
		failed  int // the index of the failed fetch in urls
		wantErr string
	}{
		{"unreachable address", []string{ok1, gone, ok2}, nil, 1, "connection refused"},
		{"not a URL", []string{ok1, "::", ok2}, nil, 1, "missing protocol scheme"},
		{"unsupported scheme", []string{ok1, "ftp://127.0.0.1/", ok2}, nil, 1, `unsupported protocol scheme "ftp"`},
		// alone: -timeout applies to every request
		{"request timed out", []string{s.URL + "/hang"}, []string{"-timeout", "1ms"}, 0, "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCrawl(t, context.Background(), append(tt.args, tt.urls...)...)
			assert.Equal(t, 1, code, errOut)
			lines := parseLines(t, out)
			require.Equal(t, tt.urls, urlsOf(lines))
			for i, l := range lines {
				if i == tt.failed {
					assert.Equal(t, "---", l.status, "no response from %s", l.url)
					assert.Contains(t, l.err, tt.wantErr)
				} else {
					assert.Equal(t, "200", l.status, "the crawl goes on after a failure below -max-errors")
				}
			}
		})
	}
	select {
	case <-s.hangArrived: // the request may also have timed out on its way
		waitClosed(t, s.hangCancelled, "the timed out /hang request's context")
	default:
	}
}

func TestRunWithoutURLsCrawlsTheDemoSite(t *testing.T) {
	leaktest.Check(t)
	// With the default -max-errors 3, the crawl stops at the third failed page. /hang comes after it
	// in order, so it is either in flight then and cancelled, or never requested: run returns in both
	// cases, since closing the demo site waits for its handlers.
	code, out, errOut := runCrawl(t, context.Background())
	assert.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "crawling the demo site at http://127.0.0.1:")
	base := strings.Fields(errOut[strings.Index(errOut, "http://127.0.0.1:"):])[0]
	lines := parseLines(t, out)
	assert.Equal(t, demoURLs(base)[:7], urlsOf(lines))
	var statuses []string
	for _, l := range lines {
		statuses = append(statuses, l.status)
	}
	assert.Equal(t, []string{"200", "500", "200", "200", "500", "200", "500"}, statuses)
	assert.Equal(t, 1024, lines[0].size)
	assert.Contains(t, errOut, "stopping after 3 failed fetches (-max-errors 3)")
	assert.Contains(t, errOut, "goroutines after")
}

func TestRunCancelledBeforeItStarts(t *testing.T) {
	leaktest.Check(t)
	s := newSite(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, out, errOut := runCrawl(t, ctx, s.urls("/ok/a", "/ok/b")...)
	assert.Equal(t, 130, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "interrupted")
}

func TestRunBadFlags(t *testing.T) {
	leaktest.Check(t)
	for _, args := range [][]string{
		{"-workers", "0"},
		{"-workers", "many"},
		{"-max-errors", "-1"},
		{"-timeout", "0"},
		{"-timeout", "-1s"},
		{"-timeout", "10"},
		{"-bogus"},
	} {
		code, out, errOut := runCrawl(t, context.Background(), append(args, "http://127.0.0.1/")...)
		assert.Equal(t, 2, code, "args %q", args)
		assert.Empty(t, out, "args %q", args)
		assert.Contains(t, errOut, "usage: crawl", "args %q", args)
	}
}

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
