package leakwatch

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leaksafe/leaksafe/internal/stacks"
)

// Mode says what produced a [Report].
type Mode string

const (
	// ModeProfile means that the runtime's goroutine leak profile proved the goroutines of the
	// sites marked Proven blocked forever. Sites not marked Proven are suspicions, as in
	// ModeFallback.
	ModeProfile Mode = "leak profile"
	// ModeFallback means that the process has no goroutine leak profile. Every site is a
	// suspicion: its goroutines have been blocked at one place for at least the threshold (see
	// [Threshold]).
	ModeFallback Mode = "fallback"
)

// A Report is the result of one check: the goroutines found leaked, grouped into sites.
type Report struct {
	Time       time.Time     `json:"time"`       // when the check began
	Mode       Mode          `json:"mode"`       // what produced the report
	GoVersion  string        `json:"go_version"` // runtime.Version of the process
	Goroutines int           `json:"goroutines"` // every goroutine the check saw, leaked or not
	Leaked     int           `json:"leaked"`     // the goroutines of Sites: proven and suspected
	Threshold  time.Duration `json:"threshold_ns"`
	Sites      []Site        `json:"sites"` // most goroutines first; empty, never nil, when none
	// Watching counts the goroutines blocked on a channel or a sync primitive that are neither
	// proven nor suspected yet (blocked for less than the threshold, at a site that is not
	// growing), and WatchingSites the sites they are at: what a later check may report.
	Watching      int `json:"watching"`
	WatchingSites int `json:"watching_sites"`

	// Cost is an upper estimate of the CPU time the check used: its own run time plus the CPU
	// time of the garbage collection that the leak profile forces.
	Cost time.Duration `json:"cost_ns"`
	// Next is how long after this check began the next one may begin, under the CPU budget; a
	// report from [Watcher.Watch] says when its next check is. Stretched says that Watch waits
	// longer than its interval to stay under the budget.
	Next      time.Duration `json:"next_ns"`
	Stretched bool          `json:"stretched,omitempty"`
	// Error says why a check of [Watcher.Watch] failed; such a report has no sites.
	Error string `json:"error,omitempty"`
}

// A Site is a group of leaked goroutines that were created at the same place and are blocked at the
// same place, in the same way.
type Site struct {
	// Name says what the goroutines are: "leaksafe.ParallelMap worker" for a goroutine that a
	// leaksafe primitive started, else the function that holds the go statement, without its
	// import path ("server.(*Cache).refresh").
	Name string `json:"name"`
	// Creator is the function that holds the go statement, fully qualified, and Created where
	// the go statement is (file:line): for a leaksafe primitive, leaksafe's own.
	Creator string `json:"creator"`
	Created string `json:"created"`
	// Func is the function the goroutines run, fully qualified: the go statement's function
	// ("main.leaky.func1"). It is empty where the runtime left the bottom of the stack out.
	Func string `json:"func,omitempty"`
	// Caller is, for a goroutine that a leaksafe primitive started, the file.go:line of the
	// user's call of the primitive, from the goroutine's profiler labels. CallerFunc is the
	// function that made the call, where the runtime's stacks say it (under
	// GODEBUG=tracebackancestors); else it is empty.
	CallerFunc string `json:"caller_func,omitempty"`
	Caller     string `json:"caller,omitempty"`

	State     string `json:"state"`      // the wait: "chan send", "select", "sync.Mutex.Lock"
	BlockedIn string `json:"blocked_in"` // the function that waits, below the runtime and sync
	BlockedAt string `json:"blocked_at"` // and where it waits (file:line)

	Count    int  `json:"count"`    // how many goroutines
	Previous int  `json:"previous"` // how many the previous check of the same Watcher found
	New      bool `json:"new"`      // the previous check did not find this site
	Proven   bool `json:"proven"`   // the leak profile proved them blocked forever
	// Growing says that the site is suspected because its count of blocked goroutines grew at
	// each of the last Runs checks (see [Growth]), before any of them reached the threshold.
	Growing bool `json:"growing,omitempty"`
	Runs    int  `json:"runs,omitempty"`
	// BlockedFor is how long the longest-waiting goroutine of the site has been seen blocked
	// there, by the checks of its Watcher or by the runtime, whichever says longer.
	BlockedFor time.Duration `json:"blocked_for_ns"`
	// Stack is the stack of one goroutine of the site, as the runtime prints it.
	Stack string `json:"stack"`
}

// Where returns where the goroutines were created, as a user reads it: the caller of the leaksafe
// primitive where it is known, else the go statement.
func (s Site) Where() string {
	if s.Caller != "" {
		return s.Caller
	}
	return s.Created
}

// String returns the report in a form for a log: a line that says what the check found and how,
// then one line per site, most goroutines first: its count, how the count moved since the previous
// check, proven or suspected, where the goroutines were created and where they wait.
//
//	leakwatch: 12 leaked goroutines at 2 sites (leak profile, go1.27.3, check cost 2.1ms)
//	  10 (+4)   proven    leaksafe.ParallelMap worker created at crawl.go:42, blocked in chan send
//	   2 (new)  suspected go produce() in serve at main.go:31, blocked in chan send in produce at
//	  main.go:40 for 12m0s
//
// (Each site is one line; the second is wrapped here.) Where no site is proven, the first line
// counts "goroutines suspected of leaking". Without the leak profile, it also says how many
// goroutines are blocked for less than the threshold, which a later check may report:
// "leakwatch: no leak proven; 55 goroutines blocked at 2 sites for under 10m0s, watching".
func (r Report) String() string {
	var b strings.Builder
	if r.Error != "" {
		return "leakwatch: the check failed: " + r.Error
	}
	how := string(r.Mode)
	if r.Mode == ModeFallback {
		how = fmt.Sprintf("no leak profile in %s: suspects goroutines blocked %v or more",
			r.GoVersion, r.Threshold)
	} else {
		how += ", " + r.GoVersion
	}
	cost := r.Cost.Round(time.Microsecond)
	watching := fmt.Sprintf("%d %s blocked at %d %s for under %v, watching",
		r.Watching, plural(r.Watching, "goroutine"), r.WatchingSites,
		plural(r.WatchingSites, "site"), r.Threshold)
	switch {
	case len(r.Sites) == 0 && r.Mode == ModeFallback && r.Watching > 0:
		fmt.Fprintf(&b, "leakwatch: no leak proven; %s (%s, check cost %v)", watching, how, cost)
	case len(r.Sites) == 0 && r.Mode == ModeFallback:
		fmt.Fprintf(&b, "leakwatch: no leak proven; none of %d goroutines blocked on a channel or "+
			"a lock (%s, check cost %v)", r.Goroutines, how, cost)
	case len(r.Sites) == 0:
		fmt.Fprintf(&b, "leakwatch: no leaked goroutines among %d (%s, check cost %v)",
			r.Goroutines, how, cost)
	default:
		leaked := "leaked " + plural(r.Leaked, "goroutine")
		if !slices.ContainsFunc(r.Sites, func(s Site) bool { return s.Proven }) {
			leaked = plural(r.Leaked, "goroutine") + " suspected of leaking"
		}
		fmt.Fprintf(&b, "leakwatch: %d %s at %d %s (%s, check cost %v)",
			r.Leaked, leaked, len(r.Sites), plural(len(r.Sites), "site"), how, cost)
		if r.Mode == ModeFallback && r.Watching > 0 {
			b.WriteString("; " + watching)
		}
	}
	if r.Stretched {
		fmt.Fprintf(&b, "; next check in %v to stay under the CPU budget",
			r.Next.Round(time.Millisecond))
	}
	width := 1
	if len(r.Sites) > 0 {
		width = len(strconv.Itoa(r.Sites[0].Count))
	}
	for _, s := range r.Sites {
		b.WriteString("\n  ")
		b.WriteString(s.line(width))
	}
	return b.String()
}

// plural returns word for n of it: "goroutine" or "goroutines".
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// line formats s for [Report.String], its count right-aligned in width columns.
func (s Site) line(width int) string {
	change := "(new)"
	if !s.New {
		change = fmt.Sprintf("(%+d)", s.Count-s.Previous)
	}
	verdict := "suspected"
	if s.Proven {
		verdict = "proven   "
	}
	var what string
	switch {
	case s.Caller != "":
		what = fmt.Sprintf("%s created at %s", s.Name, short(s.Caller))
	case strings.HasPrefix(s.Name, "leaksafe."):
		what = s.Name + " (caller unknown)"
	case s.Func != "":
		what = fmt.Sprintf("go %s() in %s at %s", stacks.BareFunc(s.Func),
			stacks.BareFunc(s.Creator), short(s.Created))
	case s.Creator != "":
		what = fmt.Sprintf("go statement in %s at %s", stacks.BareFunc(s.Creator), short(s.Created))
	default:
		what = fmt.Sprintf("go statement in %s at %s", s.Name, short(s.Created))
	}
	line := fmt.Sprintf("%*d %-6s %s %s, blocked in %s", width, s.Count, change, verdict, what,
		s.State)
	if s.BlockedAt != "" && !inLeaksafe(s.BlockedIn) { // leaksafe's own line helps no reader
		if s.BlockedIn != "" {
			line += " in " + stacks.BareFunc(s.BlockedIn)
		}
		line += " at " + short(s.BlockedAt)
	}
	if !s.Proven && s.BlockedFor >= time.Second {
		line += " for " + s.BlockedFor.Round(time.Second).String()
	}
	if s.Growing {
		line += fmt.Sprintf(", growing at each of the last %d checks", s.Runs)
	}
	return line
}

// short returns file:line without the file's directory.
func short(fileLine string) string {
	return path.Base(fileLine)
}

// leaksafePkg prefixes the functions of leaksafe's root package, startPkg those of the internal
// package that every goroutine of leaksafe's runs first.
const (
	leaksafePkg = "github.com/leaksafe/leaksafe."
	healthPkg   = "github.com/leaksafe/leaksafe/health."
	startPkg    = "github.com/leaksafe/leaksafe/internal/site."
)

// kinds says what the goroutine that a leaksafe primitive starts is called; "goroutine" for the
// primitives not listed.
var kinds = map[string]string{
	"Generate": "generator", "Repeat": "generator", "RepeatFunc": "generator",
	"NewRandStream": "generator", "FromSeq": "generator", "FromSeq2": "generator",
	"OrDone": "stage", "Take": "stage", "Map": "stage", "Filter": "stage", "Tee": "stage",
	"FanIn": "stage", "Bridge": "stage", "Buffer": "stage", "FilterMap": "stage",
	"FlatMap": "stage", "Partition": "stage", "Batch": "stage", "Throttle": "stage",
	"ParallelMap": "worker", "ParallelMapOrdered": "worker", "DoWork": "worker",
	"ForEach": "worker", "Or": "signal", "All": "signal", "NewGroup": "watcher",
	"NewGroupContext": "watcher", "WithDone": "watcher",
	"health.DoWorkWithPulse": "worker", "health.DoWorkWithHeartbeat": "worker",
	"health.Steward": "steward",
}

// primitive returns the leaksafe primitive that fn belongs to ("Map" for
// "github.com/leaksafe/leaksafe.Map[...].func1", "Group.Go" for "(*Group).Go.func2"), or "" when fn
// is not leaksafe's.
func primitive(fn string) string {
	rest, ok := strings.CutPrefix(fn, leaksafePkg)
	if !ok {
		return ""
	}
	rest = strings.ReplaceAll(rest, "[...]", "")
	rest = strings.NewReplacer("(*", "", ")", "").Replace(rest)
	var parts []string
	for p := range strings.SplitSeq(rest, ".") {
		if isClosure(p) {
			break
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ".")
}

// primitiveOf returns the leaksafe primitive that started g, or "" when leaksafe did not. leaksafe
// starts every goroutine in one unexported function, so the primitive is the first exported frame
// past it: in the creator's stack at the go statement (GODEBUG=tracebackancestors), or else in g's
// own stack, outermost frame first.
func primitiveOf(g *stacks.Goroutine) string {
	creator := g.CreatedBy.Func
	if !inLeaksafe(creator) || !plumbing(creator) {
		return primitive(creator)
	}
	var frames []stacks.Frame
	if len(g.Ancestors) > 0 {
		frames = g.Ancestors[0].Frames
	} else {
		frames = slices.Clone(g.Frames)
		slices.Reverse(frames)
	}
	for _, f := range frames {
		if inLeaksafe(f.Func) && !plumbing(f.Func) {
			return primitive(f.Func)
		}
	}
	return primitive(creator)
}

// isInternal reports whether a primitive's name is that of one of leaksafe's unexported helpers,
// such as goWorkers, which a report never names.
func isInternal(p string) bool {
	p = strings.TrimPrefix(p, "health.") // the subpackage's primitives are named with it
	for part := range strings.SplitSeq(p, ".") {
		if part == "" || part[0] < 'A' || part[0] > 'Z' {
			return true
		}
	}
	return false
}

// isClosure reports whether an element of a function name is the compiler's name for a function
// literal or a go statement's wrapper: "func1", "1", "gowrap2".
func isClosure(p string) bool {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "func"), "gowrap")
	_, err := strconv.Atoi(p)
	return err == nil
}

// inLeaksafe reports whether fn is a function of leaksafe's root package, of its health package
// or of the internal package that starts their goroutines.
func inLeaksafe(fn string) bool {
	return strings.HasPrefix(fn, leaksafePkg) || strings.HasPrefix(fn, healthPkg) ||
		strings.HasPrefix(fn, startPkg)
}

// plumbing reports whether fn is a frame that only carries a wait: the runtime, the sync package
// and leaksafe's unexported helpers, which a reader skips to find the code that waits.
func plumbing(fn string) bool {
	if strings.HasPrefix(fn, startPkg) {
		return true
	}
	if rest, ok := strings.CutPrefix(fn, leaksafePkg); ok {
		return rest != "" && 'a' <= rest[0] && rest[0] <= 'z'
	}
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/") ||
		strings.HasPrefix(fn, "sync.")
}

// shortFunc returns fn without its import path: "server.(*Cache).refresh".
func shortFunc(fn string) string {
	slash := strings.LastIndex(fn, "/")
	return fn[slash+1:]
}

// blockingStates are the waits that can last forever for lack of a partner: the goroutines the
// fallback suspects. Network waits (IO wait), sleeps, system calls and the runtime's own waits are
// not among them.
var blockingStates = map[string]bool{
	"chan send": true, "chan receive": true, "select": true,
	"chan send (nil chan)": true, "chan receive (nil chan)": true, "select (no cases)": true,
	"sync.Mutex.Lock": true, "sync.RWMutex.Lock": true, "sync.RWMutex.RLock": true,
	"sync.WaitGroup.Wait": true, "sync.Cond.Wait": true, "semacquire": true,
}

// siteOf returns the site of g, without its count and history.
func siteOf(g *stacks.Goroutine, proven bool) Site {
	s := Site{
		Creator: g.CreatedBy.Func,
		Created: g.CreatedBy.Location(),
		State:   g.State,
		Proven:  proven,
		Stack:   strings.Clone(g.Text), // not the whole dump
	}
	if startedByLeaksafe(g) {
		// The labels name the primitive and the user's line; they count only for a goroutine that
		// leaksafe started, since a goroutine inherits the labels of the one that started it.
		p := g.Labels[stacks.LabelPrimitive]
		if p == "" {
			p = primitiveOf(g) // no labels: leaksafe's frames tell
		}
		if p != "" && !isInternal(p) {
			kind := kinds[p]
			if kind == "" {
				kind = "goroutine"
			}
			s.Name = "leaksafe." + p + " " + kind
		} else {
			s.Name = "leaksafe goroutine"
		}
		if caller, ok := callerOf(g); ok {
			s.CallerFunc, s.Caller = caller.Func, caller.Location()
		}
		if site := g.Labels[stacks.LabelSite]; site != "" {
			s.Caller = site
		}
	} else {
		s.Name = shortFunc(g.CreatedBy.Func)
		if n := len(g.Frames); n > 0 && !g.Elided {
			s.Func = g.Frames[n-1].Func // the bottom of the stack: where the goroutine began
		}
	}
	var at stacks.Frame
	for _, f := range g.Frames {
		if !plumbing(f.Func) {
			at = f
			break
		}
	}
	if at.Func == "" { // only plumbing: the topmost frame outside the runtime
		at = g.Top()
	}
	s.BlockedIn, s.BlockedAt = at.Func, at.Location()
	return s
}

// startedByLeaksafe reports whether a leaksafe primitive started g.
func startedByLeaksafe(g *stacks.Goroutine) bool {
	return g.StartedByLeaksafe()
}

// callerOf returns the first frame outside leaksafe and the runtime in the stacks of g's creators
// at the time they created it (nearest first): the code that called the leaksafe primitive.
func callerOf(g *stacks.Goroutine) (stacks.Frame, bool) {
	for _, a := range g.Ancestors {
		for _, f := range a.Frames {
			if !inLeaksafe(f.Func) && !strings.HasPrefix(f.Func, "runtime.") {
				return f, true
			}
		}
	}
	return stacks.Frame{}, false
}

// key identifies a site across checks.
func (s Site) key() string {
	return s.place() + "\x00" + strconv.FormatBool(s.Proven)
}

// place identifies where a site's goroutines were created and where they block, proven or not.
func (s Site) place() string {
	return strings.Join([]string{s.Creator, s.Created, s.Caller, s.State, s.BlockedIn, s.BlockedAt},
		"\x00")
}

// sortSites orders sites most goroutines first, proven before suspected, then by name and place, so
// that a report reads the same from one check to the next.
func sortSites(sites []Site) {
	slices.SortFunc(sites, func(a, b Site) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if a.Proven != b.Proven {
			if a.Proven {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key(), b.key())
	})
}
