package leaktest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A goroutine is one goroutine as runtime.Stack and the debug=2 goroutine profiles print it:
//
//	goroutine 7 [chan receive (leaked)]:
//	main.leakRecv(...)
//		/src/main.go:15
//	created by main.startLeak in goroutine 1
//		/src/main.go:19 +0x5f
type goroutine struct {
	id     int
	leaked bool     // the state says "(leaked)"
	labels string   // the labels in the header, where the runtime prints them (GODEBUG=tracebacklabels=1)
	funcs  []string // functions from the top of the stack down, runtime functions left out
	key    string   // the frames outside the runtime, to match a profile record
	text   string   // the goroutine as printed
}

// top returns the topmost function outside the runtime.
func (g *goroutine) top() string {
	if len(g.funcs) == 0 {
		return ""
	}
	return g.funcs[0]
}

// has reports whether fn is in g's stack or created g.
func (g *goroutine) has(fn string) bool {
	for _, f := range g.funcs {
		if f == fn {
			return true
		}
	}
	return false
}

// A record is one stack of a debug=1 profile: how many goroutines have it, their labels, and its
// frames.
//
//	2 @ 0x47e0ce 0x4158ee 0x415432 0x4dcdd9 0x484641
//	# labels: {"leaktest.check":"3"}
//	#	0x4dcdd8	main.leakRecv+0x18	/src/main.go:15
type record struct {
	count  int
	labels string
	funcs  []string
	key    string
	text   string
}

// isCaller reports whether r is the stack of the goroutine that is writing the profile.
func (r record) isCaller() bool {
	for _, f := range r.funcs {
		if strings.HasPrefix(f, "runtime/pprof.") || f == "testing.tRunner" {
			return true // the profile writer, or a test's own goroutine
		}
	}
	return false
}

// frameKey is how a frame appears in a key: the function and where it is.
func frameKey(fn, fileLine string) string {
	return fn + " " + fileLine + "\n"
}

// inRuntime reports whether fn belongs to the runtime, whose frames the two profile formats do not
// show alike.
func inRuntime(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/runtime/")
}

// parseGoroutines parses the output of runtime.Stack(buf, true), which is also what the debug=2
// goroutine and goroutineleak profiles write.
func parseGoroutines(s string) []*goroutine {
	var gs []*goroutine
	for _, block := range strings.Split(strings.TrimSpace(s), "\n\n") {
		lines := strings.Split(block, "\n")
		header := lines[0]
		if !strings.HasPrefix(header, "goroutine ") {
			continue
		}
		g := &goroutine{text: block}
		idText, state, _ := strings.Cut(strings.TrimPrefix(header, "goroutine "), " ")
		g.id, _ = strconv.Atoi(idText)
		g.leaked = strings.Contains(state, " (leaked)")
		if _, labels, ok := strings.Cut(state, " labels:{"); ok { // Go 1.26: [state labels:{"k": "v"}]:
			g.labels = labels
		} else if _, labels, ok := strings.Cut(state, "] {"); ok { // Go 1.27: [state] {k: v}:
			g.labels = labels
		}
		var key strings.Builder
		for i := 1; i+1 < len(lines); i += 2 {
			fn, where := lines[i], strings.TrimSpace(lines[i+1])
			if creator, ok := strings.CutPrefix(fn, "created by "); ok {
				creator, _, _ = strings.Cut(creator, " in goroutine ")
				g.funcs = append(g.funcs, creator)
				break
			}
			if j := strings.LastIndex(fn, "("); j > 0 {
				fn = fn[:j] // the arguments
			}
			if j := strings.LastIndex(where, " +0x"); j > 0 {
				where = where[:j] // the offset of the PC
			}
			if inRuntime(fn) {
				continue
			}
			g.funcs = append(g.funcs, fn)
			key.WriteString(frameKey(fn, where))
		}
		g.key = key.String()
		gs = append(gs, g)
	}
	return gs
}

// parseRecords parses a debug=1 goroutine or goroutineleak profile.
func parseRecords(s string) []record {
	var rs []record
	for _, block := range strings.Split(strings.TrimSpace(s), "\n\n") {
		lines := strings.Split(block, "\n")
		countText, _, ok := strings.Cut(lines[0], " @ ")
		if !ok {
			// The first block starts with the profile's header line.
			if len(lines) < 2 {
				continue
			}
			lines = lines[1:]
			if countText, _, ok = strings.Cut(lines[0], " @ "); !ok {
				continue
			}
		}
		r := record{text: strings.Join(lines, "\n")}
		r.count, _ = strconv.Atoi(countText)
		var key strings.Builder
		for _, line := range lines[1:] {
			if labels, ok := strings.CutPrefix(line, "# labels: "); ok {
				r.labels = labels
				continue
			}
			fields := strings.Split(line, "\t") // "#", PC, function+offset, file:line
			if len(fields) < 4 {
				continue
			}
			fn := fields[2]
			if j := strings.LastIndex(fn, "+0x"); j > 0 {
				fn = fn[:j]
			}
			if inRuntime(fn) {
				continue
			}
			r.funcs = append(r.funcs, fn)
			key.WriteString(frameKey(fn, fields[3]))
		}
		r.key = key.String()
		rs = append(rs, r)
	}
	return rs
}

// labelPattern finds the value of the check label in each format: {"leaktest.check":"3"} in
// debug=1 records, labels:{"leaktest.check": "3"} in Go 1.26 goroutine headers, and
// {leaktest.check: 3} in Go 1.27 ones. The value is a number.
var labelPattern = regexp.MustCompile(`"?` + regexp.QuoteMeta(labelKey) + `"?:\s*"?([0-9]+)`)

// carries reports whether labels holds the check label with the value label.
func carries(labels, label string) bool {
	m := labelPattern.FindStringSubmatch(labels)
	return m != nil && m[1] == label
}

// hasLabel reports whether a record of rs carries label.
func hasLabel(rs []record, label string) bool {
	for _, r := range rs {
		if carries(r.labels, label) {
			return true
		}
	}
	return false
}

// match returns the goroutines of gs that carry label. Where the runtime printed labels in the
// goroutine headers, it reads them there. Otherwise it takes the records that carry label and, for
// each, the goroutines of gs with the same stack. When more goroutines share that stack than the
// record counts (another test leaked through the same code), it returns them all. A record whose
// stack no goroutine of gs has is returned as a goroutine of unknown id, with the record's stack.
func match(records []record, gs []*goroutine, label string) []*goroutine {
	for _, g := range gs {
		if g.labels != "" {
			var found []*goroutine
			for _, g := range gs {
				if carries(g.labels, label) {
					found = append(found, g)
				}
			}
			return found
		}
	}
	var found []*goroutine
	seen := map[*goroutine]bool{}
	for _, r := range records {
		if !carries(r.labels, label) {
			continue
		}
		var same []*goroutine
		for _, g := range gs {
			if g.key == r.key && !seen[g] {
				same = append(same, g)
				seen[g] = true
			}
		}
		if len(same) == 0 {
			found = append(found, &goroutine{
				id:    -1,
				funcs: r.funcs,
				key:   r.key,
				text: fmt.Sprintf("%d goroutine(s) with this stack (where each was created is unknown):\n%s",
					r.count, r.text),
			})
			continue
		}
		found = append(found, same...)
	}
	return found
}

// formatLeaked describes the goroutines that the leak profile proved leaked.
func formatLeaked(gs []*goroutine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "leaktest: the runtime's goroutine leak profile found %d goroutine(s) blocked forever, "+
		"on something no running goroutine can reach:", len(gs))
	for _, g := range gs {
		b.WriteString("\n\n")
		b.WriteString(g.text)
	}
	return b.String()
}

// formatRunning describes goroutines of a test that were still running after the retries.
func formatRunning(gs []*goroutine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "leaktest: %d goroutine(s) started by the test still running after it ended:", len(gs))
	for _, g := range gs {
		b.WriteString("\n\n")
		b.WriteString(g.text)
	}
	return b.String()
}

// formatGoleak describes the goroutines that goleak found still running.
func formatGoleak(err error) string {
	return "leaktest: goleak: " + err.Error()
}
