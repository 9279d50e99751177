// Package lockleak finds goroutines that block forever on a sync.Mutex or sync.RWMutex:
// a lock still held on some return path (L1), a method that calls another method which locks the
// same lock again (L3), and a blocking channel operation made while holding a lock that the
// goroutine on the other side of the channel needs too (M).
package lockleak

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/buildssa"
	"golang.org/x/tools/go/ssa"

	"github.com/leaksafe/leaksafe/leakvet/internal/ignore"
	"github.com/leaksafe/leaksafe/leakvet/internal/syntax"
)

// Analyzer reports locks that leak goroutines. Diagnostic categories: L1 (lock not released on
// some path, or locked again while held), L3 (re-locked through a call), M (blocking under a
// shared lock), and with the -order flag L2 (two locks taken in opposite orders).
var Analyzer = &analysis.Analyzer{
	Name: "lockleak",
	Doc: "report sync.Mutex/RWMutex use that blocks goroutines forever\n\n" +
		"L1: a return path keeps a lock the function otherwise releases, or a Lock runs\n" +
		"while the same lock may still be held. L3: while holding x.mu, a call to a function\n" +
		"that locks x.mu again. M: a channel operation or wg.Wait under a lock that every\n" +
		"partner also takes. L2 (with -lockleak.order): two lock fields taken in opposite\n" +
		"orders. Put //leakvet:holds in the doc comment of a function that returns holding a\n" +
		"lock on purpose, and //leakvet:ignore <reason> on (or above) a line to silence a\n" +
		"report there.",
	URL:      "https://pkg.go.dev/github.com/leaksafe/leaksafe/leakvet/passes/lockleak",
	Requires: []*analysis.Analyzer{buildssa.Analyzer},
	Run:      run,
}

// checkOrder turns on L2, off by default: lock order is type-level, so two instances of a type,
// or an order that state makes impossible, can look inverted.
var checkOrder bool

func init() {
	Analyzer.Flags.BoolVar(&checkOrder, "order", false,
		"also report L2, two locks taken in opposite orders (may report orders that "+
			"instances or state keep apart)")
}

// summary is what callers learn about a function of the package.
type summary struct {
	fn       *ssa.Function
	releases []paramKey // released on every return
	acquires []paramKey // held on every return
	// mayRelease are released on some path: a deferred call of the function may unlock them.
	mayRelease []paramKey
	// entry are taken on every path from a not-held state, directly or through calls.
	entry  map[paramKey]token.Pos
	locks  map[*types.Var]bool      // lock fields taken anywhere in the function
	lockAt map[*types.Var]token.Pos // and one Lock of each
	calls  []callRec
}

type callRec struct {
	callee *ssa.Function
	call   *ssa.CallCommon
	st     *state
	always bool // the call's block dominates every return
}

type checker struct {
	pass    *analysis.Pass
	sums    map[*ssa.Function]*summary
	fields  map[*types.Var]*fieldInfo
	calls   map[token.Pos]*ast.CallExpr
	ignore  *ignore.Reporter
	blocked []blockRec
	// allLocks are the lock fields a function takes itself or through the calls it makes.
	allLocks map[*ssa.Function]map[*types.Var]token.Pos
	order    map[fieldPair]orderEdge
	labels   map[*types.Var]string // Type.field names of lock fields, for messages
}

func run(pass *analysis.Pass) (any, error) {
	if p := pass.Pkg.Path(); p == "sync" || p == "sync_test" {
		return nil, nil // its tests misuse the locks on purpose
	}
	funcs := pass.ResultOf[buildssa.Analyzer].(*buildssa.SSA).SrcFuncs
	c := &checker{pass: pass, sums: map[*ssa.Function]*summary{},
		fields: map[*types.Var]*fieldInfo{}, labels: map[*types.Var]string{}}
	empty := map[*ssa.Function]*summary{}
	for _, fn := range funcs {
		empty[fn] = &summary{fn: fn}
	}
	// Round one: each function alone, for the summaries its callers use.
	for _, fn := range funcs {
		c.sums[fn] = summarize(fn, empty)
		c.scanFields(fn)
	}
	c.propagateEntry()
	c.propagateLocks()
	c.order = map[fieldPair]orderEdge{}
	// Round two: each function with its callees' summaries, reporting.
	for _, fn := range funcs {
		f := newFlow(fn, c.sums)
		f.solve()
		f.replay(&reporter{c: c, f: f})
	}
	c.reportBlocked()
	if checkOrder {
		c.reportOrder()
	}
	return nil, nil
}

// returnBlocks are the blocks that end in a return.
func returnBlocks(fn *ssa.Function) []*ssa.BasicBlock {
	var rets []*ssa.BasicBlock
	for _, b := range fn.Blocks {
		if b != fn.Recover && len(b.Instrs) > 0 {
			if _, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return); ok {
				rets = append(rets, b)
			}
		}
	}
	return rets
}

func dominatesAll(b *ssa.BasicBlock, rets []*ssa.BasicBlock) bool {
	if len(rets) == 0 {
		return false
	}
	for _, r := range rets {
		if !b.Dominates(r) {
			return false
		}
	}
	return true
}

// collector gathers a summary while round one replays a function.
type collector struct {
	sum  *summary
	rets []*ssa.BasicBlock
	outs []map[lockKey]bits
}

func (h *collector) lock(st *state, k lockKey, call *ssa.CallCommon, instr ssa.Instruction) {
	if f := lastField(call.Args[0]); f != nil {
		h.sum.locks[f] = true
		if _, ok := h.sum.lockAt[f]; !ok {
			h.sum.lockAt[f] = call.Pos()
		}
	}
	if st.get(k) != bZero || st.get(k.other()) != bZero || !dominatesAll(instr.Block(), h.rets) {
		return
	}
	if pk, ok := toParamKey(h.sum.fn, k); ok {
		if _, seen := h.sum.entry[pk]; !seen {
			h.sum.entry[pk] = call.Pos()
		}
	}
}

func (h *collector) call(st *state, callee *ssa.Function, call *ssa.CallCommon,
	instr ssa.Instruction) {
	h.sum.calls = append(h.sum.calls, callRec{callee, call, st.clone(),
		dominatesAll(instr.Block(), h.rets)})
}

func (h *collector) other(st *state, instr ssa.Instruction) {
	if _, ok := instr.(*ssa.Return); !ok {
		return
	}
	out := map[lockKey]bits{}
	for k, b := range st.held {
		out[k] = b
	}
	for k := range st.deferred {
		out[k] = down(st.get(k))
	}
	h.outs = append(h.outs, out)
}

func summarize(fn *ssa.Function, empty map[*ssa.Function]*summary) *summary {
	sum := &summary{fn: fn, entry: map[paramKey]token.Pos{}, locks: map[*types.Var]bool{},
		lockAt: map[*types.Var]token.Pos{}}
	f := newFlow(fn, empty)
	f.solve()
	h := &collector{sum: sum, rets: returnBlocks(fn)}
	f.replay(h)
	for k := range f.unlocks {
		if pk, ok := toParamKey(fn, k); ok {
			sum.mayRelease = append(sum.mayRelease, pk)
		}
	}
	if len(h.outs) == 0 {
		return sum
	}
	keys := map[lockKey]bool{}
	for _, out := range h.outs {
		for k := range out {
			keys[k] = true
		}
	}
	for k := range keys {
		allNeg, allOne := true, true
		for _, out := range h.outs {
			b, ok := out[k]
			if !ok {
				b = bZero
			}
			allNeg = allNeg && b == bNeg
			allOne = allOne && b == bOne
		}
		pk, ok := toParamKey(fn, k)
		if !ok {
			continue
		}
		if allNeg {
			sum.releases = append(sum.releases, pk)
		}
		if allOne {
			sum.acquires = append(sum.acquires, pk)
		}
	}
	return sum
}

// propagateEntry makes "locks x.mu on every path" transitive through calls made on every path.
func (c *checker) propagateEntry() {
	for round := 0; round < 8; round++ {
		changed := false
		for _, sum := range c.sums {
			for _, rec := range sum.calls {
				if !rec.always {
					continue
				}
				for pk, pos := range c.sums[rec.callee].entry {
					k, ok := mapKey(pk, rec.call)
					if !ok || rec.st.get(k) != bZero || rec.st.get(k.other()) != bZero {
						continue
					}
					if mine, ok := toParamKey(sum.fn, k); ok {
						if _, seen := sum.entry[mine]; !seen {
							sum.entry[mine] = pos
							changed = true
						}
					}
				}
			}
		}
		if !changed {
			return
		}
	}
}

// reporter checks L1 and L3 and records blocking operations for M while round two replays.
type reporter struct {
	c *checker
	f *flow
}

func (r *reporter) lock(st *state, k lockKey, call *ssa.CallCommon, instr ssa.Instruction) {
	r.c.edgesAtLock(st, call)
	if !r.f.unlocks[k] && !r.f.unlocks[k.other()] {
		return // another goroutine unlocks it: a test of the lock itself, or a hand-off
	}
	prev := st.site[k]
	b := st.get(k)
	if !mayHold(b) {
		if !mayHold(st.get(k.other())) {
			return
		}
		prev = st.site[k.other()]
	}
	name := r.c.lockName(call)
	what := "sync.Mutex is not reentrant"
	if k.read && mayHold(b) {
		what = "a second RLock waits behind any writer blocked on the first"
	}
	r.c.report(call.Pos(), "L1", fmt.Sprintf(
		"%s is locked here while this goroutine may still hold it%s: %s, so this blocks "+
			"forever; release it on every path (an early continue, break or return skips "+
			"the Unlock) before locking again",
		name, r.c.since(prev, call.Pos()), what), nil)
}

func (r *reporter) call(st *state, callee *ssa.Function, call *ssa.CallCommon,
	instr ssa.Instruction) {
	r.c.edgesAtCall(st, callee, call)
	for pk, pos := range r.c.sums[callee].entry {
		k, ok := mapKey(pk, call)
		if !ok {
			continue
		}
		w, rd := st.get(lockKey{k.root, k.path, false}), st.get(lockKey{k.root, k.path, true})
		site := st.site[lockKey{k.root, k.path, false}]
		var why string
		switch {
		case mustHold(w):
			why = "sync.Mutex is not reentrant"
		case mustHold(rd) && !k.read:
			why = "Lock waits for this goroutine's own RLock"
			site = st.site[lockKey{k.root, k.path, true}]
		case mustHold(rd) && k.read:
			why = "recursive RLock waits behind any writer already blocked on the first"
			site = st.site[lockKey{k.root, k.path, true}]
		default:
			continue
		}
		if site == nil {
			continue
		}
		held := r.c.lockName(site)
		r.c.report(call.Pos(), "L3", fmt.Sprintf(
			"%s is held here%s and %s locks it again (%s): %s, so this call blocks forever; "+
				"release the lock before the call or call a variant that expects it held",
			held, r.c.since(site, call.Pos()), callee.Name(), r.c.line(pos, call.Pos()), why), nil)
		return
	}
}

func (r *reporter) other(st *state, instr ssa.Instruction) {
	switch in := instr.(type) {
	case *ssa.Return:
		r.returnHolding(st, in)
	case *ssa.Send:
		r.blocking(st, in, in.Chan, opSend)
	case *ssa.UnOp:
		if in.Op == token.ARROW {
			r.blocking(st, in, in.X, opRecv)
		}
	case *ssa.Select:
		if in.Blocking && len(in.States) == 1 {
			kind := opRecv
			if in.States[0].Dir == types.SendOnly {
				kind = opSend
			}
			r.blocking(st, in, in.States[0].Chan, kind)
		}
	case *ssa.Call:
		if recv, ok := syncMethod(&in.Call, "WaitGroup", "Wait"); ok {
			r.blocking(st, in, recv, opWait)
		}
	}
}

func (r *reporter) returnHolding(st *state, ret *ssa.Return) {
	if holdsOnPurpose(r.f.fn) || returnsFunc(r.f.fn) {
		return
	}
	for k, b := range st.held {
		// Held twice is reported where it is locked again.
		if b != bOne || st.deferred[k] || !r.f.unlocks[k] || st.site[k] == nil {
			continue
		}
		site := st.site[k]
		name := r.c.lockName(site)
		unlock := "Unlock"
		if k.read {
			unlock = "RUnlock"
		}
		pos := ret.Pos()
		var fixes []analysis.SuggestedFix
		if pos.IsValid() {
			if x := r.c.lockExpr(site); x != "" {
				col := r.c.pass.Fset.Position(pos).Column
				fixes = []analysis.SuggestedFix{{
					Message: fmt.Sprintf("call %s.%s() before returning", x, unlock),
					TextEdits: []analysis.TextEdit{{Pos: pos, End: pos, NewText: []byte(
						x + "." + unlock + "()\n" + strings.Repeat("\t", col-1))}},
				}}
			}
		} else if syn := r.f.fn.Syntax(); syn != nil {
			pos = bodyEnd(syn)
		}
		if !pos.IsValid() {
			continue
		}
		r.c.report(pos, "L1", fmt.Sprintf(
			"%s%s is still held when this path returns, though other paths release it: "+
				"the next %s of it blocks forever; %s before returning (or use defer)",
			name, r.c.since(site, pos), lockVerb(k), unlock), fixes)
	}
}

func lockVerb(k lockKey) string {
	if k.read {
		return "Lock"
	}
	return "Lock or RLock"
}

func bodyEnd(n ast.Node) token.Pos {
	if _, body := syntax.Func(n); body != nil {
		return body.Rbrace
	}
	return token.NoPos
}

// returnsFunc reports a function result: the lock is handed to the caller with the function
// that releases it (return tx.dc, tx.releaseConn, nil).
func returnsFunc(fn *ssa.Function) bool {
	res := fn.Signature.Results()
	for i := 0; i < res.Len(); i++ {
		if _, ok := res.At(i).Type().Underlying().(*types.Signature); ok {
			return true
		}
	}
	return false
}

// holdsOnPurpose reports a //leakvet:holds directive, or a name that says the function locks.
func holdsOnPurpose(fn *ssa.Function) bool {
	name := fn.Name()
	if i := strings.IndexByte(name, '$'); i >= 0 {
		name = name[:i]
	}
	if strings.Contains(name, "Lock") || strings.HasPrefix(name, "lock") {
		return true
	}
	decl, ok := fn.Syntax().(*ast.FuncDecl)
	if !ok || decl.Doc == nil {
		return false
	}
	for _, cm := range decl.Doc.List {
		if strings.HasPrefix(cm.Text, "//leakvet:holds") {
			return true
		}
	}
	return false
}
