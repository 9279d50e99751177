package leakwatch

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe/internal/stacks"
)

// t0 is the time of the first check in tests that pass the clock themselves.
var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// describe projects a site on what a reader of the report sees of it.
func describe(s Site) string {
	verdict := "suspected"
	if s.Proven {
		verdict = "proven"
	}
	where := s.Created
	if s.Caller != "" {
		where = strings.TrimSpace(s.CallerFunc + " " + s.Caller)
	}
	return fmt.Sprintf("%d %s %s | %s | %s at %s", s.Count, verdict, s.Name, where, s.State, s.BlockedAt)
}

func describeAll(sites []Site) []string {
	var d []string
	for _, s := range sites {
		d = append(d, describe(s))
	}
	return d
}

// TestSitesFromRealDumps groups the dumps of a program that leaks one goroutine in each way,
// written by the goroutine leak profile of two toolchains.
func TestSitesFromRealDumps(t *testing.T) {
	const src = "/tmp/lwexp/main.go"
	tests := []struct {
		name string
		file string
		// at the first check, and a minute later, when the threshold has passed
		first, later []string
	}{
		{
			name: "Go 1.26 with the experiment: labels in the header, the mutex not proven",
			file: "testdata/go1.26-goroutineleakprofile.txt",
			first: []string{
				"1 proven leaksafe.Map stage | /work/wt-leakwatch/stream.go:75 | select at /work/wt-leakwatch/stream.go:79",
				"1 proven main.leakCond | " + src + ":46 | sync.Cond.Wait at " + src + ":46",
				"1 proven main.leakRecv | " + src + ":23 | chan receive at " + src + ":23",
				"1 proven main.leakSelect | " + src + ":27 | select at " + src + ":28",
				"1 proven main.leakSend | " + src + ":19 | chan send at " + src + ":19",
				"1 proven main.leakWG | " + src + ":42 | sync.WaitGroup.Wait at " + src + ":42",
			},
			later: []string{
				"1 proven leaksafe.Map stage | /work/wt-leakwatch/stream.go:75 | select at /work/wt-leakwatch/stream.go:79",
				"1 proven main.leakCond | " + src + ":46 | sync.Cond.Wait at " + src + ":46",
				"1 proven main.leakRecv | " + src + ":23 | chan receive at " + src + ":23",
				"1 proven main.leakSelect | " + src + ":27 | select at " + src + ":28",
				"1 proven main.leakSend | " + src + ":19 | chan send at " + src + ":19",
				"1 proven main.leakWG | " + src + ":42 | sync.WaitGroup.Wait at " + src + ":42",
				"1 suspected main.leakMutex | " + src + ":37 | sync.Mutex.Lock at " + src + ":37",
			},
		},
		{
			name: "Go 1.27.3 with tracebackancestors: the caller of leaksafe.Map named",
			file: "testdata/go1.27.3-tracebackancestors.txt",
			first: []string{
				"1 proven leaksafe.Map stage | main.leakMap " + src + ":53 | select at /work/wt-leakwatch/stream.go:79",
				"1 proven main.leakCond | " + src + ":46 | sync.Cond.Wait at " + src + ":46",
				"1 proven main.leakMutex | " + src + ":37 | sync.Mutex.Lock at " + src + ":37",
				"1 proven main.leakRecv | " + src + ":23 | chan receive at " + src + ":23",
				"1 proven main.leakSelect | " + src + ":27 | select at " + src + ":28",
				"1 proven main.leakSend | " + src + ":19 | chan send at " + src + ":19",
				"1 proven main.leakWG | " + src + ":42 | sync.WaitGroup.Wait at " + src + ":42",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dump, err := os.ReadFile(tt.file)
			require.NoError(t, err)
			gs := stacks.Parse(string(dump))
			w := New(Threshold(time.Minute))

			sites, _, _ := w.group(gs, t0)
			assert.Equal(t, tt.first, describeAll(sites), "at the first check")
			for _, s := range sites {
				assert.True(t, s.New, "%s: new at the first check", s.Name)
				assert.Contains(t, s.Stack, "(leaked)", "%s: the stack of one of its goroutines", s.Name)
			}

			later := tt.later
			if later == nil {
				later = tt.first
			}
			sites, _, _ = w.group(gs, t0.Add(time.Minute))
			assert.Equal(t, later, describeAll(sites), "a minute later, at the threshold")
			for _, s := range sites {
				if s.Proven {
					assert.False(t, s.New, "%s: not new at the second check", s.Name)
					assert.Equal(t, 1, s.Previous, "%s: the count of the first check", s.Name)
				}
			}
		})
	}
}

// goroutine returns a goroutine's block of a dump: blocked in state in fn at file.go:line, created
// by creator at file.go:line+1 (no creator: the main goroutine).
func goroutine(id int, state, fn string, line int, creator string) string {
	b := fmt.Sprintf("goroutine %d [%s]:\n%s()\n\t/src/file.go:%d +0x1e\n", id, state, fn, line)
	if creator != "" {
		b += fmt.Sprintf("created by %s in goroutine 1\n\t/src/file.go:%d +0x5f\n", creator, line+1)
	}
	return b
}

func dump(blocks ...string) []stacks.Goroutine {
	return stacks.Parse(strings.Join(blocks, "\n"))
}

// TestSuspicion checks the fallback's heuristic with a clock the test sets: a goroutine is
// suspected once it has been seen blocked at one place, on a channel or a sync primitive, for the
// threshold.
func TestSuspicion(t *testing.T) {
	const threshold = 10 * time.Minute
	blocked := func(id int) string { return goroutine(id, "chan send", "main.f.func1", 10, "main.f") }
	generic := func(id int) string {
		return goroutine(id, "chan send", "main.f[...].func1", 10, "main.f[...]")
	}
	tests := []struct {
		name   string
		opts   []Option
		checks []string        // the dump at each check
		at     []time.Duration // the time of each check after t0
		want   []string        // the sites of the last check
	}{
		{
			name:   "blocked for the threshold",
			checks: []string{blocked(7), blocked(7)},
			at:     []time.Duration{0, threshold},
			want:   []string{"1 suspected main.f | /src/file.go:11 | chan send at /src/file.go:10"},
		},
		{
			name:   "blocked for less than the threshold",
			checks: []string{blocked(7), blocked(7)},
			at:     []time.Duration{0, threshold - time.Second},
		},
		{
			name:   "moved between checks",
			checks: []string{blocked(7), goroutine(7, "chan send", "main.f.func1", 12, "main.f")},
			at:     []time.Duration{0, threshold},
		},
		{
			name:   "another goroutine at the same place",
			checks: []string{blocked(7), blocked(8)},
			at:     []time.Duration{0, threshold},
		},
		{
			name:   "the runtime says it has waited for the threshold",
			checks: []string{goroutine(7, "chan receive, 10 minutes", "main.f.func1", 10, "main.f")},
			at:     []time.Duration{0},
			want:   []string{"1 suspected main.f | /src/file.go:11 | chan receive at /src/file.go:10"},
		},
		{
			name:   "three at one place and one elsewhere",
			checks: []string{blocked(7) + "\n" + blocked(8), blocked(7) + "\n" + blocked(8) + "\n" + blocked(9)},
			at:     []time.Duration{0, threshold},
			want:   []string{"2 suspected main.f | /src/file.go:11 | chan send at /src/file.go:10"},
		},
		{
			name:   "its function ignored",
			opts:   []Option{Ignore("main.g", "main.f.func1")},
			checks: []string{blocked(7), blocked(7)},
			at:     []time.Duration{0, threshold},
		},
		{
			name:   "its creator ignored",
			opts:   []Option{Ignore("main.f")},
			checks: []string{blocked(7), blocked(7)},
			at:     []time.Duration{0, threshold},
		},
		{
			name:   "another function ignored",
			opts:   []Option{Ignore("main.g")},
			checks: []string{blocked(7), blocked(7)},
			at:     []time.Duration{0, threshold},
			want:   []string{"1 suspected main.f | /src/file.go:11 | chan send at /src/file.go:10"},
		},
		{
			name:   "proven, with its function ignored",
			opts:   []Option{Ignore("main.f.func1")},
			checks: []string{goroutine(7, "chan send (leaked)", "main.f.func1", 10, "main.f")},
			at:     []time.Duration{0},
			want:   []string{"1 proven main.f | /src/file.go:11 | chan send at /src/file.go:10"},
		},
		{
			name:   "a generic function ignored by its name without type parameters",
			opts:   []Option{Ignore("main.f")},
			checks: []string{generic(7), generic(7)},
			at:     []time.Duration{0, threshold},
		},
		{
			name:   "a generic function not ignored",
			opts:   []Option{Ignore("main.g")},
			checks: []string{generic(7), generic(7)},
			at:     []time.Duration{0, threshold},
			want:   []string{"1 suspected main.f[...] | /src/file.go:11 | chan send at /src/file.go:10"},
		},
		{
			name:   "waiting on the network",
			checks: []string{goroutine(7, "IO wait, 30 minutes", "main.f.func1", 10, "main.f")},
			at:     []time.Duration{0},
		},
		{
			name:   "asleep",
			checks: []string{goroutine(7, "sleep, 30 minutes", "main.f.func1", 10, "main.f")},
			at:     []time.Duration{0},
		},
		{
			name:   "the main goroutine",
			checks: []string{goroutine(1, "chan receive, 30 minutes", "main.main", 10, "")},
			at:     []time.Duration{0},
		},
		{
			name:   "started by the runtime",
			checks: []string{goroutine(2, "select, 30 minutes", "runtime.worker", 10, "runtime.start")},
			at:     []time.Duration{0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New(append([]Option{Threshold(threshold)}, tt.opts...)...)
			var sites []Site
			for i, d := range tt.checks {
				sites, _, _ = w.group(dump(d), t0.Add(tt.at[i]))
			}
			assert.Equal(t, tt.want, describeAll(sites))
		})
	}
}

// TestSiteHistory checks how a site's count moves from one check to the next.
func TestSiteHistory(t *testing.T) {
	leaked := func(n int) string {
		var b []string
		for i := range n {
			b = append(b, goroutine(10+i, "chan send (leaked)", "main.f.func1", 10, "main.f"))
		}
		return strings.Join(b, "\n")
	}
	w := New()
	type moved struct {
		Count, Previous int
		New             bool
	}
	var got []moved
	for _, n := range []int{2, 5, 5, 0, 3} {
		sites, _, _ := w.group(dump(leaked(n)), t0)
		require.LessOrEqual(t, len(sites), 1)
		if len(sites) == 0 {
			got = append(got, moved{})
			continue
		}
		got = append(got, moved{sites[0].Count, sites[0].Previous, sites[0].New})
	}
	assert.Equal(t, []moved{{2, 0, true}, {5, 2, false}, {5, 5, false}, {}, {3, 0, true}}, got)
}

func TestPrimitive(t *testing.T) {
	tests := []struct{ fn, want string }{
		{"github.com/leaksafe/leaksafe.Map[...]", "Map"},
		{"github.com/leaksafe/leaksafe.Map[...].func1", "Map"},
		{"github.com/leaksafe/leaksafe.(*Group).Go.func2", "Group.Go"},
		{"github.com/leaksafe/leaksafe.ParallelMap[...].gowrap1", "ParallelMap"},
		{"github.com/leaksafe/leaksafe.Or.1", "Or"},
		{"github.com/leaksafe/leaksafe/leakwatch.(*Watcher).Watch.func1", ""},
		{"main.f", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, primitive(tt.fn), tt.fn)
	}
}

func TestReportString(t *testing.T) {
	r := Report{
		Mode:       ModeProfile,
		GoVersion:  "go1.27.3",
		Goroutines: 40,
		Leaked:     14,
		Cost:       2100 * time.Microsecond,
		Sites: []Site{
			{Name: "leaksafe.Map stage", Caller: "/src/pipeline.go:42", State: "select",
				BlockedAt: "/go/leaksafe/stream.go:79", Count: 10, Previous: 6, Proven: true},
			{Name: "leaksafe.Take stage", Created: "/go/leaksafe/stream.go:47", State: "select",
				BlockedAt: "/go/leaksafe/stream.go:50", Count: 2, New: true, Proven: true},
			{Name: "main.serve", Created: "/src/main.go:31", State: "sync.Mutex.Lock",
				BlockedAt: "/src/main.go:33", Count: 2, Previous: 2, BlockedFor: 12 * time.Minute},
		},
	}
	assert.Equal(t, `leakwatch: 14 leaked goroutines at 3 sites (leak profile, go1.27.3, check cost 2.1ms)
  10 (+4)   proven    leaksafe.Map stage created at pipeline.go:42, blocked in select at stream.go:79
   2 (new)  proven    leaksafe.Take stage (caller unknown), blocked in select at stream.go:50
   2 (+0)   suspected go statement in main.serve at main.go:31, blocked in sync.Mutex.Lock at main.go:33 for 12m0s`,
		r.String())

	r = Report{Mode: ModeFallback, GoVersion: "go1.26.8", Goroutines: 9, Threshold: 10 * time.Minute,
		Cost: 300 * time.Microsecond, Next: 30 * time.Second, Stretched: true}
	assert.Equal(t, "leakwatch: no leak proven; none of 9 goroutines blocked on a channel or a lock "+
		"(no leak profile in go1.26.8: suspects goroutines blocked 10m0s or more, check cost "+
		"300µs); next check in 30s to stay under the CPU budget", r.String())

	r = Report{Mode: ModeFallback, GoVersion: "go1.26.8", Goroutines: 58, Threshold: 10 * time.Minute,
		Cost: 300 * time.Microsecond, Watching: 55, WatchingSites: 2}
	assert.Equal(t, "leakwatch: no leak proven; 55 goroutines blocked at 2 sites for under 10m0s, "+
		"watching (no leak profile in go1.26.8: suspects goroutines blocked 10m0s or more, check "+
		"cost 300µs)", r.String())

	r.Watching, r.WatchingSites, r.Leaked = 1, 1, 6
	r.Sites = []Site{{Name: "leaksafe.ParallelMap worker", Caller: "crawl.go:42", State: "chan send",
		BlockedIn: "github.com/leaksafe/leaksafe.send[...]", BlockedAt: "/go/leaksafe/stage.go:84",
		Count: 6, Previous: 4, BlockedFor: time.Minute, Growing: true, Runs: 3}}
	assert.Equal(t, "leakwatch: 6 goroutines suspected of leaking at 1 site (no leak profile in "+
		"go1.26.8: suspects goroutines blocked 10m0s or more, check cost 300µs); 1 goroutine blocked at 1 site for under 10m0s, watching\n"+
		"  6 (+2)   suspected leaksafe.ParallelMap worker created at crawl.go:42, blocked in chan send "+
		"for 1m0s, growing at each of the last 3 checks", r.String())

	assert.Equal(t, "leakwatch: the check failed: boom", Report{Error: "boom"}.String())
}

// TestGrowingSite checks that a site whose count grows at each of the last checks is suspected
// before the threshold, and that the report counts the goroutines it watches.
func TestGrowingSite(t *testing.T) {
	blocked := func(n int) []stacks.Goroutine {
		var b []string
		for i := range n {
			b = append(b, goroutine(10+i, "chan send", "main.f.func1", 10, "main.f"))
		}
		return dump(b...)
	}
	type check struct {
		sites            []string
		watching, places int
	}
	var got []check
	w := New(Growth(3))
	for i, n := range []int{1, 2, 3, 4, 5, 5, 6} {
		sites, watching, places := w.group(blocked(n), t0.Add(time.Duration(i)*time.Second))
		var d []string
		for _, s := range sites {
			d = append(d, fmt.Sprintf("%s growing=%v runs=%d", describe(s), s.Growing, s.Runs))
		}
		got = append(got, check{d, watching, places})
	}
	site := "suspected main.f | /src/file.go:11 | chan send at /src/file.go:10 growing=true"
	assert.Equal(t, []check{
		{nil, 1, 1},
		{nil, 2, 1},
		{nil, 3, 1},
		{[]string{"4 " + site + " runs=3"}, 0, 0},
		{[]string{"5 " + site + " runs=4"}, 0, 0},
		{nil, 5, 1}, // no growth at this check
		{nil, 6, 1},
	}, got)
}

// TestLabelsNameTheSite groups goroutines that leaksafe started by their labels, and ignores the
// labels of a goroutine that the user's code started, which it inherited.
func TestLabelsNameTheSite(t *testing.T) {
	const worker = `goroutine %d [chan send (leaked)] {leaksafe: ParallelMap, leaksafe.site: "crawl.go:%d"}:
runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)
	/go/src/runtime/proc.go:460 +0xce
github.com/leaksafe/leaksafe.send[...](...)
	/src/leaksafe/stage.go:84
github.com/leaksafe/leaksafe.parallelMap[...].func1.1()
	/src/leaksafe/worker.go:139 +0xe5
github.com/leaksafe/leaksafe.each[...](0x0?, 0x1, 0x2)
	/src/leaksafe/stage.go:56 +0xd4
github.com/leaksafe/leaksafe.parallelMap[...].func1()
	/src/leaksafe/worker.go:139 +0x4f
github.com/leaksafe/leaksafe/internal/site.Run[...](0x1, 0x0, 0x2, 0x0)
	/src/leaksafe/internal/site/site.go:53 +0xa2
github.com/leaksafe/leaksafe.goWorkers.func1()
	/src/leaksafe/stage.go:127 +0x67
created by github.com/leaksafe/leaksafe.goWorkers in goroutine 1
	/src/leaksafe/stage.go:121 +0x76
`
	const user = `goroutine 30 [chan receive (leaked)] {leaksafe: Group.Go, leaksafe.site: "main.go:7"}:
main.wait(...)
	/src/main.go:20
created by main.work.func1 in goroutine 9
	/src/main.go:12 +0x4a
`
	w := New()
	sites, _, _ := w.group(dump(fmt.Sprintf(worker, 10, 42), fmt.Sprintf(worker, 11, 42),
		fmt.Sprintf(worker, 12, 50), user), t0)
	require.Len(t, sites, 3)
	assert.Equal(t, "2 proven leaksafe.ParallelMap worker | crawl.go:42 | chan send at /src/leaksafe/stage.go:84",
		describe(sites[0]))
	assert.Equal(t, "1 proven leaksafe.ParallelMap worker | crawl.go:50 | chan send at /src/leaksafe/stage.go:84",
		describe(sites[1]))
	assert.Equal(t, "1 proven main.work.func1 | /src/main.go:12 | chan receive at /src/main.go:20",
		describe(sites[2]))
	r := Report{Mode: ModeProfile, GoVersion: "go1.27.3", Sites: sites, Leaked: 4}
	assert.Contains(t, r.String(), "2 (new)  proven    leaksafe.ParallelMap worker created at crawl.go:42, "+
		"blocked in chan send\n")
}
