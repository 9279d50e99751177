package leakwatch

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/internal/stacks"
)

// inChild reports whether the test runs in the child process that it starts: the test binary again,
// running only this test, with childEnv set and env added. The test's body, guarded by inChild,
// runs there, where the goroutines it leaks on purpose die with the process. In the parent, inChild
// runs the child, fails the test if the child's test did not pass, and returns false. Tests of
// proven leaks are skipped where the process has no goroutine leak profile.
func inChild(t *testing.T, env ...string) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	if !ProfileAvailable() {
		t.Skipf("%s has no goroutine leak profile: it needs Go 1.27, or Go 1.26 with "+
			"GOEXPERIMENT=goroutineleakprofile", runtime.Version())
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(append(os.Environ(), childEnv+"="+t.Name()), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child process:\n%s", out)
	require.Contains(t, string(out), "--- PASS: "+t.Name(), "the child process:\n%s", out)
	return false
}

// waitFor checks with w until the report satisfies ok, and returns that report; it fails t if none
// does within the deadline. After each check it moves w's clock on by tick.
func waitFor(t *testing.T, w *Watcher, tick time.Duration, ok func(Report) bool) Report {
	t.Helper()
	now := t0
	w.now = func() time.Time { return now }
	start := time.Now()
	for {
		r, err := w.Snapshot()
		require.NoError(t, err)
		if ok(r) {
			return r
		}
		if time.Since(start) > deadline {
			require.FailNow(t, "no report as expected within the deadline", "the last one:\n%v", r)
		}
		now = now.Add(tick)
		time.Sleep(10 * time.Millisecond) // let the goroutines reach their wait
	}
}

// The goroutines leaked in a child process, each way a different number of times, so that a count
// tells the sites apart.
func leakSend()    { ch := make(chan int); go func() { ch <- 1 }() } //leakvet:ignore leaks on purpose
func leakReceive() { ch := make(chan int); go func() { <-ch }() }    //leakvet:ignore leaks on purpose
func leakMutex(n int) {
	var mu sync.Mutex
	mu.Lock()
	for range n {
		go func() { mu.Lock() }()
	}
}

func leakSelect() {
	a, b := make(chan int), make(chan int)
	go func() {
		select {
		case <-a:
		case b <- 1:
		}
	}()
}

func leakWaitGroup(n int) {
	var wg sync.WaitGroup
	wg.Add(1)
	for range n {
		go func() { wg.Wait() }()
	}
}

func leakCond(n int) {
	c := sync.NewCond(&sync.Mutex{})
	for range n {
		go func() {
			c.L.Lock()
			c.Wait()
		}()
	}
}

// leakStages starts n Map stages whose input nobody sends on or closes and whose done never closes,
// and returns the line of the call of Map.
func leakStages(n int) (line int) {
	for range n {
		_, _, line, _ = runtime.Caller(0)
		leaksafe.Map(nil, make(chan int), func(v int) int { return v })
	}
	return line + 1
}

// TestProvenLeaks leaks goroutines in a child process at known sites, each in a way of its own, and
// requires each site named with its count.
func TestProvenLeaks(t *testing.T) {
	if !inChild(t) {
		return
	}
	const pkg = "github.com/leaksafe/leaksafe/leakwatch."
	want := map[string]int{ // the creator's name in the report: how many goroutines
		"leakwatch.leakSend": 1, "leakwatch.leakReceive": 1, "leakwatch.leakSelect": 1,
		"leakwatch.leakMutex": 2, "leakwatch.leakWaitGroup": 3, "leakwatch.leakCond": 4,
		"leaksafe.Map stage": 5,
	}
	for range 2 {
		leakSend()
		leakReceive()
		leakSelect()
	}
	want["leakwatch.leakSend"], want["leakwatch.leakReceive"], want["leakwatch.leakSelect"] = 2, 2, 2
	leakMutex(2)
	leakWaitGroup(3)
	leakCond(4)
	mapLine := leakStages(5)

	w := New(Threshold(time.Minute))
	ours := func(s Site) bool { return strings.HasPrefix(s.Creator, pkg) || s.Name == "leaksafe.Map stage" }
	counts := func(r Report) map[string]int {
		got := map[string]int{}
		for _, s := range r.Sites {
			if ours(s) {
				got[s.Name] += s.Count
			}
		}
		return got
	}
	// A minute passes between checks, so that the mutex's goroutines, if not proven, are suspected.
	r := waitFor(t, w, time.Minute, func(r Report) bool { return assert.ObjectsAreEqual(want, counts(r)) })

	assert.Equal(t, ModeProfile, r.Mode)
	states := map[string]string{
		"leakwatch.leakSend": "chan send", "leakwatch.leakReceive": "chan receive",
		"leakwatch.leakSelect": "select", "leakwatch.leakMutex": "sync.Mutex.Lock",
		"leakwatch.leakWaitGroup": "sync.WaitGroup.Wait", "leakwatch.leakCond": "sync.Cond.Wait",
		"leaksafe.Map stage": "select",
	}
	for _, s := range r.Sites {
		if !ours(s) {
			assert.False(t, s.Proven, "no other goroutine is proven leaked:\n%s", s.Stack)
			continue
		}
		assert.Equal(t, states[s.Name], s.State, "%s: the wait", s.Name)
		if s.Name != "leakwatch.leakMutex" { // Go 1.26 and 1.27 prove a mutex leak only sometimes
			assert.True(t, s.Proven, "%s: proven by the profile", s.Name)
		}
		if s.Name == "leaksafe.Map stage" {
			// The goroutine's labels name the line of the call of Map, with no GODEBUG setting.
			assert.Equal(t, "leak_test.go:"+strconv.Itoa(mapLine), s.Caller, "the call of Map")
			continue
		}
		assert.Equal(t, pkg+strings.TrimPrefix(s.Name, "leakwatch."), s.Creator)
		assert.Contains(t, s.Created, "/leak_test.go:", "%s: the go statement", s.Name)
		assert.Contains(t, s.BlockedAt, "/leak_test.go:", "%s: where it waits", s.Name)
	}
	t.Logf("\n%v", r)
}

// parked are goroutines that wait on what a global holds: something could still wake them, so the
// profile does not prove them leaked, and under the threshold they are not suspected either.
var parked struct {
	in   chan int // received from, never sent on
	out  chan int // sent on, never received from
	mu   sync.Mutex
	wg   sync.WaitGroup
	cond *sync.Cond
}

// TestParkedGoroutinesAreNotLeaks parks goroutines in every way of TestProvenLeaks on channels and
// primitives that a global holds, in a child process, and requires a report with no site.
func TestParkedGoroutinesAreNotLeaks(t *testing.T) {
	if !inChild(t) {
		return
	}
	parked.in, parked.out = make(chan int), make(chan int)
	parked.cond = sync.NewCond(&sync.Mutex{})
	parked.mu.Lock()
	parked.wg.Add(1)
	for range 3 {
		go func() { parked.out <- 1 }()
		go func() { <-parked.in }()
		go func() {
			select {
			case <-parked.in:
			case parked.out <- 1:
			}
		}()
		go func() { parked.mu.Lock() }()
		go func() { parked.wg.Wait() }()
		go func() {
			parked.cond.L.Lock()
			parked.cond.Wait()
		}()
		leaksafe.Map(nil, parked.in, func(v int) int { return v })
	}
	// Wait until every goroutine is parked, then check a few times: none may ever be reported.
	w := New()
	before := runtime.NumGoroutine()
	waitFor(t, w, 0, func(Report) bool { return parkedCount() == 3*7 })
	for range 3 {
		r, err := w.Snapshot()
		require.NoError(t, err)
		assert.Equal(t, ModeProfile, r.Mode)
		assert.Empty(t, r.Sites, "no site in\n%v", r)
		assert.Zero(t, r.Leaked)
		assert.GreaterOrEqual(t, r.Goroutines, before)
	}
}

// parkedCount returns how many goroutines of TestParkedGoroutinesAreNotLeaks are parked.
func parkedCount() int {
	n := 0
	for _, g := range stacks.Parse(stacks.Dump()) {
		if blockingStates[g.State] && (strings.Contains(g.Text, "TestParkedGoroutinesAreNotLeaks.func") ||
			strings.Contains(g.Text, "leaksafe.Map[")) {
			n++
		}
	}
	return n
}
