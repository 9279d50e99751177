package leakwatch

import (
	"strconv"
	"strings"
)

// A frame is one call in a goroutine's stack: the function and where it is.
type frame struct {
	Func string // fully qualified, without arguments: "main.(*server).leaky.func1"
	File string
	Line int
}

// A goroutine is one goroutine as runtime.Stack and the debug=2 goroutine profiles print it:
//
//	goroutine 7 [chan receive (leaked), 3 minutes]:
//	main.leak.func1()
//		/src/main.go:15 +0x19
//	created by main.leak in goroutine 1
//		/src/main.go:14 +0x5f
//	[originating from goroutine 1]:
//	main.leak(...)
//		/src/main.go:14 +0x5f
//
// The last part, the stacks of the goroutines that created it as they were when they did, is there
// only when the process runs with GODEBUG=tracebackancestors=N.
type goroutine struct {
	ID          int
	State       string // the wait reason: "chan receive", "sync.Mutex.Lock", "IO wait"
	Leaked      bool   // the leak profile proved it blocked forever
	WaitMinutes int    // how long it has been blocked, where the runtime says (a minute or more)
	Frames      []frame
	CreatedBy   frame // the go statement: its function and file:line; Func is "" for main
	CreatorID   int
	Ancestors   [][]frame // nearest creator first, each stack as it was at the go statement
	Text        string
}

// parseGoroutines parses the output of runtime.Stack(buf, true), which is also what the debug=2
// goroutine and goroutineleak profiles write. Blocks that are not a goroutine are skipped.
func parseGoroutines(s string) []goroutine {
	var gs []goroutine
	for block := range strings.SplitSeq(strings.TrimSpace(s), "\n\n") {
		lines := strings.Split(block, "\n")
		g, ok := parseHeader(lines[0])
		if !ok {
			continue
		}
		g.Text = block
		frames := &g.Frames
		for i := 1; i < len(lines); i++ {
			line := lines[i]
			if strings.HasPrefix(line, "[originating from goroutine ") {
				g.Ancestors = append(g.Ancestors, nil)
				frames = &g.Ancestors[len(g.Ancestors)-1]
				continue
			}
			if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "\t") {
				continue // "...additional frames elided...", or a truncated dump
			}
			file, lineNo := parseLocation(lines[i+1])
			i++
			if creator, ok := strings.CutPrefix(line, "created by "); ok {
				creator, id, _ := strings.Cut(creator, " in goroutine ")
				g.CreatedBy = frame{Func: creator, File: file, Line: lineNo}
				g.CreatorID, _ = strconv.Atoi(id)
				continue
			}
			fn := line
			if j := strings.LastIndex(fn, "("); j > 0 {
				fn = fn[:j] // the arguments
			}
			*frames = append(*frames, frame{Func: fn, File: file, Line: lineNo})
		}
		gs = append(gs, g)
	}
	return gs
}

// parseHeader parses "goroutine 7 [chan receive (leaked), 3 minutes]:", with the labels that some
// versions of Go print inside the brackets (Go 1.26) or after them (Go 1.27).
func parseHeader(line string) (goroutine, bool) {
	var g goroutine
	rest, ok := strings.CutPrefix(line, "goroutine ")
	if !ok {
		return g, false
	}
	idText, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return g, false
	}
	var err error
	if g.ID, err = strconv.Atoi(idText); err != nil {
		return g, false
	}
	start := strings.Index(rest, "[")
	end := strings.LastIndex(rest, "]")
	if start < 0 || end < start {
		return g, false
	}
	status := rest[start+1 : end]
	status, _, _ = strings.Cut(status, " labels:{")
	parts := strings.Split(status, ", ")
	state := parts[0]
	for _, suffix := range []string{" (durable)", " (scan)", " (leaked)"} { // printed in reverse
		if s, ok := strings.CutSuffix(state, suffix); ok {
			g.Leaked = g.Leaked || suffix == " (leaked)"
			state = s
		}
	}
	g.State = state
	for _, p := range parts[1:] {
		if m, ok := strings.CutSuffix(p, " minutes"); ok {
			g.WaitMinutes, _ = strconv.Atoi(m)
		}
	}
	return g, true
}

// parseLocation parses "\t/src/main.go:15 +0x19".
func parseLocation(line string) (file string, lineNo int) {
	loc := strings.TrimSpace(line)
	if j := strings.LastIndex(loc, " +0x"); j > 0 {
		loc = loc[:j]
	}
	file, n, ok := cutLast(loc, ":")
	if !ok {
		return loc, 0
	}
	lineNo, _ = strconv.Atoi(n)
	return file, lineNo
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
