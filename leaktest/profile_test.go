package leaktest

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe/internal/stacks"
)

// Two goroutines with the same stack, started by two checks (labelled 3 and 4), as Go 1.26 and
// Go 1.27 print them under GODEBUG=tracebacklabels=1, beside the goroutine of a test that carries
// label 3 too.
const (
	dump126 = `goroutine 6 [chan receive labels:{"leaktest.check": "3"}]:
testing.(*T).Run(0x1c3629786008, {0x51a2a8, 0x5}, 0x5f)
	/go/src/testing/testing.go:2109 +0x4c5
testing.tRunner(0x1c3629786008, 0x1c3629786010)
	/go/src/testing/testing.go:2036 +0xea
created by testing.(*T).Run in goroutine 1
	/go/src/testing/testing.go:2101 +0x4c5

goroutine 7 [chan receive (leaked) labels:{"a": "b", "leaktest.check": "3"}]:
main.leak.func1()
	/src/main.go:10 +0x19
created by main.leak in goroutine 6
	/src/main.go:10 +0x67

goroutine 8 [chan receive (leaked) labels:{"leaktest.check": "4"}]:
main.leak.func1()
	/src/main.go:10 +0x19
created by main.leak in goroutine 9
	/src/main.go:10 +0x67
`
	dump127 = `goroutine 19 [chan receive (leaked)] {a: b, leaktest.check: 3}:
main.leak.func1()
	/src/main.go:10 +0x19
created by main.leak in goroutine 1
	/src/main.go:10 +0x67

goroutine 20 [chan receive (leaked)] {leaktest.check: 4}:
main.leak.func1()
	/src/main.go:10 +0x19
created by main.leak in goroutine 1
	/src/main.go:10 +0x67
`
	// Go 1.25 prints no labels in a dump: the debug=1 profile has them, per stack.
	dump125 = `goroutine 7 [chan receive]:
main.leak.func1()
	/src/main.go:10 +0x19
created by main.leak in goroutine 6
	/src/main.go:10 +0x67

goroutine 11 [chan receive]:
main.other()
	/src/main.go:20 +0x19
created by main.start in goroutine 6
	/src/main.go:22 +0x67
`
	records125 = "goroutine profile: total 3\n" +
		"1 @ 0x47e0ce 0x4158ee 0x415432 0x4dcdd9 0x484641\n" +
		"# labels: {\"leaktest.check\":\"3\"}\n" +
		"#\t0x4dcdd8\tmain.leak.func1+0x18\t\t/src/main.go:10\n" +
		"\n" +
		"1 @ 0x47e0ce 0x4158ee 0x415432 0x4dcdd9 0x484641\n" +
		"# labels: {\"leaktest.check\":\"4\"}\n" +
		"#\t0x4dcdd8\tmain.other+0x18\t\t\t/src/main.go:20\n"
)

// newCollection makes a collection of a dump and, where given, a debug=1 profile.
func newCollection(dump, records string) *collection {
	c := &collection{all: stacks.Parse(dump), byID: map[int]*stacks.Goroutine{}}
	for i := range c.all {
		c.byID[c.all[i].ID] = &c.all[i]
	}
	if records != "" {
		c.records = stacks.ParseRecords(records)
	}
	return c
}

func ids(gs []*stacks.Goroutine) []int {
	var ids []int
	for _, g := range gs {
		ids = append(ids, g.ID)
	}
	return ids
}

func TestOfCheck(t *testing.T) {
	for _, tc := range []struct {
		name, dump, records, label string
		want                       []int
	}{
		{"Go 1.26 header labels, same stack as another check's", dump126, "", "3", []int{7}},
		{"Go 1.26 header labels, the other check", dump126, "", "4", []int{8}},
		{"Go 1.27 header labels, same stack as another check's", dump127, "", "3", []int{19}},
		{"Go 1.27 header labels, the other check", dump127, "", "4", []int{20}},
		{"a label no goroutine carries", dump127, "", "5", nil},
		{"Go 1.25: labels from the debug=1 profile, matched by stack", dump125, records125, "3", []int{7}},
		{"Go 1.25: the other stack", dump125, records125, "4", []int{11}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := newCollection(tc.dump, tc.records).ofCheck(tc.label, newConfig(nil))
			assert.Equal(t, tc.want, ids(got), "the goroutines the check started, the test's own left out")
		})
	}
	t.Run("an option ignores a goroutine", func(t *testing.T) {
		got := newCollection(dump127, "").ofCheck("3", newConfig([]Option{IgnoreTopFunction("main.leak.func1")}))
		assert.Empty(t, got, "ignored by its top function")
	})
}

func TestReportListsEachGoroutineOnce(t *testing.T) {
	c := newCollection(dump127, "")
	var fs findings
	fs.add(c.byID[19], byProfile)
	fs.add(c.byID[19], byGoleak)
	fs.add(c.byID[20], byRetries)
	r := fs.report(true)
	assert.Equal(t, 1, strings.Count(r, "goroutine 19 ["), "seen by two oracles, listed once")
	assert.Contains(t, r, "leaktest: 2 goroutine(s) left behind, created at 1 site(s)")
	assert.Contains(t, r, "[leak profile: blocked forever; goleak: still there]\ngoroutine 19 [", "both oracles named")
	assert.Contains(t, r, "[still there after retries]\ngoroutine 20 [")
	assert.Contains(t, r, "2 goroutine(s) created by go leak.func1() in leak at main.go:10:",
		"grouped by the go statement")
	assert.Empty(t, (&findings{}).report(false), "nothing to report")

	short := fs.report(false)
	assert.NotContains(t, short, "goroutine 19 [", "no stacks by default")
	assert.Contains(t, short, "2 goroutine(s) created by go leak.func1() in leak at main.go:10:\n")
	assert.Contains(t, short, "leaktest.FullStacks()", "says how to see the stacks")
}

// TestReportNamesTheUsersLine groups goroutines that leaksafe started by the user's line in their
// labels, and keeps a report of 5 goroutines at 2 sites short.
func TestReportNamesTheUsersLine(t *testing.T) {
	var dump strings.Builder
	for i := range 3 {
		// as Go 1.27 prints a ParallelMap worker blocked on its send
		fmt.Fprintf(&dump, "goroutine %d [chan send (leaked)] {leaksafe: ParallelMap, leaksafe.site: "+
			"\"crawl_test.go:31\", leaktest.check: \"1\"}:\ngithub.com/leaksafe/leaksafe.send[...](...)\n"+
			"\t/src/leaksafe/stage.go:84\ngithub.com/leaksafe/leaksafe.parallelMap[...].func1.1()\n"+
			"\t/src/leaksafe/worker.go:139 +0xe5\ngithub.com/leaksafe/leaksafe.each[...](0x0?, 0x1, 0x2)\n"+
			"\t/src/leaksafe/stage.go:56 +0xd4\ngithub.com/leaksafe/leaksafe.parallelMap[...].func1()\n"+
			"\t/src/leaksafe/worker.go:139 +0x4f\n"+
			"github.com/leaksafe/leaksafe/internal/site.Run[...](0x1, 0x0, 0x2, 0x0)\n"+
			"\t/src/leaksafe/internal/site/site.go:53 +0xa2\n"+
			"github.com/leaksafe/leaksafe.goWorkers.func1()\n\t/src/leaksafe/stage.go:127 +0x67\n"+
			"created by github.com/leaksafe/leaksafe.goWorkers in goroutine 1\n"+
			"\t/src/leaksafe/stage.go:121 +0x76\n\n", 10+i)
	}
	for i := range 2 {
		fmt.Fprintf(&dump, "goroutine %d [chan receive (leaked)] {leaktest.check: \"1\"}:\n"+
			"main.leakyProducer()\n\t/src/x_test.go:41 +0x19\ncreated by main.TestX in goroutine 1\n"+
			"\t/src/x_test.go:49 +0x67\n\n", 20+i)
	}
	c := newCollection(dump.String(), "")
	var fs findings
	for i := range c.all {
		fs.add(&c.all[i], byProfile)
	}
	r := fs.report(false)
	t.Log("\n" + r)
	assert.Contains(t, r, "\n3 goroutine(s) created by your code at crawl_test.go:31 through leaksafe.ParallelMap:\n"+
		"  3 blocked in [chan send] leaksafe.ParallelMap (leak profile: blocked forever)")
	assert.Contains(t, r, "\n2 goroutine(s) created by go leakyProducer() in TestX at x_test.go:49:\n"+
		"  2 blocked in [chan receive] in leakyProducer at x_test.go:41")
	assert.LessOrEqual(t, strings.Count(r, "\n")+1, 25, "5 goroutines at 2 sites in 25 lines")
}

func TestReportIsCapped(t *testing.T) {
	var dump strings.Builder
	for site := range fullSites + 2 {
		for i := range fullPerSite + 4 {
			fmt.Fprintf(&dump, "goroutine %d [chan receive (leaked)]:\nmain.block()\n\t/src/main.go:%d +0x19\n"+
				"created by main.start in goroutine 1\n\t/src/main.go:%d +0x67\n\n", 100*site+i+10, 5+i%2, 100+site)
		}
	}
	c := newCollection(dump.String(), "")
	var fs findings
	for i := range c.all {
		fs.add(&c.all[i], byProfile)
	}
	r := fs.report(true)
	total := (fullSites + 2) * (fullPerSite + 4)
	assert.Contains(t, r, fmt.Sprintf("leaktest: %d goroutine(s) left behind, created at %d site(s)", total, fullSites+2))
	assert.Equal(t, fullSites*fullPerSite, strings.Count(r, "\ngoroutine "), "the first goroutines of the first sites in full")
	assert.Contains(t, r, "and 4 more created there, not shown:\n"+
		"  2 blocked in [chan receive] in block at main.go:6\n"+
		"  2 blocked in [chan receive] in block at main.go:5", "the rest counted by where they block")
	assert.Contains(t, r, "and at other sites:\n"+
		"  7 goroutine(s) created by go block() in start at main.go:120\n"+
		"  7 goroutine(s) created by go block() in start at main.go:121", "the last sites counted")
}

func TestCollectCoalesces(t *testing.T) {
	const checks = 10
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	collector.mu.Lock()
	require.False(t, collector.running, "no collection running")
	first := true
	collector.hook = func() {
		if first {
			first = false
			started <- struct{}{}
			<-release // the first collection runs until the checks below are waiting
		}
	}
	runs := collector.runs
	collector.mu.Unlock()
	defer func() {
		collector.mu.Lock()
		collector.hook = nil
		collector.mu.Unlock()
	}()

	results := make(chan *collection, checks+1)
	var wg sync.WaitGroup
	wg.Go(func() { results <- collect(false) })
	select {
	case <-started:
	case <-time.After(deadline):
		t.Fatal("the first collection did not start")
	}
	for range checks {
		wg.Go(func() { results <- collect(false) })
	}
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		collector.mu.Lock()
		waiting := collector.waiting
		collector.mu.Unlock()
		if waiting == checks {
			break
		}
		require.Less(t, time.Since(start), deadline, "the checks did not all wait")
	}
	close(release)
	wg.Wait()
	close(results)
	firstResult := <-results
	var later []*collection
	for c := range results {
		if c != firstResult {
			later = append(later, c)
		}
	}
	require.Len(t, later, checks, "every check that asked during the first collection waited for the next")
	for _, c := range later {
		assert.Same(t, later[0], c, "and they all took the same one")
	}
	collector.mu.Lock()
	assert.Equal(t, runs+2, collector.runs, "two collections for eleven checks")
	collector.mu.Unlock()
}

// deadline bounds every wait in a test.
const deadline = 10 * time.Second

func TestShowLabels(t *testing.T) {
	for _, tc := range []struct{ name, godebug, want string }{
		{"GODEBUG unset", "", "tracebacklabels=1"},
		{"other settings kept", "gctrace=0", "gctrace=0,tracebacklabels=1"},
		{"the user's own choice kept", "tracebacklabels=0", "tracebacklabels=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GODEBUG", tc.godebug)
			showLabels()
			assert.Equal(t, tc.want, os.Getenv("GODEBUG"))
		})
	}
}
