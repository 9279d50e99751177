package leaktest

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/leaksafe/leaksafe/internal/stacks"
)

// A collection is one look at every goroutine of the process, shared by the checks that asked for
// it while it was pending.
type collection struct {
	done     chan struct{}      // closed once the fields below are set
	profiled bool               // the leak profile ran: Leaked marks are meaningful
	all      []stacks.Goroutine // every goroutine
	records  []stacks.Record    // the debug=1 goroutine profile, where headers carry no labels
	byID     map[int]*stacks.Goroutine
}

// collector coalesces collections: a check that asks while one is running waits for the next, and
// every check waiting for the next takes the same result. However many checks run at once, at most
// one collection runs and one waits to start.
var collector struct {
	mu      sync.Mutex
	cond    *sync.Cond
	running bool
	next    *collection // the collection that starts when the running one ends
	waiting int         // checks waiting for a collection, for tests
	runs    int         // collections taken, for tests
	hook    func()      // run before each collection, for tests
}

func init() {
	collector.cond = sync.NewCond(&collector.mu)
}

// collect returns a collection that started after collect was called. With profile, it runs the
// leak profile's collection, where this Go has the profile; without it, it takes a dump only, and
// takes a profiled collection if that is the next one.
func collect(profile bool) *collection {
	collector.mu.Lock()
	defer collector.mu.Unlock()
	if collector.next == nil {
		collector.next = &collection{done: make(chan struct{})}
	}
	c := collector.next
	c.profiled = c.profiled || (profile && ProfileAvailable())
	for {
		select {
		case <-c.done:
			return c
		default:
		}
		if !collector.running && collector.next == c {
			collector.running, collector.next = true, nil
			collector.runs++
			hook := collector.hook
			collector.mu.Unlock()
			if hook != nil {
				hook()
			}
			c.run()
			collector.mu.Lock()
			collector.running = false
			close(c.done)
			collector.cond.Broadcast()
			return c
		}
		collector.waiting++
		collector.cond.Wait()
		collector.waiting--
	}
}

// run takes the collection: one leak profile or one dump, and the debug=1 goroutine profile if the
// dump's headers carry no labels.
func (c *collection) run() {
	showLabels()
	var dump string
	if c.profiled {
		dump, _ = stacks.LeakDump()
	} else {
		dump = stacks.Dump()
	}
	c.all = stacks.Parse(dump)
	c.byID = make(map[int]*stacks.Goroutine, len(c.all))
	labelled := false
	for i := range c.all {
		c.byID[c.all[i].ID] = &c.all[i]
		labelled = labelled || c.all[i].Labels != nil
	}
	if !labelled {
		// Go 1.25 prints no labels in a dump, or GODEBUG was set to hide them: the debug=1 profile
		// has them, per stack, for ofCheck and for the sites that leaksafe's labels name.
		var b strings.Builder
		_ = goroutineProfile.WriteTo(&b, 1)
		c.records = stacks.ParseRecords(b.String())
		leaksafeLabels(c.all, c.records)
	}
}

// showLabels turns on GODEBUG=tracebacklabels=1 for the process, unless the environment already
// says otherwise: Go 1.26 and 1.27 then print each goroutine's profiler labels in its header, which
// lets a check tell its goroutines from those of tests running beside it, whatever their stacks. Go
// 1.27 turns it on by default only for a main module whose go line says 1.27 or later. Go 1.25 does
// not know the setting, and ignores it.
func showLabels() {
	godebug := os.Getenv("GODEBUG")
	if strings.Contains(godebug, "tracebacklabels=") {
		return // set, by us before or by the user on purpose
	}
	if godebug != "" {
		godebug += ","
	}
	_ = os.Setenv("GODEBUG", godebug+"tracebacklabels=1") // fails only on a malformed name
}

// labelKey is the profiler label that marks the goroutines started by a checked test.
const labelKey = "leaktest.check"

// ofCheck returns the goroutines of c that carry the check label value label, leaving out the test
// goroutines and those an option of cfg ignores. Where the dump's headers carry no labels, it
// matches the labelled debug=1 records by stack: exact unless another goroutine with the same stack
// has other labels, in which case it returns them all.
func (c *collection) ofCheck(label string, cfg *config) []*stacks.Goroutine {
	var found []*stacks.Goroutine
	if c.records == nil {
		for i := range c.all {
			g := &c.all[i]
			if g.Labels[labelKey] == label && !isTestMachinery(g) && !cfg.ignored(g) {
				found = append(found, g)
			}
		}
		return found
	}
	seen := map[*stacks.Goroutine]bool{}
	for _, r := range c.records {
		if r.Labels[labelKey] != label {
			continue
		}
		k := stacks.StackKey(r.Frames)
		for i := range c.all {
			g := &c.all[i]
			if seen[g] || stacks.StackKey(g.Frames) != k {
				continue
			}
			if !isTestMachinery(g) && !cfg.ignored(g) {
				seen[g] = true
				found = append(found, g)
			}
		}
	}
	return found
}

// isTestMachinery reports whether g is a goroutine of the testing package (a test's own goroutine,
// which inherits its parent's labels) or one that is taking a collection for a check.
func isTestMachinery(g *stacks.Goroutine) bool {
	for _, f := range g.Frames {
		switch {
		case f.Func == "testing.tRunner", f.Func == "testing.(*M).Run",
			f.Func == "testing.runTests",
			strings.HasPrefix(f.Func, "runtime/pprof."),
			strings.HasPrefix(f.Func, "github.com/leaksafe/leaksafe/leaktest."):
			return true
		}
	}
	return strings.HasPrefix(g.CreatedBy.Func, "testing.")
}

// The oracles that can see a goroutine left behind.
const (
	byProfile  = 1 << iota // the leak profile proved it blocked forever
	byGoleak               // goleak found it still running after its retries
	byRetries              // CheckParallel found it still running after its retries
	bySnapshot             // running when the leak profile proved another leak: not retried
)

// A finding is a goroutine left behind and the oracles that saw it.
type finding struct {
	g       *stacks.Goroutine
	oracles int
}

// findings gathers the goroutines that the oracles saw, each once.
type findings struct {
	list []*finding
	byID map[int]*finding
}

// add records that oracle saw g.
func (fs *findings) add(g *stacks.Goroutine, oracle int) {
	if fs.byID == nil {
		fs.byID = map[int]*finding{}
	}
	if f, ok := fs.byID[g.ID]; ok {
		f.oracles |= oracle
		return
	}
	f := &finding{g: g, oracles: oracle}
	fs.byID[g.ID] = f
	fs.list = append(fs.list, f)
}

// goleakIDs finds the goroutine ids in an error of goleak.Find.
var goleakIDs = regexp.MustCompile(`(?m)Goroutine (\d+) in state `)

// addGoleak records the goroutines that goleak's error lists, with their stacks as they are now,
// after goleak's retries, and notes those that the leak profile proves leaked, in c or in a
// collection taken now: a goroutine still on its way to its last wait when c was taken (a request
// in flight, say) may be proven by now.
func (fs *findings) addGoleak(err error, c *collection) {
	now := collect(true)
	for _, m := range goleakIDs.FindAllStringSubmatch(err.Error(), -1) {
		id, _ := strconv.Atoi(m[1])
		g := now.byID[id]
		if g == nil {
			text := fmt.Sprintf("goroutine %d: exited right after goleak's retries", id)
			g = &stacks.Goroutine{ID: id, Text: text}
		}
		if old := c.byID[id]; g.Leaked || old != nil && old.Leaked {
			fs.add(g, byProfile)
		}
		fs.add(g, byGoleak)
	}
}

// Report limits: the goroutines shown in full per creation site, and the sites shown in full.
const (
	fullPerSite = 3
	fullSites   = 20
)

// leaksafeLabels gives the goroutines that leaksafe started the labels of the records with their
// stack, so that a report names the user's line; the check labels stay matched by stack.
func leaksafeLabels(all []stacks.Goroutine, records []stacks.Record) {
	var ours []stacks.Goroutine
	var at []int
	for i := range all {
		if all[i].StartedByLeaksafe() {
			ours = append(ours, all[i])
			at = append(at, i)
		}
	}
	stacks.AttachLabels(ours, records)
	for j, i := range at {
		if ours[j].Labels[stacks.LabelPrimitive] != "" {
			all[i].Labels = ours[j].Labels
		}
	}
}

// siteOf says where g was created, as a user reads it: the user's line and the leaksafe primitive
// it called, from the labels of a goroutine that leaksafe started, else the go statement.
func siteOf(g *stacks.Goroutine) string {
	if p := g.Labels[stacks.LabelPrimitive]; p != "" && g.StartedByLeaksafe() {
		if at := g.Labels[stacks.LabelSite]; at != "" {
			return "your code at " + at + " through leaksafe." + p
		}
		return "leaksafe." + p + ", called from an unknown line"
	}
	if g.CreatedBy.Func != "" {
		return g.GoStatement()
	}
	return "an unknown line"
}

// report describes the findings, each goroutine once, grouped by the line that created them: with
// full, the stacks of the first of each site; else one line per site and where its goroutines
// block. It returns "" when there are none.
func (fs *findings) report(full bool) string {
	if len(fs.list) == 0 {
		return ""
	}
	type site struct {
		where string
		list  []*finding
	}
	var sites []*site
	bySite := map[string]*site{}
	counts := map[int]int{}
	for _, f := range fs.list {
		where := siteOf(f.g)
		s := bySite[where]
		if s == nil {
			s = &site{where: where}
			bySite[where] = s
			sites = append(sites, s)
		}
		s.list = append(s.list, f)
		for _, o := range []int{byProfile, byGoleak, byRetries, bySnapshot} {
			if f.oracles&o != 0 {
				counts[o]++
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "leaktest: %d goroutine(s) left behind, created at %d site(s), "+
		"each listed once:", len(fs.list), len(sites))
	for _, o := range []int{byProfile, byGoleak, byRetries, bySnapshot} {
		if counts[o] > 0 {
			fmt.Fprintf(&b, "\n  %d %s", counts[o], oracleText[o])
		}
	}
	for i, s := range sites {
		if i == fullSites {
			b.WriteString("\n\nand at other sites:")
			for _, s := range sites[i:] {
				fmt.Fprintf(&b, "\n  %d goroutine(s) created by %s", len(s.list), s.where)
			}
			break
		}
		fmt.Fprintf(&b, "\n\n%d goroutine(s) created by %s:", len(s.list), s.where)
		if !full {
			b.WriteString("\n" + blockedPlaces(s.list, true))
			continue
		}
		for j, f := range s.list {
			if j == fullPerSite {
				b.WriteString("\n\n" + blockedAt(s.list[j:]))
				break
			}
			fmt.Fprintf(&b, "\n\n[%s]\n%s", oracleNames(f.oracles), f.g.Text)
		}
	}
	if !full {
		b.WriteString("\n\nThe stacks: go test -v, or the option leaktest.FullStacks().")
	}
	return b.String()
}

// oracleText says what each oracle's count means.
var oracleText = map[int]string{
	byProfile:  "proven blocked forever by the runtime's goroutine leak profile",
	byGoleak:   "still there after goleak's retries",
	byRetries:  "still there after the check's retries",
	bySnapshot: "there when the check looked (not retried: the profile had proven a leak)",
}

// oracleNames names the oracles that saw a goroutine.
func oracleNames(oracles int) string {
	var names []string
	for _, o := range []struct {
		bit  int
		name string
	}{
		{byProfile, "leak profile: blocked forever"},
		{byGoleak, "goleak: still there"},
		{byRetries, "still there after retries"},
		{bySnapshot, "there, not retried"},
	} {
		if oracles&o.bit != 0 {
			names = append(names, o.name)
		}
	}
	return strings.Join(names, "; ")
}

// blockedAt summarises goroutines not shown in full: how many block at each place.
func blockedAt(fs []*finding) string {
	return fmt.Sprintf("and %d more created there, not shown:\n%s", len(fs),
		blockedPlaces(fs, false))
}

// blockedPlaces says how many of fs block at each place, and, with oracles, which oracles saw
// them, a line each.
func blockedPlaces(fs []*finding, oracles bool) string {
	var places []string
	count := map[string]int{}
	for _, f := range fs {
		where := "in " + f.g.Top().Place()
		if p := f.g.Labels[stacks.LabelPrimitive]; p != "" && f.g.StartedByLeaksafe() &&
			(strings.HasPrefix(f.g.Top().Func, "github.com/leaksafe/leaksafe.") ||
				strings.HasPrefix(f.g.Top().Func, "github.com/leaksafe/leaksafe/internal/")) {
			where = "leaksafe." + p // leaksafe's own line helps no reader
		}
		if f.g.Top().Func == "" {
			where = "an unknown place"
		}
		place := fmt.Sprintf("[%s] %s", f.g.State, where)
		if names := oracleNames(f.oracles); oracles && names != "" {
			place += " (" + names + ")"
		}
		if count[place] == 0 {
			places = append(places, place)
		}
		count[place]++
	}
	var lines []string
	for _, p := range places {
		lines = append(lines, fmt.Sprintf("  %d blocked in %s", count[p], p))
	}
	return strings.Join(lines, "\n")
}
