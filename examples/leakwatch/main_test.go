package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe/leaktest"
	"github.com/leaksafe/leaksafe/leakwatch"
)

// childEnv makes the test binary a child process that runs one test, whose leaks die with it.
const childEnv = "LEAKWATCH_EXAMPLE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(m.Run())
	}
	leaktest.VerifyTestMain(m)
}

// deadline bounds every wait in a test; it is never used to measure speed.
const deadline = 10 * time.Second

// inChild reports whether the test runs in the child process it starts. In the parent, it runs the
// test again in a child and fails if the child's test did not pass; without the goroutine leak
// profile, it skips the test.
func inChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	if !leakwatch.ProfileAvailable() {
		t.Skipf("%s has no goroutine leak profile: it needs Go 1.27, or Go 1.26 with "+
			"GOEXPERIMENT=goroutineleakprofile", runtime.Version())
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child process:\n%s", out)
	require.Contains(t, string(out), "--- PASS: "+t.Name(), "the child process:\n%s", out)
	return false
}

// hit sends n GET requests for path to srv and requires an answer to each.
func hit(t *testing.T, srv *httptest.Server, path string, n int) {
	t.Helper()
	for range n {
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, string(body), "answers")
	}
}

// report reads the report that srv serves, as JSON.
func report(t *testing.T, srv *httptest.Server) leakwatch.Report {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + "/debug/leaks?format=json")
	require.NoError(t, err)
	defer func() { require.NoError(t, resp.Body.Close()) }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var r leakwatch.Report
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	return r
}

// leakyName is the leaky handler's name as the runtime prints it: "main.leaky" in the program, its
// import path instead of main in the test binary.
var leakyName = runtime.FuncForPC(reflect.ValueOf(leaky).Pointer()).Name()

// leakySite reads the reports that srv serves until the site of the leaky handler has count
// goroutines, and returns that report and the site; it fails t if that does not happen within the
// deadline. The handler serves the latest report until the budget allows a new check, so a few
// reads may be needed.
func leakySite(t *testing.T, srv *httptest.Server, count int) (leakwatch.Report, leakwatch.Site) {
	t.Helper()
	start := time.Now()
	for {
		r := report(t, srv)
		for _, s := range r.Sites {
			if s.Creator == leakyName && s.Count == count {
				return r, s
			}
		}
		require.Less(t, time.Since(start), deadline, "no site of %s with %d goroutines in\n%v", leakyName, count, r)
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLeakyEndpointAppears drives the service in a child process: each request to /leaky leaks the
// slower replica's goroutine, and the report names the handler's go statement with a growing count;
// /safe never appears.
func TestLeakyEndpointAppears(t *testing.T) {
	if !inChild(t) {
		return
	}
	srv := httptest.NewServer(newMux(leakwatch.New(leakwatch.Budget(1)).Handler()))
	defer srv.Close()

	hit(t, srv, "/leaky?q=a", 3)
	hit(t, srv, "/safe?q=a", 5)
	r, s := leakySite(t, srv, 3)
	assert.Equal(t, leakwatch.ModeProfile, r.Mode)
	assert.True(t, s.Proven)
	assert.Equal(t, "chan send", s.State)
	assert.Equal(t, leakyName+".func1", s.BlockedIn)
	assert.Contains(t, s.Created, "examples/leakwatch/main.go:")

	hit(t, srv, "/leaky?q=b", 4)
	hit(t, srv, "/safe?q=b", 5)
	r, s = leakySite(t, srv, 7)
	assert.False(t, s.New, "the site was there before")
	assert.GreaterOrEqual(t, s.Previous, 3)
	assert.Less(t, s.Previous, 7, "the count grew")
	require.Len(t, r.Sites, 1, "only the leaky handler's site:\n%v", r)

	resp, err := srv.Client().Get(srv.URL + "/debug/leaks")
	require.NoError(t, err)
	defer func() { require.NoError(t, resp.Body.Close()) }()
	text, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(text), "7 (+")
	assert.Contains(t, string(text), "proven    go leaky.func1() in leaky at main.go:109, "+
		"blocked in chan send in leaky.func1 at main.go:109")
	t.Logf("\n%s", text)
}

// TestFallbackWatchesThenSuspects drives the service in a child process where the runtime has no
// goroutine leak profile: the report never says that nothing leaked; it says how many goroutines it
// watches, and suspects the leaky handler's site once it has grown at each of three checks, long
// before the ten-minute threshold.
func TestFallbackWatchesThenSuspects(t *testing.T) {
	if os.Getenv(childEnv) != t.Name() {
		if leakwatch.ProfileAvailable() {
			t.Skipf("%s has the goroutine leak profile: the fallback does not run", runtime.Version())
		}
		runChild(t)
		return
	}
	w := leakwatch.New(leakwatch.Budget(1))
	srv := httptest.NewServer(newMux(w.Handler()))
	defer srv.Close()

	hit(t, srv, "/leaky?q=a", 3)
	waitLeaked(t, 3)
	r, err := w.Snapshot()
	require.NoError(t, err)
	assert.Equal(t, leakwatch.ModeFallback, r.Mode)
	assert.Empty(t, r.Sites, "under the threshold, not yet growing:\n%v", r)
	assert.GreaterOrEqual(t, r.Watching, 3, "the leaky handler's goroutines are watched")
	assert.Regexp(t, `^leakwatch: no leak proven; \d+ goroutines blocked at \d+ sites? for under 10m0s, `+
		`watching \(no leak profile in `, r.String())
	t.Logf("\n%v", r)

	for i := range 3 { // the site grows at each of three checks
		hit(t, srv, "/leaky?q=b", 1)
		waitLeaked(t, 4+i) // a check taken before the goroutine blocks would see no growth
		r, err = w.Snapshot()
		require.NoError(t, err)
		if i < 2 {
			for _, s := range r.Sites {
				assert.NotEqual(t, leakyName, s.Creator, "not suspected before the third growth")
			}
		}
	}
	var leaky []leakwatch.Site
	for _, s := range r.Sites {
		if s.Creator == leakyName {
			leaky = append(leaky, s)
		}
	}
	require.Len(t, leaky, 1, "the leaky handler's site, suspected:\n%v", r)
	assert.True(t, leaky[0].Growing)
	assert.Equal(t, 6, leaky[0].Count)
	assert.False(t, leaky[0].Proven)
	assert.Contains(t, r.String(), "suspected go leaky.func1() in leaky at main.go:109, "+
		"blocked in chan send in leaky.func1 at main.go:109")
	assert.Contains(t, r.String(), ", growing at each of the last 3 checks")
	t.Logf("\n%v", r)
}

// waitLeaked waits until n goroutines of the leaky handler are blocked on their send: a response
// can reach the client before the slower replica's goroutine has run. It fails t past the deadline.
func waitLeaked(t *testing.T, n int) {
	t.Helper()
	start := time.Now()
	buf := make([]byte, 1<<20)
	for {
		got := 0
		dump := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(dump, "\n\n") {
			if strings.Contains(g, "[chan send") && strings.Contains(g, "created by "+leakyName+" ") {
				got++
			}
		}
		if got == n {
			return
		}
		require.Less(t, time.Since(start), deadline, "%d goroutines of %s blocked, want %d", got, leakyName, n)
		time.Sleep(time.Millisecond)
	}
}

// runChild runs the test again in a child process, whose leaks die with it, and fails if the
// child's test did not pass.
func runChild(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child process:\n%s", out)
	require.Contains(t, string(out), "--- PASS: "+t.Name(), "the child process:\n%s", out)
	t.Logf("the child process:\n%s", out)
}

// TestRunStops serves /safe on a loopback listener and requires run to return once its context is
// done, with the watcher stopped.
func TestRunStops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	returned := make(chan error, 1)
	go func() { returned <- run(ctx, ln, leakwatch.New(), &logs) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/safe?q=stop")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Contains(t, string(body), `answers "stop"`)
	http.DefaultClient.CloseIdleConnections()

	cancel()
	select {
	case err := <-returned:
		require.NoError(t, err)
	case <-time.After(deadline):
		require.FailNow(t, "run did not return after its context was done")
	}
	assert.NotContains(t, logs.String(), "leaked goroutine", "no leak to log")
}

// syncBuffer is a strings.Builder that the service's logger and the test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
