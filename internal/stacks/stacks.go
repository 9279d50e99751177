// Package stacks parses the goroutine dumps and profiles of the Go runtime: the text of
// runtime.Stack(buf, true), which the debug=2 "goroutine" and "goroutineleak" profiles of
// runtime/pprof also write, and the debug=1 records of those profiles. It reads the formats of Go
// 1.25 to 1.27: profiler labels in the header (Go 1.26's "[state labels:{...}]" and Go 1.27's
// "[state] {...}", printed under GODEBUG=tracebacklabels=1), "(leaked)", "N minutes", "locked to
// thread", synctest bubbles and "(durable)" waits, "created by F in goroutine N", the ancestors
// that GODEBUG=tracebackancestors adds, and elided frames.
//
// It imports only the standard library, and starts no goroutine.
package stacks

import (
	"path"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
)

// A Frame is one call in a stack: the function and where in it.
type Frame struct {
	Func string // fully qualified, without arguments: "main.(*T).wait", "main.f[...]", "panic"
	File string // the source file's path as the binary records it
	Line int
}

// Location returns where the frame is, as "file:line"; it returns "" for the zero Frame.
func (f Frame) Location() string {
	if f.File == "" {
		return ""
	}
	return f.File + ":" + strconv.Itoa(f.Line)
}

// String returns the function and its location: "main.f /src/main.go:15".
func (f Frame) String() string {
	if f.File == "" {
		return f.Func
	}
	return f.Func + " " + f.Location()
}

// InRuntime reports whether the frame's function belongs to the Go runtime (runtime and
// internal/runtime), whose frames a dump shows or hides depending on GOTRACEBACK.
func (f Frame) InRuntime() bool {
	return strings.HasPrefix(f.Func, "runtime.") || strings.HasPrefix(f.Func, "internal/runtime/")
}

// A Goroutine is one goroutine of a dump:
//
//	goroutine 7 [chan receive (leaked), 5 minutes] {leaktest.check: 3}:
//	main.leak()
//		/src/main.go:11 +0x25
//	created by main.main in goroutine 1
//		/src/main.go:17 +0xae
type Goroutine struct {
	ID int
	// State is the wait reason or status, without the marks the header adds: "chan receive",
	// "sync.Mutex.Lock", "running". A synctest wait's "(durable)" is left out too, and Durable set.
	State          string
	Leaked         bool // "(leaked)": the leak profile's collection proved it can never run again
	Durable        bool // "(durable)": blocked inside a synctest bubble, waiting for it only
	WaitMinutes    int  // "N minutes": how long it has been blocked, 0 under a minute
	LockedToThread bool
	Bubble         int // the synctest bubble it belongs to, 0 outside one
	// Labels are the profiler labels in the header, nil where the runtime did not print them (Go
	// 1.26 and 1.27 print them under GODEBUG=tracebacklabels=1, Go 1.25 never).
	Labels    map[string]string
	Frames    []Frame // the top of the stack first, with runtime frames where the dump has them
	Elided    bool    // the runtime left frames out ("...additional frames elided...")
	CreatedBy Frame   // the go statement that started it; zero for the main goroutine
	CreatorID int     // the goroutine that ran that go statement, 0 where the dump does not say
	// Ancestors are the goroutines that created it, its creator first, as
	// GODEBUG=tracebackancestors prints them; nil otherwise.
	Ancestors []Ancestor
	Text      string // the goroutine as the dump printed it, without the blank line after it
}

// An Ancestor is a goroutine that created another one, with its stack at the go statement.
type Ancestor struct {
	ID        int
	Frames    []Frame
	CreatedBy Frame
}

// Top returns the topmost frame outside the runtime, or the zero Frame if there is none.
func (g *Goroutine) Top() Frame {
	for _, f := range g.Frames {
		if !f.InRuntime() {
			return f
		}
	}
	return Frame{}
}

// GoStatement says which go statement started g, as its code reads: "go leakyProducer() in TestX
// at x_test.go:49", or "go statement in TestX at x_test.go:49" where the runtime left out the
// bottom of the stack, which holds the function the goroutine runs.
func (g *Goroutine) GoStatement() string {
	at := path.Base(g.CreatedBy.Location())
	if n := len(g.Frames); n > 0 && !g.Elided {
		return "go " + BareFunc(g.Frames[n-1].Func) + "() in " + BareFunc(g.CreatedBy.Func) +
			" at " + at
	}
	return "go statement in " + BareFunc(g.CreatedBy.Func) + " at " + at
}

// Place says where f is, as its code reads: "leakyProducer at x_test.go:41".
func (f Frame) Place() string {
	if f.File == "" {
		return BareFunc(f.Func)
	}
	return BareFunc(f.Func) + " at " + path.Base(f.File) + ":" + strconv.Itoa(f.Line)
}

// BareFunc returns fn as the code of its own package names it, without import path and package
// name: "(*Cache).refresh" for "example.com/app.(*Cache).refresh", "leaky.func1" for
// "main.leaky.func1".
func BareFunc(fn string) string {
	short := fn[strings.LastIndex(fn, "/")+1:]
	if _, rest, ok := strings.Cut(short, "."); ok && rest != "" {
		return rest
	}
	return short
}

// Parse parses a dump in the format of runtime.Stack(buf, true) and of the debug=2 goroutine and
// goroutineleak profiles, in the order the dump gives. Blocks that are not a goroutine are skipped,
// and so are lines it does not know.
func Parse(dump string) []Goroutine {
	var gs []Goroutine
	for _, block := range strings.Split(strings.ReplaceAll(dump, "\r\n", "\n"), "\n\n") {
		block = strings.Trim(block, "\n")
		if g, ok := parseGoroutine(block); ok {
			gs = append(gs, g)
		}
	}
	return gs
}

// parseGoroutine parses one goroutine's block.
func parseGoroutine(block string) (Goroutine, bool) {
	lines := strings.Split(block, "\n")
	g := Goroutine{Text: block}
	if !parseHeader(lines[0], &g) {
		return g, false
	}
	frames := &g.Frames
	createdBy := &g.CreatedBy
	for i := 1; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "\t"):
			// A location without a function line before it: "goroutine running on other thread".
		case strings.HasPrefix(line, "..."):
			if strings.Contains(line, "additional frames elided") && frames == &g.Frames {
				g.Elided = true
			}
		case strings.HasPrefix(line, "[originating from goroutine "):
			num := strings.TrimPrefix(line, "[originating from goroutine ")
			id, _ := strconv.Atoi(strings.TrimSuffix(num, "]:"))
			g.Ancestors = append(g.Ancestors, Ancestor{ID: id})
			a := &g.Ancestors[len(g.Ancestors)-1]
			frames, createdBy = &a.Frames, &a.CreatedBy
		case strings.HasPrefix(line, "created by "):
			fn := strings.TrimPrefix(line, "created by ")
			fn, id, ok := strings.Cut(fn, " in goroutine ")
			if ok && frames == &g.Frames {
				g.CreatorID, _ = strconv.Atoi(id)
			}
			*createdBy = Frame{Func: fn}
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t") {
				i++
				createdBy.File, createdBy.Line = parseLocation(lines[i])
			}
		default:
			f := Frame{Func: funcName(line)}
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t") {
				i++
				f.File, f.Line = parseLocation(lines[i])
			}
			*frames = append(*frames, f)
		}
	}
	return g, true
}

// parseHeader parses "goroutine 7 gp=0x.. m=.. [state, marks labels:{...}] {...}:" into g.
func parseHeader(header string, g *Goroutine) bool {
	rest, ok := strings.CutPrefix(header, "goroutine ")
	if !ok {
		return false
	}
	idText, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return false
	}
	id, err := strconv.Atoi(idText)
	if err != nil {
		return false
	}
	g.ID = id
	// gp=, m= and mp= come before the bracket under GOTRACEBACK=system.
	_, rest, ok = strings.Cut(rest, "[")
	if !ok {
		return false
	}
	rest = strings.TrimSuffix(rest, ":")
	var status, labels string
	// Go 1.26: [state labels:{"k": "v"}]
	if before, after, ok := strings.Cut(rest, " labels:{"); ok {
		status, labels = before, strings.TrimSuffix(after, "]")
	} else if before, after, ok := strings.Cut(rest, "]"); ok { // Go 1.27: [state] {k: v}
		status = before
		if l, ok := strings.CutPrefix(after, " {"); ok {
			labels = l
		}
	} else {
		return false
	}
	if labels != "" {
		g.Labels = parseLabels(strings.TrimSuffix(labels, "}"))
	}
	parts := strings.Split(status, ", ")
	state := parts[0]
	// The header appends " (leaked)", " (scan)" and " (durable)" to the wait reason, which may
	// itself end in " (durable)": strip them from the end, whatever the order.
	for stripped := true; stripped; {
		stripped = false
		for _, mark := range []string{" (leaked)", " (scan)", " (durable)"} {
			if s, ok := strings.CutSuffix(state, mark); ok {
				state, stripped = s, true
				g.Leaked = g.Leaked || mark == " (leaked)"
				g.Durable = g.Durable || mark == " (durable)"
			}
		}
	}
	g.State = state
	for _, p := range parts[1:] {
		switch {
		case strings.HasSuffix(p, " minutes"):
			g.WaitMinutes, _ = strconv.Atoi(strings.TrimSuffix(p, " minutes"))
		case p == "locked to thread":
			g.LockedToThread = true
		case strings.HasPrefix(p, "synctest bubble "):
			g.Bubble, _ = strconv.Atoi(strings.TrimPrefix(p, "synctest bubble "))
		}
	}
	return true
}

// funcName returns the function of a frame line, without its arguments: "main.(*T).m(0x1, ...)"
// gives "main.(*T).m".
func funcName(line string) string {
	if strings.HasSuffix(line, ")") {
		if i := strings.LastIndex(line, "("); i > 0 {
			return line[:i]
		}
	}
	return line
}

// parseLocation parses "\t/src/main.go:15 +0x5f" (the offset, and GOTRACEBACK=system's
// "fp=.. sp=.. pc=..", optional) into the file and the line.
func parseLocation(line string) (file string, n int) {
	line = strings.TrimPrefix(line, "\t")
	for _, suffix := range []string{" fp=", " +0x"} {
		if i := strings.LastIndex(line, suffix); i > 0 {
			line = line[:i]
		}
	}
	i := strings.LastIndex(line, ":")
	if i < 0 {
		return line, 0
	}
	n, err := strconv.Atoi(line[i+1:])
	if err != nil {
		return line, 0
	}
	return line[:i], n
}

// parseLabels parses the inside of the braces of a label set in any of its three forms: debug=1's
// "k":"v", "k2":"v2"; Go 1.26's "k": "v"; Go 1.27's k: v, where a key or value is quoted only
// if it needs to be.
func parseLabels(s string) map[string]string {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ,")
		if s == "" {
			return labels
		}
		before := s
		var key, value string
		key, s = labelToken(s)
		s = strings.TrimPrefix(strings.TrimLeft(s, " "), ":")
		value, s = labelToken(strings.TrimLeft(s, " "))
		if s == before {
			return labels // a "}" or ":" where a key should be: stop, rather than loop forever
		}
		labels[key] = value
	}
}

// labelToken returns the key or value at the start of s, unquoted, and what follows it.
func labelToken(s string) (token, rest string) {
	if strings.HasPrefix(s, `"`) {
		if q, err := strconv.QuotedPrefix(s); err == nil {
			if u, err := strconv.Unquote(q); err == nil {
				return u, s[len(q):]
			}
		}
	}
	i := strings.IndexAny(s, ":,}")
	if i < 0 {
		i = len(s)
	}
	return strings.TrimSpace(s[:i]), s[i:]
}

// A Record is one stack of a debug=1 goroutine or goroutineleak profile: how many goroutines have
// it, their profiler labels, and its frames, the top first. The debug=1 format does not say which
// goroutines those are, nor where they were created.
//
//	3 @ 0x47e14e 0x4158ee 0x415432 0x4dc825 0x484681
//	# labels: {"leaktest.check":"3"}
//	#	0x4dc824	main.leak+0x24	/src/main.go:11
type Record struct {
	Count  int
	Labels map[string]string // nil without a labels line
	Frames []Frame
	Text   string // the record as the profile printed it
}

// ParseRecords parses a debug=1 goroutine or goroutineleak profile. The profile pads its columns
// with as many tabs as it takes to align them.
func ParseRecords(profile string) []Record {
	var rs []Record
	for _, block := range strings.Split(strings.ReplaceAll(profile, "\r\n", "\n"), "\n\n") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		if len(lines) > 0 && strings.Contains(lines[0], " profile: total ") {
			lines = lines[1:] // the profile's header, before the first record
		}
		if len(lines) == 0 {
			continue
		}
		countText, _, ok := strings.Cut(lines[0], " @ ")
		count, err := strconv.Atoi(countText)
		if !ok || err != nil {
			continue
		}
		r := Record{Count: count, Text: strings.Join(lines, "\n")}
		for _, line := range lines[1:] {
			if labels, ok := strings.CutPrefix(line, "# labels: "); ok {
				r.Labels = parseLabels(strings.TrimSuffix(strings.TrimPrefix(labels, "{"), "}"))
				continue
			}
			var fields []string // "#", the PC, function+offset, file:line
			for _, f := range strings.Split(line, "\t") {
				if f != "" {
					fields = append(fields, f)
				}
			}
			if len(fields) < 4 || fields[0] != "#" {
				continue
			}
			fn := fields[2]
			if i := strings.LastIndex(fn, "+0x"); i > 0 {
				fn = fn[:i]
			}
			file, n := parseLocation(strings.Join(fields[3:], "\t"))
			r.Frames = append(r.Frames, Frame{Func: fn, File: file, Line: n})
		}
		rs = append(rs, r)
	}
	return rs
}

// Dump returns the stacks of every goroutine as runtime.Stack(buf, true) writes them, the caller's
// first, however large.
func Dump() string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// LeakProfile returns the runtime's "goroutineleak" profile, or nil where the toolchain lacks it:
// it is there from Go 1.27, and in Go 1.26 built with GOEXPERIMENT=goroutineleakprofile.
func LeakProfile() *pprof.Profile {
	return pprof.Lookup("goroutineleak")
}

// LeakDump runs the runtime's goroutine leak detection and returns the dump of every goroutine, in
// runtime.Stack's format, with those it proved leaked marked "(leaked)". It returns "", false where
// the toolchain has no leak profile.
//
// The detection is a garbage collection of its own, which the profile runs inside WriteTo and
// which stops the world; it serializes with other writes of the profile. LeakDump runs an ordinary
// collection first, so that an object kept alive one cycle more by a finalizer no longer keeps a
// channel reachable. Both collections cost in proportion to the heap, and the dump in proportion to
// the number of goroutines: share one LeakDump among checks that run at the same time. A goroutine
// once marked leaked stays so.
func LeakDump() (string, bool) {
	p := LeakProfile()
	if p == nil {
		return "", false
	}
	runtime.GC()
	var b strings.Builder
	_ = p.WriteTo(&b, 2) // a strings.Builder does not fail
	return b.String(), true
}

// Profiler labels that leaksafe's primitives give the goroutines they start: the primitive
// ("Map", "Group.Go") and the file.go:line of the user's call that started it.
const (
	LabelPrimitive = "leaksafe"
	LabelSite      = "leaksafe.site"
)

// AttachLabels gives the goroutines of gs whose header carries no labels (where the runtime does
// not print them) the labels of the debug=1 records rs, matched by their frames outside the
// runtime. A record of count n labels n goroutines with its stack; goroutines with one stack and
// several label sets (or none) are told apart only by count, in the order of gs, so a site's count
// is right, but which of the goroutines with one stack has which labels is a guess.
func AttachLabels(gs []Goroutine, rs []Record) {
	type pending struct {
		labels map[string]string
		n      int
	}
	byStack := map[string][]*pending{}
	labelled := false
	for _, r := range rs {
		k := StackKey(r.Frames)
		byStack[k] = append(byStack[k], &pending{r.Labels, r.Count})
		labelled = labelled || r.Labels != nil
	}
	if !labelled {
		return
	}
	for i := range gs {
		g := &gs[i]
		if g.Labels != nil {
			continue
		}
		for _, p := range byStack[StackKey(g.Frames)] {
			if p.n > 0 {
				g.Labels, p.n = p.labels, p.n-1
				break
			}
		}
	}
}

// StackKey is a stack's frames outside the runtime, which a dump and a debug=1 record show alike.
func StackKey(frames []Frame) string {
	var b strings.Builder
	for _, f := range frames {
		if !f.InRuntime() {
			b.WriteString(f.String())
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// leaksafePkg prefixes the functions of leaksafe's root package, healthPkg those of its health
// package: the packages whose primitives start goroutines.
const (
	leaksafePkg = "github.com/leaksafe/leaksafe."
	healthPkg   = "github.com/leaksafe/leaksafe/health."
)

// StartedByLeaksafe reports whether a leaksafe primitive started g: its creator is a function of
// leaksafe's. Only then do g's leaksafe labels name g: a goroutine that the user's code started
// inherits the labels of the one that started it.
func (g *Goroutine) StartedByLeaksafe() bool {
	c := g.CreatedBy.Func
	return strings.HasPrefix(c, leaksafePkg) || strings.HasPrefix(c, healthPkg)
}
