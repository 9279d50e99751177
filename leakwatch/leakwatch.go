// Package leakwatch names the goroutine leaks of a running service: which go statement leaks, how
// many goroutines, growing how fast.
//
// [github.com/leaksafe/leaksafe/leaktest] catches a leak in a test; some leaks show only in
// production, under real traffic, timeouts and failures. leakwatch checks the process it runs in
// and returns a [Report] that groups the leaked goroutines into sites: the place that created them
// (the go statement, or the call of a leaksafe primitive) and the place where they block, with
// counts and how the counts moved since the previous check. Call [Snapshot] for one check, run
// [Watch] to check periodically (log each report, or export its counts), and mount [Handler] beside
// net/http/pprof to read the latest report.
//
// # Proven and suspected
//
// Where the Go runtime has the goroutine leak profile (runtime/pprof profile "goroutineleak": on by
// default from Go 1.27, and in Go 1.26 built with GOEXPERIMENT=goroutineleakprofile), a check runs
// the profile: a garbage collection that proves a goroutine is blocked forever, because nothing
// that could still run can reach the channel, wait group, cond or lock it waits on. The sites of
// those goroutines are marked Proven, and the report's mode is [ModeProfile].
//
// Where the profile is missing, a check reads the stacks of every goroutine instead and reports, as
// suspicions, the goroutines that have stayed blocked at the same place on a channel or a sync
// primitive for at least a threshold ([Threshold], 10 minutes by default): the heuristic of Uber's
// LeakProf. A site whose count of blocked goroutines grew at each of the last checks ([Growth], 3
// by default) is suspected before that. The report's mode is then [ModeFallback], and it says how
// many goroutines are blocked for less than the threshold: it never says that there is no leak. In
// both modes, goroutines that the profile does not prove but that pass the threshold are reported
// as suspicions: the profile cannot see a goroutine that waits on a channel a global still holds,
// and does not always prove a goroutine blocked on a sync.Mutex. A suspicion may be a goroutine
// that is legitimately idle for long; a proof never is.
//
// # Naming leaksafe's primitives
//
// A goroutine that a leaksafe primitive started is named after the primitive and the user's line
// that called it: "leaksafe.ParallelMap worker created at crawl.go:42". Every such goroutine
// carries the profiler labels leaksafe=<primitive> and leaksafe.site=<file.go:line>; a check reads
// them from the goroutine dump where the runtime prints them, else from the goroutine profile.
//
// # Cost
//
// The leak profile forces a garbage collection: its cost grows with the live heap; reading the
// stacks stops the world for a time that grows with the number of goroutines (see the package's
// benchmark). Each report states what its check cost. [Watch] keeps the checks under a CPU budget
// (1% of one CPU by default, see [Budget]) by spacing them out, and says when it waits longer than
// its interval to do so; [Handler] never checks more often than the budget allows.
package leakwatch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/leaksafe/leaksafe/internal/stacks"
)

// Defaults of the options.
const (
	DefaultBudget    = 0.01
	DefaultThreshold = 10 * time.Minute
)

// An Option configures a [Watcher].
type Option func(*Watcher)

// Budget sets the share of one CPU that checks may use on average: 0.01 (the default) is 1%. A
// check that cost c delays the next check of the same Watcher by at least c/fraction. Budget panics
// if fraction is not in (0, 1].
func Budget(fraction float64) Option {
	if !(fraction > 0 && fraction <= 1) {
		panic(fmt.Sprintf("leakwatch: Budget: fraction must be in (0, 1], got %v", fraction))
	}
	return func(w *Watcher) { w.budget = fraction }
}

// Threshold sets how long a goroutine must stay blocked at one place on a channel or a sync
// primitive before a check reports it as a suspected leak (10 minutes by default). Threshold panics
// if d is not positive.
func Threshold(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("leakwatch: Threshold: d must be positive, got %v", d))
	}
	return func(w *Watcher) { w.threshold = d }
}

// Ignore leaves out of the suspicions every goroutine that has one of funcs in its stack or as its
// creator: a fully qualified name such as "database/sql.(*DB).connectionOpener", for a goroutine
// that waits at one place for long by design. A generic function is named without its type
// parameters ("example.com/cache.refresh" matches the runtime's "example.com/cache.refresh[...]").
// A goroutine that a leaksafe primitive started is matched by the primitive's name too, as in
// "github.com/leaksafe/leaksafe.Repeat" or "github.com/leaksafe/leaksafe.(*Group).Go", for a
// pipeline that runs as long as the program. A goroutine that the leak profile proves leaked is
// still reported. Ignore panics if a name is empty.
func Ignore(funcs ...string) Option {
	for i, f := range funcs {
		if f == "" {
			panic(fmt.Sprintf("leakwatch: Ignore: funcs[%d] is empty", i))
		}
	}
	return func(w *Watcher) {
		if w.ignore == nil {
			w.ignore = map[string]bool{}
		}
		for _, f := range funcs {
			w.ignore[f] = true
		}
	}
}

// Growth sets after how many consecutive checks that each find more goroutines blocked at a site
// the site is suspected, before its goroutines have been blocked for the threshold (3 by default).
// A site that grows under steady load is a leak more often than not; a pool that fills up once
// stops growing. Growth panics if checks < 1.
func Growth(checks int) Option {
	if checks < 1 {
		panic(fmt.Sprintf("leakwatch: Growth: checks must be at least 1, got %d", checks))
	}
	return func(w *Watcher) { w.growth = checks }
}

// DefaultGrowth is how many consecutive checks a site must grow at to be suspected.
const DefaultGrowth = 3

// A Watcher checks the process for leaked goroutines and remembers what its previous checks found:
// how long each goroutine has been blocked where it is, and the count of each site. Its methods may
// be called from several goroutines at once; they run one check at a time. The package-level
// functions use a Watcher of their own, made with no options.
type Watcher struct {
	budget    float64
	threshold time.Duration
	ignore    map[string]bool // functions whose goroutines are never suspected
	growth    int

	// Replaced by tests: the leak profile (nil where there is none), the clock of the fallback,
	// and the check itself.
	profile interface {
		WriteTo(w io.Writer, debug int) error
	}
	goroutines interface { // the goroutine profile, whose debug=1 records carry labels
		WriteTo(w io.Writer, debug int) error
	}
	now   func() time.Time
	check func() (Report, error)

	mu       sync.Mutex // held for a whole check
	blocked  map[int]blockedAt
	previous map[string]int // count of each site at the previous check
	watched  map[string]watched
	buf      bytes.Buffer
	stack    []byte

	lmu    sync.Mutex // guards the fields below, never held during a check
	latest *Report    // the last report, nil before the first check
	next   time.Time  // when a new check may begin under the budget
	flight *flight    // the check a request started, nil when none runs
}

// watched is what the checks saw of a place where goroutines block: how many at the last check,
// and at how many consecutive checks that count grew.
type watched struct {
	count, runs int
}

// blockedAt is where a goroutine was blocked at a check, and since when.
type blockedAt struct {
	place string
	since time.Time
}

// New returns a Watcher configured by opts. It starts no goroutine.
func New(opts ...Option) *Watcher {
	w := &Watcher{
		budget:    DefaultBudget,
		threshold: DefaultThreshold,
		growth:    DefaultGrowth,
		now:       time.Now,
	}
	if p := pprof.Lookup("goroutine"); p != nil {
		w.goroutines = p
	}
	if p := stacks.LeakProfile(); p != nil {
		w.profile = p
	}
	for _, o := range opts {
		o(w)
	}
	w.check = w.run
	return w
}

// std is the Watcher of the package-level functions.
var std = New()

// Snapshot checks the process now and returns what it found, as [Watcher.Snapshot] does for a
// Watcher made with no options. The package-level [Snapshot], [Watch] and [Handler] share that
// Watcher.
func Snapshot() (Report, error) {
	return std.Snapshot()
}

// Snapshot checks the process now, in the calling goroutine, and returns the report. It starts no
// goroutine. It waits for a check that another call is running to end before it begins its own.
// Each site's counts are compared with the previous check of w, whoever asked for it.
//
// Snapshot does not keep to the CPU budget, which only spaces the checks of [Watcher.Watch] and
// [Watcher.Handler]: call it when the cost is wanted. It returns an error, and no report, when the
// goroutine leak profile cannot be written or read.
func (w *Watcher) Snapshot() (Report, error) {
	r, err := w.do()
	if err != nil {
		return Report{}, err
	}
	return r, nil
}

// ProfileAvailable reports whether the process has the goroutine leak profile, so that reports are
// made in [ModeProfile] rather than [ModeFallback].
func ProfileAvailable() bool {
	return stacks.LeakProfile() != nil
}

// errUnreadable is wrapped by the error of a check whose dump has no goroutine in it.
var errUnreadable = errors.New("no goroutine in the dump")

// run is one check.
func (w *Watcher) run() (Report, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	start := time.Now()
	gcBefore := gcCPU()
	r := Report{
		Time:      w.now(),
		Mode:      ModeFallback,
		GoVersion: runtime.Version(),
		Threshold: w.threshold,
	}
	var dump []byte
	if w.profile != nil {
		r.Mode = ModeProfile
		w.buf.Reset()
		if err := w.profile.WriteTo(&w.buf, 2); err != nil {
			return Report{}, fmt.Errorf("leakwatch: writing the goroutine leak profile: %w", err)
		}
		dump = w.buf.Bytes()
	} else {
		dump = w.stacks()
	}
	gs := stacks.Parse(string(dump))
	if len(gs) == 0 {
		return Report{}, fmt.Errorf("leakwatch: reading the goroutine dump (%d bytes): %w",
			len(dump), errUnreadable)
	}
	if w.goroutines != nil && !labelled(gs) {
		// The runtime does not print labels in the dump here: the goroutine profile has them.
		w.buf.Reset()
		if err := w.goroutines.WriteTo(&w.buf, 1); err == nil {
			stacks.AttachLabels(gs, stacks.ParseRecords(w.buf.String()))
		}
	}
	r.Goroutines = len(gs)
	r.Sites, r.Watching, r.WatchingSites = w.group(gs, r.Time)
	for _, s := range r.Sites {
		r.Leaked += s.Count
	}
	r.Cost = time.Since(start) + gcCPU() - gcBefore
	return r, nil
}

// labelled reports whether the dump printed any goroutine's labels.
func labelled(gs []stacks.Goroutine) bool {
	for i := range gs {
		if gs[i].Labels != nil {
			return true
		}
	}
	return false
}

// stacks returns the stacks of every goroutine, as runtime.Stack writes them.
func (w *Watcher) stacks() []byte {
	if w.stack == nil {
		w.stack = make([]byte, 64<<10)
	}
	for {
		n := runtime.Stack(w.stack, true)
		if n < len(w.stack) {
			return w.stack[:n]
		}
		w.stack = make([]byte, 2*len(w.stack))
	}
}

// gcCPU returns the CPU time that garbage collection has taken from the program since it started:
// the runtime's estimate of its total, less the marking done by processors that had nothing else to
// run.
func gcCPU() time.Duration {
	s := []metrics.Sample{
		{Name: "/cpu/classes/gc/total:cpu-seconds"},
		{Name: "/cpu/classes/gc/mark/idle:cpu-seconds"},
	}
	metrics.Read(s)
	var total float64
	for i, v := range s {
		if v.Value.Kind() != metrics.KindFloat64 {
			return 0
		}
		if i == 0 {
			total += v.Value.Float64()
		} else {
			total -= v.Value.Float64()
		}
	}
	return time.Duration(total * float64(time.Second))
}

// group sorts the proven and suspected goroutines of gs into sites, and counts the goroutines
// blocked at other sites for less than the threshold: those it watches. It remembers where each
// goroutine of gs is blocked, how many goroutines each site has, and how each place has grown, for
// the next check.
func (w *Watcher) group(gs []stacks.Goroutine, now time.Time) (sites []Site, watching, at int) {
	blocked := make(map[int]blockedAt, len(gs))
	bySite := map[string]*Site{}
	var order []string
	add := func(s Site, n int, waited time.Duration) {
		k := s.key()
		if bySite[k] == nil {
			bySite[k] = &s
			order = append(order, k)
		}
		bySite[k].Count += n
		bySite[k].BlockedFor = max(bySite[k].BlockedFor, waited)
	}
	type pending struct {
		site   Site
		count  int
		waited time.Duration
	}
	places := map[string]*pending{} // every place with goroutines blocked there, proven or not
	var placeOrder []string
	for i := range gs {
		g := &gs[i]
		if !blockingStates[g.State] && !g.Leaked {
			continue
		}
		place := g.State + "\n" + placeOf(g)
		since := now
		if b, ok := w.blocked[g.ID]; ok && b.place == place {
			since = b.since
		}
		blocked[g.ID] = blockedAt{place, since}
		waited := max(now.Sub(since), time.Duration(g.WaitMinutes)*time.Minute)
		watchable := blockingStates[g.State] && g.CreatedBy.Func != "" &&
			!g.CreatedBy.InRuntime() && !strings.HasPrefix(g.CreatedBy.Func, "internal/") &&
			!w.ignored(g)
		s := siteOf(g, g.Leaked)
		switch {
		case g.Leaked:
			add(s, 1, waited)
		case watchable && waited >= w.threshold:
			add(s, 1, waited)
		case watchable:
			p := places[s.place()]
			if p == nil {
				p = &pending{site: s}
				places[s.place()] = p
				placeOrder = append(placeOrder, s.place())
			}
			p.count++
			p.waited = max(p.waited, waited)
			continue
		default:
			continue
		}
		if watchable { // counted for the growth of its place too
			if places[s.place()] == nil {
				places[s.place()] = &pending{site: s}
				placeOrder = append(placeOrder, s.place())
			}
		}
	}
	// A place grows when it has more blocked goroutines than at the previous check; one that grew
	// at each of the last w.growth checks is suspected before the threshold.
	counts := map[string]int{}
	for _, k := range order {
		if s := bySite[k]; !s.Proven {
			counts[s.place()] += s.Count
		}
	}
	watchedNow := make(map[string]watched, len(places))
	for _, k := range placeOrder {
		p := places[k]
		n := counts[k] + p.count
		runs := 0
		if old, ok := w.watched[k]; ok && n > old.count {
			runs = old.runs + 1
		} else if !ok && w.watched != nil && n > 0 {
			runs = 1 // a place that appeared since the previous check grew from nothing
		}
		watchedNow[k] = watched{n, runs}
		if p.count == 0 {
			continue
		}
		if runs >= w.growth {
			s := p.site
			add(s, p.count, p.waited)
			s2 := bySite[s.key()]
			s2.Growing, s2.Runs = true, runs
			continue
		}
		watching += p.count
		at++
	}
	previous := make(map[string]int, len(order))
	sites = []Site{}
	for _, k := range order {
		s := bySite[k]
		s.Previous, s.New = w.previous[k], w.previous[k] == 0
		previous[k] = s.Count
		sites = append(sites, *s)
	}
	sortSites(sites)
	w.blocked, w.previous, w.watched = blocked, previous, watchedNow
	return sites, watching, at
}

// ignored reports whether an option of w leaves g out of the suspicions. A generic function's
// frame matches its name without the type parameters: "pkg.f[...]" matches "pkg.f".
func (w *Watcher) ignored(g *stacks.Goroutine) bool {
	if len(w.ignore) == 0 {
		return false
	}
	if w.ignoredFunc(g.CreatedBy.Func) {
		return true
	}
	if p := g.Labels[stacks.LabelPrimitive]; p != "" && g.StartedByLeaksafe() {
		// A leaksafe goroutine's stack holds leaksafe's internals: match the primitive by name.
		pkg := "github.com/leaksafe/leaksafe."
		if rest, ok := strings.CutPrefix(p, "health."); ok {
			pkg, p = "github.com/leaksafe/leaksafe/health.", rest
		}
		if w.ignore[pkg+p] {
			return true
		}
		if typ, method, ok := strings.Cut(p, "."); ok && w.ignore[pkg+"(*"+typ+")."+method] {
			return true
		}
	}
	for _, f := range g.Frames {
		if w.ignoredFunc(f.Func) {
			return true
		}
	}
	return false
}

// ignoredFunc reports whether fn, or fn without its type parameters, is one that w ignores.
func (w *Watcher) ignoredFunc(fn string) bool {
	if w.ignore[fn] {
		return true
	}
	return strings.Contains(fn, "[...]") && w.ignore[strings.ReplaceAll(fn, "[...]", "")]
}

// placeOf identifies where g is blocked: every frame of its stack.
func placeOf(g *stacks.Goroutine) string {
	var b bytes.Buffer
	for _, f := range g.Frames {
		fmt.Fprintf(&b, "%s %s:%d\n", f.Func, f.File, f.Line)
	}
	return b.String()
}

// do runs a check, makes its report the latest of w, and sets when the next check may begin: no
// sooner than the check's cost divided by the budget after it began.
func (w *Watcher) do() (Report, error) {
	start := time.Now()
	r, err := w.check()
	cost := r.Cost
	if err != nil {
		cost = time.Since(start)
	}
	r.Next = time.Duration(math.Round(float64(cost) / w.budget))
	w.lmu.Lock()
	defer w.lmu.Unlock()
	w.next = start.Add(r.Next)
	if err == nil {
		latest := r
		w.latest = &latest
	}
	return r, err
}
