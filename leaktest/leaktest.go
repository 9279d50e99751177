// Package leaktest fails a test, or a whole test binary, that leaves goroutines behind.
//
// It combines two oracles:
//
//   - goleak's snapshot (go.uber.org/goleak): after the test, every goroutine that did not exist
//     when the check began must have exited. goleak retries for a while before it reports, so a
//     goroutine that is on its way out is not reported. It sees every goroutine of the process, so
//     it cannot tell tests that run at the same time apart, and it reports a goroutine that
//     outlives the test for any reason, blocked forever or not.
//   - the Go runtime's goroutine leak profile (runtime/pprof, profile "goroutineleak"): a garbage
//     collection that proves a goroutine is blocked forever, because the channel (or wait group, or
//     other primitive the runtime tracks) that it waits on can no longer be reached by any
//     goroutine that could still run; goroutines blocked on each other's channels count too. It is
//     sound: a goroutine it reports can never run again. It does not report a goroutine blocked on
//     a channel that a live variable, a global or a running goroutine can still reach, since
//     something could still wake it. Each goroutine carries the profiler labels of the goroutine
//     that created it, so leaktest attributes a leak to the test that started it, even among
//     parallel tests.
//
// The leak profile is on by default from Go 1.27, and in Go 1.26 when the test binary is built with
// GOEXPERIMENT=goroutineleakprofile. Where the profile is not available, leaktest checks with
// goleak alone and says so in the test log ([ProfileAvailable] reports which it is).
//
// # Which helper to use
//
//   - [VerifyTestMain] in TestMain checks the whole test binary after every test has run: with
//     goleak and with the profile. It is safe with parallel tests and is the one every package
//     should have.
//   - [Check] checks a single test that does not run in parallel with others: it neither calls
//     t.Parallel nor runs under a parent test that does. It uses both oracles, and reports the leak
//     in the test that caused it, not at the end of the binary.
//   - [CheckParallel] checks a single test that may run in parallel with others. goleak's snapshot
//     would see the goroutines of the other tests, so CheckParallel does not use it; it reports the
//     goroutines that the test started (found by their profiler labels) that the profile proves
//     leaked or that are still running after retries. Without the profile it still reports those
//     still running.
//   - [Find] returns the same verdict as VerifyTestMain as an error, outside of TestMain.
//
// # Reports
//
// A report lists each goroutine left behind once, with the oracles that saw it, grouped by the
// place that created it. A goroutine that a leaksafe primitive started is named by the user's line
// that called the primitive, from the profiler labels that leaksafe gives it: "4 goroutine(s)
// created by your code at crawl.go:9 through leaksafe.ParallelMap"; any other by its go statement:
// "created by go producer() in TestX at x_test.go:49". Each site says where its goroutines block
// ("in producer at x_test.go:41"); the stacks (the first three of each site in full, the others
// counted by where they block) come with [FullStacks] or under go test -v. Past twenty sites a
// report gives only a count per site, so that a test that leaks thousands of goroutines still gets
// a readable report. A leak that the profile proves fails the test at once: the other goroutines
// the test left running are listed as seen then, without the retries.
//
// # Cost
//
// A check looks at every goroutine of the process: a collection, which with the profile is two
// garbage collections (one of them stops the world) and a dump of every stack. Checks that run at
// the same time share collections: a check that asks while one is running waits for the next one
// and takes its result, so a hundred parallel tests cost about as much as a few. Find and
// VerifyTestMain, and Check when the profile proves nothing, also run goleak, which waits while
// goroutines are still running (about half a second at most).
//
// # Limits
//
// The profile proves leaks only for goroutines that have blocked on something unreachable: a
// goroutine that spins, sleeps, has not yet reached the receive that will block it forever, or
// waits on a channel held in a global is found by goleak's snapshot (in [Check] and
// [VerifyTestMain]) or by the retries of [CheckParallel], not by the profile. A goroutine blocked
// on a sync.Mutex or sync.RWMutex is reported by the profile most of the time, with or without the
// race detector, but not always; goleak's snapshot and the retries still see it.
//
// Attribution relies on profiler labels, which a goroutine inherits from the goroutine that starts
// it; leaksafe's primitives add theirs and keep the test's. [Check] and [CheckParallel] replace the
// profiler labels of the test's goroutine. To read each goroutine's labels in a dump, leaktest
// turns on GODEBUG=tracebacklabels=1 for the process (through os.Setenv, before each collection)
// unless GODEBUG already sets tracebacklabels: Go 1.26 and 1.27 then print the labels of each
// goroutine, and a check picks exactly its own goroutines, even when tests beside it leak through
// the same code. Go 1.25 cannot print them, and neither can a process run with
// GODEBUG=tracebacklabels=0: there, a check matches the labels of the debug=1 profile to goroutines
// by stack, and when another test has goroutines with the same stack, it reports those too. Code
// that replaces its labels (runtime/pprof.Do with a context that does not carry the test's labels,
// or runtime/pprof.SetGoroutineLabels) starts goroutines that [CheckParallel] cannot attribute to
// the test; [Check] still sees them through goleak's snapshot, and [VerifyTestMain] sees them all.
package leaktest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/leaksafe/leaksafe/internal/stacks"
)

// Option changes what a check ignores. Options apply to both oracles.
type Option interface {
	apply(*config)
}

type config struct {
	goleak []goleak.Option
	ignore []func(g *stacks.Goroutine) bool
	full   bool // every stack in the report, as under go test -v
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

func newConfig(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		o.apply(c)
	}
	return c
}

// ignored reports whether an option tells the check to skip g.
func (c *config) ignored(g *stacks.Goroutine) bool {
	for _, f := range c.ignore {
		if f(g) {
			return true
		}
	}
	return false
}

// IgnoreTopFunction ignores goroutines whose topmost function, outside the runtime, is f: a fully
// qualified name such as "net/http.(*persistConn).readLoop".
func IgnoreTopFunction(f string) Option {
	return optionFunc(func(c *config) {
		c.goleak = append(c.goleak, goleak.IgnoreTopFunction(f))
		c.ignore = append(c.ignore, func(g *stacks.Goroutine) bool { return g.Top().Func == f })
	})
}

// IgnoreAnyFunction ignores goroutines that have f anywhere in their stack.
func IgnoreAnyFunction(f string) Option {
	return optionFunc(func(c *config) {
		c.goleak = append(c.goleak, goleak.IgnoreAnyFunction(f))
		c.ignore = append(c.ignore, func(g *stacks.Goroutine) bool { return has(g, f) })
	})
}

// FullStacks makes a report show the stacks of the goroutines left behind (the first three of each
// site, the others counted by where they block), as it does when the tests run with -v. By
// default a report shows one line per site, the user's line that created it, and where its
// goroutines block.
func FullStacks() Option {
	return optionFunc(func(c *config) { c.full = true })
}

// IgnoreCurrent ignores every goroutine that exists when IgnoreCurrent is called. It is for
// [VerifyTestMain] and [Find] in a program that starts long-lived goroutines before the code under
// test; [Check] already ignores the goroutines that exist when it is called.
func IgnoreCurrent() Option {
	ids := map[int]bool{}
	for _, g := range stacks.Parse(stacks.Dump()) {
		ids[g.ID] = true
	}
	gl := goleak.IgnoreCurrent()
	return optionFunc(func(c *config) {
		c.goleak = append(c.goleak, gl)
		c.ignore = append(c.ignore, func(g *stacks.Goroutine) bool { return ids[g.ID] })
	})
}

// The runtime's goroutine leak profile, or nil where this Go has none, and its goroutine profile.
var (
	leakProfile      = stacks.LeakProfile()
	goroutineProfile = pprof.Lookup("goroutine")
)

// has reports whether fn is in g's stack or created g.
func has(g *stacks.Goroutine, fn string) bool {
	for _, f := range g.Frames {
		if f.Func == fn {
			return true
		}
	}
	return g.CreatedBy.Func == fn
}

// ProfileAvailable reports whether the Go runtime that runs the test has the goroutine leak
// profile: Go 1.27 and later, or Go 1.26 built with GOEXPERIMENT=goroutineleakprofile. Without it,
// leaktest checks with goleak alone.
func ProfileAvailable() bool {
	return leakProfile != nil
}

// unavailable is the note that says the profile is missing and what the check does instead.
func unavailable(instead string) string {
	return fmt.Sprintf("leaktest: %s has no goroutine leak profile "+
		"(it needs Go 1.27, or Go 1.26 with GOEXPERIMENT=goroutineleakprofile); %s",
		runtime.Version(), instead)
}

// noteOnce makes the note about a missing profile appear once per test binary.
var noteOnce sync.Once

// noteUnavailable logs in tb, the first time a check of the test binary asks, that this Go has no
// leak profile and what the check does without it. The line is the caller's, not leaktest's.
func noteUnavailable(tb testing.TB, without string) {
	tb.Helper()
	if ProfileAvailable() {
		return
	}
	first := false
	noteOnce.Do(func() { first = true })
	if first {
		tb.Log(unavailable(without))
	}
}

// VerifyTestMain runs the tests of m and then fails the test binary if any goroutine is left
// behind. Call it from TestMain:
//
//	func TestMain(m *testing.M) {
//		leaktest.VerifyTestMain(m)
//	}
//
// When the tests pass, VerifyTestMain reports every goroutine that the leak profile proves leaked
// and every goroutine still running after goleak's retries (except the testing package's own), each
// once, with its stack and the line that created it, and exits with status 1. It always ends the
// process with os.Exit. Because it runs after every test has finished, it is correct with parallel
// tests. Without the leak profile it checks with goleak alone, and says so when the tests run with
// -v or when it finds a leak.
func VerifyTestMain(m *testing.M, opts ...Option) {
	code := m.Run()
	if code == 0 {
		if err := Find(opts...); err != nil {
			fmt.Fprintf(os.Stderr, "%v\n", err)
			if !ProfileAvailable() {
				fmt.Fprintln(os.Stderr, unavailable("goleak alone checked this binary"))
			}
			code = 1
		} else if !ProfileAvailable() && testing.Verbose() {
			fmt.Fprintln(os.Stderr, unavailable("goleak alone checked this binary"))
		}
	}
	os.Exit(code)
}

// Find reports, as an error, every goroutine of the process that the leak profile proves leaked and
// every goroutine other than the caller's that goleak still finds running after its retries (the
// testing package's own goroutines excepted), each once. It returns nil when there are none.
//
// Find is what [VerifyTestMain] runs after the tests. It waits while goleak retries (about half a
// second at most) when goroutines are still running, unless the profile has already proved a leak:
// it then lists the goroutines still running as they are, without the retries.
func Find(opts ...Option) error {
	c := newConfig(opts)
	coll := collect(true)
	var fs findings
	for i := range coll.all {
		if g := &coll.all[i]; g.Leaked && !isTestMachinery(g) && !c.ignored(g) {
			fs.add(g, byProfile)
		}
	}
	if len(fs.list) == 0 {
		if err := goleak.Find(c.goleak...); err != nil {
			fs.addGoleak(err, coll)
		}
	} else {
		// A proven leak is reported already: list what else runs without goleak's retries.
		for i := range coll.all {
			g := &coll.all[i]
			if !g.Leaked && !isTestMachinery(g) && !isRuntime(g) && !isSignalLoop(g) &&
				!c.ignored(g) {
				fs.add(g, bySnapshot)
			}
		}
	}
	if r := fs.report(c.full || testing.Verbose()); r != "" {
		return errors.New(r)
	}
	return nil
}

// isSignalLoop reports whether g is the goroutine of os/signal that delivers signals, which lives
// as long as the process and which goleak leaves out too.
func isSignalLoop(g *stacks.Goroutine) bool {
	for _, f := range g.Frames {
		if f.Func == "os/signal.signal_recv" || f.Func == "os/signal.loop" {
			return true
		}
	}
	return false
}

// Check fails the test tb if, once tb and its cleanups have finished, a goroutine started during
// tb is left behind. Call it at the start of a test that does not run in parallel with others:
//
//	func TestPipeline(t *testing.T) {
//		leaktest.Check(t)
//		...
//	}
//
// The check runs as a cleanup of tb, after the cleanups registered later (a cleanup that stops
// goroutines runs before it), in tb's goroutine, and starts no goroutine. It reports every
// goroutine started by tb (including its subtests) that the leak profile proves leaked and every
// goroutine that did not exist when Check was called and is still running after goleak's retries,
// each once, with its stack and the line that created it. When the profile proves a leak, the
// goroutines still running are reported as they are then, without the retries.
//
// goleak sees every goroutine of the process, so Check must not be used in a test that calls
// t.Parallel, or in a test whose parent does: use [CheckParallel] there. Without the leak profile,
// Check checks with goleak alone and says so once in the test log.
func Check(tb testing.TB, opts ...Option) {
	tb.Helper()
	c := newConfig(opts)
	snapshot := goleak.IgnoreCurrent()
	before := map[int]bool{}
	for _, g := range stacks.Parse(stacks.Dump()) {
		before[g.ID] = true
	}
	label := labelTest()
	tb.Cleanup(func() {
		tb.Helper()
		noteUnavailable(tb, "goleak alone checks each test")
		coll := collect(true)
		var fs findings
		for _, g := range coll.ofCheck(label, c) {
			if g.Leaked {
				fs.add(g, byProfile)
			}
		}
		var started []*stacks.Goroutine // the goroutines that did not exist when Check was called
		for i := range coll.all {
			g := &coll.all[i]
			if !before[g.ID] && !isTestMachinery(g) && !isRuntime(g) && !c.ignored(g) {
				started = append(started, g)
				if g.Leaked {
					fs.add(g, byProfile) // started by the test, under labels it replaced
				}
			}
		}
		if len(fs.list) == 0 {
			if err := goleak.Find(append(c.goleak, snapshot)...); err != nil {
				fs.addGoleak(err, coll)
			}
		} else {
			// A proven leak fails the test already: list what else runs without goleak's retries.
			for _, g := range started {
				if !g.Leaked {
					fs.add(g, bySnapshot)
				}
			}
		}
		if r := fs.report(c.full || testing.Verbose()); r != "" {
			tb.Errorf("%s", r)
		}
	})
}

// isRuntime reports whether the runtime started g for itself, such as a garbage collection worker.
func isRuntime(g *stacks.Goroutine) bool {
	return g.CreatedBy.InRuntime()
}

// CheckParallel fails the test tb if, once tb and its cleanups have finished, a goroutine that tb
// started is left behind. Unlike [Check], it is correct in a test that calls t.Parallel, or whose
// parent does:
//
//	func TestPipeline(t *testing.T) {
//		t.Parallel()
//		leaktest.CheckParallel(t)
//		...
//	}
//
// CheckParallel gives the test's goroutine profiler labels of its own, which every goroutine it
// starts inherits, directly or through other goroutines. After the test, in a cleanup that runs in
// tb's goroutine, it reports the goroutines carrying those labels that the leak profile proves
// leaked, and those still running after retries (about half a second at most), each once, with its
// stack and the line that created it. It tells them from the goroutines of tests running beside it
// by those labels, exactly where the runtime prints them (see the package documentation's limits).
//
// It does not see goroutines started from code that replaced the labels, so keep [VerifyTestMain]
// in TestMain as well. Without the leak profile, CheckParallel reports only goroutines still
// running, and says so once in the test log.
func CheckParallel(tb testing.TB, opts ...Option) {
	tb.Helper()
	c := newConfig(opts)
	label := labelTest()
	tb.Cleanup(func() {
		tb.Helper()
		noteUnavailable(tb, "CheckParallel reports only goroutines still running")
		var fs findings
		gs := collect(true).ofCheck(label, c)
		for i := 0; i < retries && len(gs) > 0 && !anyLeaked(gs); i++ {
			// Still running, none proven leaked: they may be on their way out.
			time.Sleep(min(time.Microsecond<<i, maxPause))
			gs = collect(false).ofCheck(label, c)
		}
		if len(gs) > 0 && !anyLeaked(gs) && ProfileAvailable() {
			gs = collect(true).ofCheck(label, c) // one more chance for the profile to prove them
		}
		proven := anyLeaked(gs)
		for _, g := range gs {
			switch {
			case g.Leaked:
				fs.add(g, byProfile)
			case proven:
				fs.add(g, bySnapshot)
			default:
				fs.add(g, byRetries)
			}
		}
		if r := fs.report(c.full || testing.Verbose()); r != "" {
			tb.Errorf("%s", r)
		}
	})
}

// anyLeaked reports whether the leak profile proved a goroutine of gs leaked.
func anyLeaked(gs []*stacks.Goroutine) bool {
	for _, g := range gs {
		if g.Leaked {
			return true
		}
	}
	return false
}

var checks atomic.Int64

// labelTest gives the calling goroutine a profiler label of its own, which the goroutines it starts
// inherit, and returns the label's value.
func labelTest() string {
	label := strconv.FormatInt(checks.Add(1), 10)
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(labelKey, label)))
	return label
}

// Retries of CheckParallel, and the longest pause between two tries: the same bounds as goleak's.
const (
	retries  = 20
	maxPause = 100 * time.Millisecond
)
