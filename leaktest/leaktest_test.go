package leaktest_test

import (
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/leaktest"
)

// recorder stands in for a *testing.T, so that a test can run a check and look at what it reports.
// Its cleanups run when finish is called.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	errors   []string
	logs     []string
}

func (r *recorder) Helper() {}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Log(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprint(args...))
}

// finish runs the cleanups, last registered first, as the testing package does when a test ends,
// and returns what the checks reported.
func (r *recorder) finish() string {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	return strings.Join(r.errors, "\n")
}

// runTest runs tests at the same time, each in a goroutine of its own with a recorder for its
// *testing.T, as go test runs parallel tests, and returns "PASS", or "FAIL" and what the tests
// reported.
func runTest(tests ...func(testing.TB)) string {
	reports := make([]string, len(tests))
	var wg sync.WaitGroup
	for i, test := range tests {
		wg.Go(func() {
			rec := &recorder{}
			test(rec)
			reports[i] = rec.finish()
		})
	}
	wg.Wait()
	if failed := strings.TrimSpace(strings.Join(reports, "\n")); failed != "" {
		return "FAIL\n" + failed
	}
	return "PASS"
}

// pipelines are ways of using leaksafe that leave nothing running, each ending differently.
var pipelines = []struct {
	name string
	run  func(t *testing.T)
}{
	{"input drained to the end", func(t *testing.T) {
		t.Helper()
		nums, t1 := leaksafe.Generate(nil, 1, 2, 3)
		squares, t2 := leaksafe.Map(nil, nums, func(n int) int { return n * n })
		var got []int
		for v := range squares {
			got = append(got, v)
		}
		waitClosed(t, leaksafe.All(t1, t2), "terminated")
		assert.Equal(t, []int{1, 4, 9}, got, "every square, in order")
	}},
	{"done closed mid-stream", func(t *testing.T) {
		t.Helper()
		done := make(chan struct{})
		nums, t1 := leaksafe.Repeat(done, 1, 2, 3)
		evens, t2 := leaksafe.Filter(done, nums, func(n int) bool { return n%2 == 0 })
		assert.Equal(t, 2, <-evens, "the first even number")
		close(done)
		waitClosed(t, leaksafe.All(t1, t2), "terminated")
	}},
	{"break out of Range", func(t *testing.T) {
		t.Helper()
		for n := range leaksafe.Range(nil, leaksafe.NewRandStream) {
			if n >= 0 {
				break // Range stops the generator and waits for it
			}
		}
	}},
	{"parallel workers cancelled", func(t *testing.T) {
		t.Helper()
		done := make(chan struct{})
		nums, t1 := leaksafe.Repeat(done, 1)
		out, t2 := leaksafe.ParallelMap(done, nums, 4, func(n int) int { return n + 1 })
		assert.Equal(t, 2, <-out, "a worker's result")
		close(done)
		waitClosed(t, leaksafe.All(t1, t2), "terminated")
	}},
}

func TestCheckPassesWhenEverythingStops(t *testing.T) {
	for _, p := range pipelines {
		t.Run(p.name, func(t *testing.T) {
			leaktest.Check(t)
			p.run(t)
		})
	}
}

func TestCheckParallelPassesWhenEverythingStops(t *testing.T) {
	for _, p := range pipelines {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			leaktest.CheckParallel(t)
			p.run(t)
		})
	}
}

func TestChecksReportAGoroutineStillRunning(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(t testing.TB, opts ...leaktest.Option)
		want  string
	}{
		{"Check, through goleak", leaktest.Check, "[goleak: still there]"},
		{"CheckParallel, through its labels", leaktest.CheckParallel, "[still there after retries]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			tc.check(rec, leaktest.FullStacks()) // the stacks, as under -v
			release := make(chan struct{})
			exited := make(chan struct{})
			go waitForRelease(release, exited) // release stays reachable: not a proven leak
			report := rec.finish()
			close(release)
			waitClosed(t, exited, "the goroutine released")

			assert.Contains(t, report, tc.want, "the oracle that found it")
			assert.Contains(t, report, "leaktest_test.waitForRelease", "the goroutine's stack")
			assert.Contains(t, report, "created by github.com/leaksafe/leaksafe/leaktest_test.TestChecksReportAGoroutineStillRunning",
				"where the goroutine was created")
			assert.NotContains(t, report, "(leaked)", "a goroutine that can still be released is not a proven leak")
		})
	}
}

// waitForRelease blocks until release closes, then closes exited.
func waitForRelease(release <-chan struct{}, exited chan<- struct{}) {
	defer close(exited)
	<-release
}

func TestChecksIgnoreWhatOptionsSay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(t testing.TB, opts ...leaktest.Option)
		opt   leaktest.Option
	}{
		{"Check with IgnoreTopFunction", leaktest.Check,
			leaktest.IgnoreTopFunction("github.com/leaksafe/leaksafe/leaktest_test.waitForRelease")},
		{"Check with IgnoreAnyFunction", leaktest.Check,
			leaktest.IgnoreAnyFunction("github.com/leaksafe/leaksafe/leaktest_test.waitForRelease")},
		{"CheckParallel with IgnoreTopFunction", leaktest.CheckParallel,
			leaktest.IgnoreTopFunction("github.com/leaksafe/leaksafe/leaktest_test.waitForRelease")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			tc.check(rec, tc.opt)
			release := make(chan struct{})
			exited := make(chan struct{})
			go waitForRelease(release, exited)
			report := rec.finish()
			close(release)
			waitClosed(t, exited, "the goroutine released")
			assert.Empty(t, report, "the ignored goroutine is not reported")
		})
	}
}

func TestFindIgnoresCurrentGoroutines(t *testing.T) {
	release := make(chan struct{})
	exited := make(chan struct{})
	go waitForRelease(release, exited)
	err := leaktest.Find(leaktest.IgnoreCurrent())
	close(release)
	waitClosed(t, exited, "the goroutine released")
	assert.NoError(t, err, "a goroutine that ran before IgnoreCurrent is not reported")
}

// TestCheckParallelTellsParallelTestsApart runs two parallel tests. The first keeps a goroutine
// running while the second ends: goleak's snapshot, in Check, blames the second test for it;
// CheckParallel, which follows profiler labels, does not.
func TestCheckParallelTellsParallelTestsApart(t *testing.T) {
	if f := flag.Lookup("test.parallel"); f != nil && f.Value.String() == "1" {
		t.Skip("the two tests must run at the same time: -parallel must be at least 2")
	}
	secondReady := make(chan struct{})
	started := make(chan struct{})
	secondDone := make(chan struct{})
	t.Run("first keeps a goroutine running", func(t *testing.T) {
		t.Parallel()
		leaktest.CheckParallel(t)
		waitClosed(t, secondReady, "the second test ready")
		release := make(chan struct{})
		exited := make(chan struct{})
		go waitForRelease(release, exited)
		close(started)
		waitClosed(t, secondDone, "the second test done")
		close(release)
		waitClosed(t, exited, "the goroutine released")
	})
	t.Run("second ends while it runs", func(t *testing.T) {
		t.Parallel()
		t.Cleanup(func() { close(secondDone) }) // runs after CheckParallel's check
		leaktest.CheckParallel(t)
		rec := &recorder{}
		checked := make(chan struct{})
		go func() { // Check labels the goroutine that calls it: not this test's
			defer close(checked)
			leaktest.Check(rec)
		}()
		waitClosed(t, checked, "Check called")
		close(secondReady)
		waitClosed(t, started, "the first test's goroutine started")
		pipelines[1].run(t)
		report := rec.finish()
		assert.Contains(t, report, "waitForRelease", // by name, with or without -v's stacks
			"goleak's snapshot sees the other test's goroutine: Check is not for parallel tests")
	})
}

func TestProfileAvailableMatchesTheRuntime(t *testing.T) {
	v := runtime.Version()
	switch {
	case strings.Contains(v, "goroutineleakprofile"):
		assert.True(t, leaktest.ProfileAvailable(), "%s was built with the experiment", v)
	case strings.HasPrefix(v, "go1.25"), strings.HasPrefix(v, "go1.26"):
		assert.False(t, leaktest.ProfileAvailable(), "%s has no profile without the experiment", v)
	case strings.HasPrefix(v, "go1.27"):
		assert.True(t, leaktest.ProfileAvailable(), "%s has the profile by default", v)
	default:
		t.Skipf("no expectation for %s", v)
	}
}

func TestFindReportsNothingAfterCleanPipelines(t *testing.T) {
	for _, p := range pipelines {
		p.run(t)
	}
	require.NoError(t, leaktest.Find(), "every pipeline stopped")
}
