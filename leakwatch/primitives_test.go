package leakwatch

import (
	"context"
	"iter"
	"os"
	"os/exec"
	"path"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/health"
)

// Helpers for the leaks of primitiveLeaks: a function that never returns, a sequence that never
// ends, a channel nobody sends on.
func never(<-chan struct{}) error { select {} }
func forever(yield func(int) bool) {
	for yield(1) {
	}
}
func forever2(yield func(int, error) bool) {
	for yield(1, nil) {
	}
}
func id(v int) int                              { return v }
func idle() chan int                            { return make(chan int) }
func some(int) iter.Seq[int]                    { return forever }
func firstNever(<-chan struct{}) int            { select {} }
func firstOKNever(<-chan struct{}) (int, error) { select {} }
func forEachNever(<-chan struct{}, int) error   { return nil }
func cancellable() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	_ = cancel // never called: the context leaks on purpose
	return ctx
}

func blockedGroup() *leaksafe.Group { return leaksafe.NewGroup(nil) }
func full(n int) []int              { return make([]int, n) }

// primitiveLeaks leaks each exported primitive that starts goroutines, on purpose, each on one line
// of its own: the line that the report must name. Adding a primitive is adding a row.
// health.DoWorkWithPulse and health.Steward have none: their ticker keeps them reachable, so the
// leak profile cannot prove them leaked, and the fallback's rows are these.
var primitiveLeaks = []struct {
	primitive string
	count     int // goroutines leaked
	leak      func()
}{
	{"Generate", 1, func() { leaksafe.Generate(nil, full(100)...) }},
	{"Repeat", 1, func() { leaksafe.Repeat(nil, 1, 2) }},
	{"RepeatFunc", 1, func() { leaksafe.RepeatFunc(nil, func() int { return 1 }) }},
	{"NewRandStream", 1, func() { leaksafe.NewRandStream(nil) }},
	{"FromSeq", 1, func() { leaksafe.FromSeq(nil, forever) }},
	{"FromSeq2", 1, func() { leaksafe.FromSeq2(nil, forever2) }},
	{"OrDone", 1, func() { leaksafe.OrDone(nil, idle()) }},
	{"Take", 1, func() { leaksafe.Take(nil, idle(), 1) }},
	{"Map", 1, func() { leaksafe.Map(nil, idle(), id) }},
	{"Filter", 1, func() { leaksafe.Filter(nil, idle(), func(int) bool { return true }) }},
	{"Tee", 1, func() { leaksafe.Tee(nil, idle()) }},
	{"FanIn", 2, func() { leaksafe.FanIn(nil, idle(), idle()) }},
	{"Bridge", 1, func() { leaksafe.Bridge(nil, make(chan (<-chan int))) }},
	{"Buffer", 1, func() { leaksafe.Buffer(nil, idle(), 4) }},
	{"FilterMap", 1, func() { leaksafe.FilterMap(nil, idle(), func(v int) (int, bool) { return v, true }) }},
	{"FlatMap", 1, func() { leaksafe.FlatMap(nil, idle(), some) }},
	{"Partition", 1, func() { leaksafe.Partition(nil, idle(), func(int) bool { return true }) }},
	{"Batch", 1, func() { leaksafe.Batch(nil, idle(), 4, time.Hour) }},
	{"Throttle", 1, func() { leaksafe.Throttle(nil, idle(), time.Hour, 1) }},
	{"DoWork", 1, func() { leaksafe.DoWork(nil, idle(), func(int) {}) }},
	{"ParallelMap", 3, func() { leaksafe.ParallelMap(nil, idle(), 3, id) }},
	{"ParallelMapOrdered", 3, func() { leaksafe.ParallelMapOrdered(nil, idle(), 3, id) }},
	{"ForEach", 2, func() { go leaksafe.ForEach(nil, idle(), 2, forEachNever) }},
	{"Or", 1, func() { leaksafe.Or(make(chan struct{}), make(chan struct{})) }},
	{"All", 1, func() { leaksafe.All(make(chan struct{}), make(chan struct{})) }},
	{"NewGroup", 1, func() { leaksafe.NewGroup(make(chan struct{})) }},
	{"NewGroupContext", 1, func() { leaksafe.NewGroupContext(cancellable()) }},
	{"Group.Go", 2, func() { g := blockedGroup(); g.Go(never); g.Go(never) }},
	{"Group.TryGo", 1, func() { blockedGroup().TryGo(never) }},
	{"WithDone", 1, func() { leaksafe.WithDone(cancellable(), make(chan struct{})) }},
	{"First", 2, func() { go leaksafe.First(nil, firstNever, firstNever) }},
	{"FirstOK", 2, func() { go leaksafe.FirstOK(nil, firstOKNever, firstOKNever) }},
	{"health.DoWorkWithHeartbeat", 1, func() { health.DoWorkWithHeartbeat(nil, idle(), func(int) {}) }},
}

// TestEveryPrimitiveNamesTheUsersLine leaks each primitive of primitiveLeaks in a child process and
// requires the report to name it, the line of its row and its count, with no GODEBUG setting:
// proven by the leak profile where the process has it, and suspected by the fallback (after the
// threshold) in every process.
func TestEveryPrimitiveNamesTheUsersLine(t *testing.T) {
	for _, mode := range []Mode{ModeProfile, ModeFallback} {
		t.Run(strings.ReplaceAll(string(mode), " ", "_"), func(t *testing.T) {
			if !inChildAnyMode(t, mode == ModeProfile) {
				return
			}
			type want struct {
				name  string
				count int
			}
			wants := map[string]want{} // by the line of the row
			for _, l := range primitiveLeaks {
				fn := runtime.FuncForPC(reflect.ValueOf(l.leak).Pointer())
				file, line := fn.FileLine(fn.Entry())
				wants[path.Base(file)+":"+strconv.Itoa(line)] = want{l.primitive, l.count}
				l.leak()
			}
			w := New(Threshold(time.Minute))
			if mode == ModeFallback {
				w.profile = nil
			}
			got := func(r Report) map[string]want {
				g := map[string]want{}
				for _, s := range r.Sites {
					if _, ok := wants[s.Caller]; ok && (mode == ModeFallback || s.Proven) {
						name, _, _ := strings.Cut(strings.TrimPrefix(s.Name, "leaksafe."), " ")
						g[s.Caller] = want{name, g[s.Caller].count + s.Count}
					}
				}
				return g
			}
			r := waitFor(t, w, time.Minute, func(r Report) bool { return len(got(r)) == len(wants) })
			assert.Equal(t, mode, r.Mode)
			assert.Equal(t, wants, got(r), "every primitive at the line of its row, with its count")
			for _, s := range r.Sites {
				assert.NotContains(t, s.Name, "goWorkers")
				assert.NotContains(t, s.Name, "start")
			}
			t.Logf("\n%v", r)
		})
	}
}

// inChildAnyMode is inChild for a test that runs with or without the leak profile: it skips the
// test only if it needs the profile and the process has none.
func inChildAnyMode(t *testing.T, needProfile bool) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	if needProfile && !ProfileAvailable() {
		t.Skipf("%s has no goroutine leak profile", runtime.Version())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*deadline) // the child's waits first
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child process:\n%s", out)
	require.Contains(t, string(out), "--- PASS: "+t.Name(), "the child process:\n%s", out)
	return false
}
