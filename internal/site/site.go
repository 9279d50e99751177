// Package site is what every goroutine of leaksafe's packages runs first: it takes profiler labels
// that name the primitive and the user's line that started it, and a runtime.Goexit in a function
// it was given crashes the program as a panic would, naming the primitive, instead of ending the
// goroutine as if its work were done.
package site

import (
	"context"
	"path"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The runtime/pprof labels that every goroutine a primitive starts carries, so that a goroutine
// dump (Go 1.27 prints labels), a profile, leaktest and leakwatch name the primitive and the
// user's line that started it, not leaksafe's own go statement:
//
//	goroutine 42 [chan send]: {leaksafe: ParallelMap, leaksafe.site: crawl.go:42}
const (
	labelPrimitive = "leaksafe"      // the exported primitive: "Map", "ParallelMap", "Group.Go"
	labelSite      = "leaksafe.site" // file.go:line of the call outside this module that led to it
)

// Run runs run(arg) as the whole of a goroutine that a primitive has just started, so that the
// goroutine first takes at's labels. Unless catchesGoexit says that run records a runtime.Goexit
// itself (as Group and ForEach do, returning ErrGoexit), a Goexit in run crashes the program,
// naming at's primitive: otherwise the goroutine would end as if its work were done, a stream
// would end early or a result would be lost, and no consumer could tell. A panic in run passes
// through unchanged.
//
// run is meant to be a function, not a closure, and arg what a closure would capture, so that the
// go statement's closure is the goroutine's only allocation, as before it took labels:
//
//	at := site.Here()
//	go func() { site.Run(at, false, work, i) }()
func Run[A any](at *Site, catchesGoexit bool, run func(A), arg A) {
	at.label()
	returned := false
	defer func() {
		if returned || catchesGoexit {
			return
		}
		if r := recover(); r != nil {
			panic(r) // a panic, not a Goexit: it crashes as it would have
		}
		panic("leaksafe: " + at.Primitive() + ": a function it was given called runtime.Goexit")
	}()
	run(arg)
	returned = true
}

// A Site is a call of a primitive from the user's code, as the stack of the goroutine that calls
// it reaches it: the labels that the goroutines started there carry.
type Site struct {
	pcs [sitePCs]uintptr // the stack that leads here, the key's check
	n   int

	primitive string          // the exported primitive, as the user calls it: "Map", "Group.Go"
	pairs     []string        // labelPrimitive, the primitive, labelSite, file.go:line (if known)
	ctx       context.Context // pairs alone: the labels of a goroutine that inherited none
	last      atomic.Pointer[inheritedLabels]
}

// inheritedLabels are the labels of a goroutine that inherited parent's, with s's added.
type inheritedLabels struct {
	parent unsafe.Pointer // what the runtime keeps for the inherited labels
	ctx    context.Context
}

// label adds s's labels to those of the calling goroutine, a goroutine that has just started; a
// nil s, or a Go whose labels cannot be read (see goroutineLabels), adds none. The labels built
// from a goroutine's inherited ones are kept for the next goroutine that inherits the same, so
// that a test's or a request's goroutines pay for them once.
func (s *Site) label() {
	if s == nil || !canKeepLabels {
		return
	}
	parent := goroutineLabels()
	if parent == nil {
		pprof.SetGoroutineLabels(s.ctx)
		return
	}
	if l := s.last.Load(); l != nil && l.parent == parent {
		pprof.SetGoroutineLabels(l.ctx)
		return
	}
	var pairs []string
	for k, v := range labelPairs(parent) {
		if k != labelPrimitive && k != labelSite { // a leaksafe goroutine's own are replaced
			pairs = append(pairs, k, v)
		}
	}
	ctx := pprof.WithLabels(context.Background(), pprof.Labels(append(pairs, s.pairs...)...))
	s.last.Store(&inheritedLabels{parent, ctx})
	pprof.SetGoroutineLabels(ctx)
}

// Primitive returns the primitive that s's goroutines belong to, "leaksafe" when s is nil.
func (s *Site) Primitive() string {
	if s == nil || s.primitive == "" {
		return "leaksafe"
	}
	return s.primitive
}

// sitePCs is how many callers of the function that starts goroutines key its site: enough to reach
// the user's code from the deepest go statement (goWorkers, under a parallel stage, under
// ParallelMapOrdered).
const sitePCs = 6

// sites holds the sites seen so far by a hash of their stack. It is replaced, never changed, so
// that the look-up of a known site takes no lock.
var (
	sites   atomic.Pointer[map[uint64]*Site]
	sitesMu sync.Mutex
)

// maxSites bounds sites; a call from a stack seen after that is resolved each time.
const maxSites = 1 << 12

// Here returns the site of the call that led to the caller of Here. A known site costs a walk of
// sitePCs frames and a map look-up. It is not inlined, so that the walk starts from the caller's
// frame.
//
//go:noinline
func Here() *Site {
	var pcs [sitePCs]uintptr
	n := callers(pcs[:])
	h := uint64(14695981039346656037) // FNV-1a over the program counters
	for _, pc := range pcs[:n] {
		h = (h ^ uint64(pc)) * 1099511628211
	}
	if m := sites.Load(); m != nil {
		if s := (*m)[h]; s != nil && s.n == n && s.pcs == pcs {
			return s
		}
	}
	s := newSite(pcs, n)
	sitesMu.Lock()
	defer sitesMu.Unlock()
	old := sites.Load()
	if old != nil && len(*old) >= maxSites {
		return s
	}
	m := make(map[uint64]*Site, 1+mapLen(old))
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[h] = s
	sites.Store(&m)
	return s
}

func mapLen(m *map[uint64]*Site) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// newSite resolves a stack into its site: the primitive is the outermost exported function of
// this module on the stack before the first frame outside it, which is the user's call.
func newSite(pcs [sitePCs]uintptr, n int) *Site {
	s := &Site{pcs: pcs, n: n}
	var primitive, closure, any, at string
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !ours(f) {
			if f.File != "" {
				at = path.Base(f.File) + ":" + strconv.Itoa(f.Line)
			}
			break
		}
		name, isClosure, exported := primitiveOf(f.Function)
		switch {
		case exported && !isClosure:
			primitive = name
		case exported:
			closure = name
		}
		any = name
		if !more {
			break
		}
	}
	switch {
	case primitive != "":
	case closure != "":
		primitive = closure
	default:
		primitive = any
	}
	s.primitive = primitive
	s.pairs = []string{labelPrimitive, primitive}
	if at != "" {
		s.pairs = append(s.pairs, labelSite, at)
	}
	s.ctx = pprof.WithLabels(context.Background(), pprof.Labels(s.pairs...))
	return s
}

// modulePath is this module's path, from the name the runtime gives a function of this package.
var modulePath = func() string {
	pc, _, _, _ := runtime.Caller(0)
	name := runtime.FuncForPC(pc).Name() // "github.com/leaksafe/leaksafe/internal/site.init.func1"
	pkg, _, _ := strings.Cut(name, "/internal/site.")
	return pkg
}()

// ours reports whether f is a function of this module's packages, outside its tests and its
// examples, which call the primitives as a user does.
func ours(f runtime.Frame) bool {
	rest, ok := strings.CutPrefix(f.Function, modulePath)
	return ok && rest != "" && (rest[0] == '.' || rest[0] == '/') &&
		!strings.HasPrefix(rest, "/examples/") && !strings.HasSuffix(f.File, "_test.go")
}

// primitiveOf returns the name of a function of this module as a user knows it: "Map" for
// "github.com/leaksafe/leaksafe.Map[...].func1", "Group.Go" for "(*Group).Go", "health.Steward"
// for a subpackage's; whether the frame is a function literal in it; and whether it is exported.
func primitiveOf(fn string) (name string, isClosure, exported bool) {
	rest := strings.TrimPrefix(fn, modulePath)
	pkg := ""
	if strings.HasPrefix(rest, "/") {
		p, r, _ := strings.Cut(rest[1:], ".")
		pkg, rest = path.Base(p)+".", r
	} else {
		rest = strings.TrimPrefix(rest, ".")
	}
	rest = strings.NewReplacer("[...]", "", "(*", "", ")", "").Replace(rest)
	var parts []string
	for p := range strings.SplitSeq(rest, ".") {
		if isClosureName(p) {
			isClosure = true
			break
		}
		parts = append(parts, p)
	}
	exported = len(parts) > 0
	for _, p := range parts {
		exported = exported && p != "" && 'A' <= p[0] && p[0] <= 'Z'
	}
	return pkg + strings.Join(parts, "."), isClosure, exported
}

// isClosureName reports whether an element of a function's name is the compiler's name for a
// function literal or a go statement's wrapper: "func1", "1", "gowrap2".
func isClosureName(p string) bool {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "func"), "gowrap")
	_, err := strconv.Atoi(p)
	return err == nil
}
