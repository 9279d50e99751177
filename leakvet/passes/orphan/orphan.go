// Package orphan finds waits that nothing can ever end: a receive from a channel that no code
// sends on or closes, a sync.Cond that nothing signals, a sync.WaitGroup that nothing marks
// Done. The goroutine that reaches such a wait blocks forever.
package orphan

import (
	"fmt"
	"go/constant"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/buildssa"
	"golang.org/x/tools/go/ssa"

	"github.com/leaksafe/leaksafe/leakvet/internal/ignore"
)

// Analyzer reports waits with no possible waker. Diagnostic category: O.
var Analyzer = &analysis.Analyzer{
	Name: "orphan",
	Doc: "report waits that nothing can end\n\n" +
		"O: a receive from an unexported channel field, or from a local channel, that no\n" +
		"code sends on or closes; Cond.Wait on an unexported field nothing signals;\n" +
		"WaitGroup.Wait on an unexported field or local nothing marks Done. Channels and\n" +
		"conds that leave the package's sight (stored elsewhere, passed on, exported) are\n" +
		"never reported, nor are waits in _test.go files, where tests park goroutines on\n" +
		"purpose.\n" +
		"Put //leakvet:ignore <reason> on (or above) a line to silence a report there.",
	URL:      "https://pkg.go.dev/github.com/leaksafe/leaksafe/leakvet/passes/orphan",
	Requires: []*analysis.Analyzer{buildssa.Analyzer},
	Run:      run,
}

// use is a bit set of what the package does with one channel, Cond or WaitGroup.
type use int

const (
	useRecv   use = 1 << iota // a receive (the waits)
	useWake                   // send, close, Signal, Broadcast, Done, Add(-n)
	useMake                   // made here: make(chan), sync.NewCond, a WaitGroup value
	useAdd                    // WaitGroup.Add with a positive or unknown delta
	useEscape                 // anything the package cannot follow
)

type checker struct {
	pass   *analysis.Pass
	funcs  map[*ssa.Function]bool
	fields map[*types.Var]use
	makes  map[*types.Var]token.Pos
	owner  map[*types.Var]string // the struct type a field belongs to
	ignore *ignore.Reporter
}

func run(pass *analysis.Pass) (any, error) {
	ssaInfo := pass.ResultOf[buildssa.Analyzer].(*buildssa.SSA)
	c := &checker{pass: pass, funcs: map[*ssa.Function]bool{}, fields: map[*types.Var]use{},
		makes: map[*types.Var]token.Pos{}, owner: map[*types.Var]string{}}
	for _, fn := range ssaInfo.SrcFuncs {
		c.funcs[fn] = true
	}
	for _, fn := range ssaInfo.SrcFuncs {
		c.scanFields(fn)
	}
	for _, fn := range ssaInfo.SrcFuncs {
		if strings.HasSuffix(pass.Fset.Position(fn.Pos()).Filename, "_test.go") {
			continue // tests park goroutines on purpose, to test what sees them
		}
		c.checkWaits(fn)
		c.checkLocals(fn)
	}
	return nil, nil
}

// kindOf says which primitive a field or value type is: "chan", "cond" (sync.Cond or
// *sync.Cond), "wg" (sync.WaitGroup), or "".
func kindOf(t types.Type) string {
	if _, ok := t.Underlying().(*types.Chan); ok {
		return "chan"
	}
	ptr := false
	if p, ok := t.(*types.Pointer); ok {
		t, ptr = p.Elem(), true
	}
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != "sync" {
		return ""
	}
	switch {
	case n.Obj().Name() == "Cond":
		return "cond"
	case n.Obj().Name() == "WaitGroup" && !ptr:
		return "wg"
	}
	return ""
}

func fieldOf(fa *ssa.FieldAddr) *types.Var {
	ptr, ok := fa.X.Type().Underlying().(*types.Pointer)
	if !ok {
		return nil
	}
	st, ok := ptr.Elem().Underlying().(*types.Struct)
	if !ok || fa.Field >= st.NumFields() {
		return nil
	}
	return st.Field(fa.Field).Origin()
}

func (c *checker) tracked(f *types.Var) bool {
	return f != nil && !f.Exported() && f.Pkg() == c.pass.Pkg && kindOf(f.Type()) != ""
}

func (c *checker) scanFields(fn *ssa.Function) {
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			if fv, ok := instr.(*ssa.Field); ok {
				// A field of a struct value: v := *s; v.ch <- x.
				st, isStruct := fv.X.Type().Underlying().(*types.Struct)
				if isStruct && fv.Field < st.NumFields() {
					if f := st.Field(fv.Field).Origin(); c.tracked(f) {
						c.fields[f] |= valueUses(fv, kindOf(f.Type()), 0)
					}
				}
				continue
			}
			fa, ok := instr.(*ssa.FieldAddr)
			if !ok {
				continue
			}
			if f := fieldOf(fa); c.tracked(f) {
				c.fields[f] |= c.addrUses(f, fa)
				elem := fa.X.Type().Underlying().(*types.Pointer).Elem()
				if n, ok := types.Unalias(elem).(*types.Named); ok {
					c.owner[f] = n.Obj().Name()
				}
			}
		}
	}
}

// addrUses classifies the uses of the address of field f.
func (c *checker) addrUses(f *types.Var, fa *ssa.FieldAddr) use {
	var u use
	kind := kindOf(f.Type())
	for _, ref := range *fa.Referrers() {
		switch r := ref.(type) {
		case *ssa.Store:
			if r.Addr != fa {
				u |= useEscape
				continue
			}
			u |= c.stored(f, r.Val)
		case *ssa.UnOp:
			if r.Op != token.MUL {
				u |= useEscape
				continue
			}
			u |= valueUses(r, kind, 0)
		case *ssa.Call:
			u |= methodUse(&r.Call, fa, kind)
		case *ssa.Defer:
			u |= methodUse(&r.Call, fa, kind)
		case *ssa.DebugRef:
		default:
			u |= useEscape
		}
	}
	return u
}

// stored classifies a value stored into field f: a fresh primitive, nil, or anything else.
func (c *checker) stored(f *types.Var, v ssa.Value) use {
	switch v := v.(type) {
	case *ssa.MakeChan:
		c.makes[f] = v.Pos()
		return useMake
	case *ssa.Const:
		if v.IsNil() {
			return 0
		}
	case *ssa.Call:
		if fn := v.Call.StaticCallee(); fn != nil && fn.Object() != nil &&
			fn.Object().Pkg() != nil && fn.Object().Pkg().Path() == "sync" &&
			fn.Name() == "NewCond" {
			c.makes[f] = v.Pos()
			return useMake
		}
	}
	return useEscape
}

// methodUse classifies a sync method called on recv (a Cond or WaitGroup address).
func methodUse(call *ssa.CallCommon, recv ssa.Value, kind string) use {
	fn := call.StaticCallee()
	if fn == nil || len(call.Args) == 0 || call.Args[0] != recv || fn.Object() == nil ||
		fn.Object().Pkg() == nil || fn.Object().Pkg().Path() != "sync" {
		return useEscape
	}
	switch kind + "." + fn.Name() {
	case "cond.Wait", "wg.Wait":
		return useRecv
	case "cond.Signal", "cond.Broadcast", "wg.Done":
		return useWake
	case "wg.Add":
		if k, ok := call.Args[1].(*ssa.Const); ok && k.Value != nil &&
			constant.Sign(k.Value) < 0 {
			return useWake
		}
		return useAdd
	}
	return useEscape
}

// valueUses classifies the uses of a loaded channel or *sync.Cond value.
func valueUses(v ssa.Value, kind string, depth int) use {
	var u use
	for _, ref := range *v.Referrers() {
		switch r := ref.(type) {
		case *ssa.Send:
			if r.Chan == v {
				u |= useWake
			} else {
				u |= useEscape
			}
		case *ssa.UnOp:
			if r.Op == token.ARROW {
				u |= useRecv
			} else {
				u |= useEscape
			}
		case *ssa.Select:
			for _, s := range r.States {
				if s.Chan == v && s.Dir == types.SendOnly {
					u |= useWake
				} else if s.Chan == v {
					u |= useRecv
				}
			}
		case *ssa.Call:
			u |= callUse(&r.Call, v, kind)
		case *ssa.Defer:
			u |= callUse(&r.Call, v, kind)
		case *ssa.ChangeType:
			if ch, ok := r.Type().Underlying().(*types.Chan); ok && ch.Dir() == types.RecvOnly {
				u |= useRecv // whoever gets a receive-only view can only wait on it
			} else if depth < 4 {
				u |= valueUses(r, kind, depth+1)
			} else {
				u |= useEscape
			}
		case *ssa.FieldAddr: // cond.L
			if kind != "cond" {
				u |= useEscape
			}
		case *ssa.BinOp, *ssa.DebugRef:
		default:
			u |= useEscape
		}
	}
	return u
}

func callUse(call *ssa.CallCommon, v ssa.Value, kind string) use {
	if b, ok := call.Value.(*ssa.Builtin); ok {
		switch b.Name() {
		case "close":
			return useWake
		case "len", "cap":
			return 0
		}
		return useEscape
	}
	if kind == "cond" {
		return methodUse(call, v, kind)
	}
	return useEscape
}

// orphanField reports whether nothing in the package can end a wait on field f.
func (c *checker) orphanField(f *types.Var, need use) bool {
	if !c.tracked(f) {
		return false
	}
	u := c.fields[f]
	return u&need == need && u&(useWake|useEscape) == 0
}

// source is the field a channel operand comes from: loaded from it, viewed receive-only, or
// returned by a function of the package that returns only that field or nil.
func (c *checker) source(v ssa.Value, depth int) *types.Var {
	switch v := v.(type) {
	case *ssa.ChangeType:
		return c.source(v.X, depth)
	case *ssa.UnOp:
		if fa, ok := v.X.(*ssa.FieldAddr); ok && v.Op == token.MUL {
			return fieldOf(fa)
		}
	case *ssa.Call:
		fn := v.Call.StaticCallee()
		if fn == nil || !c.funcs[fn] || depth > 2 || fn.Signature.Results().Len() != 1 {
			return nil
		}
		var f *types.Var
		for _, b := range fn.Blocks {
			if len(b.Instrs) == 0 {
				continue
			}
			ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return)
			if !ok {
				continue
			}
			if k, ok := ret.Results[0].(*ssa.Const); ok && k.IsNil() {
				continue
			}
			g := c.source(ret.Results[0], depth+1)
			if g == nil || (f != nil && g != f) {
				return nil
			}
			f = g
		}
		return f
	}
	return nil
}

// checkWaits reports the waits in fn on fields nothing wakes.
func (c *checker) checkWaits(fn *ssa.Function) {
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			switch in := instr.(type) {
			case *ssa.UnOp:
				if in.Op == token.ARROW {
					c.chanWait(in.Pos(), in.X)
				}
			case *ssa.Select:
				if in.Blocking && len(in.States) == 1 && in.States[0].Dir == types.RecvOnly {
					c.chanWait(in.Pos(), in.States[0].Chan)
				}
			case *ssa.Call:
				c.syncWait(in)
			}
		}
	}
}

func (c *checker) chanWait(pos token.Pos, ch ssa.Value) {
	f := c.source(ch, 0)
	if f == nil || kindOf(f.Type()) != "chan" || !c.orphanField(f, useMake) {
		return
	}
	c.report(pos, fmt.Sprintf(
		"O: this receive from %s blocks forever: nothing in the package sends on or closes "+
			"it (made at %s) and no code outside can reach it; close it when its "+
			"owner stops, or select on a done channel too",
		c.fieldName(f), c.line(c.makes[f], pos)))
}

func (c *checker) syncWait(call *ssa.Call) {
	fn := call.Call.StaticCallee()
	if fn == nil || fn.Name() != "Wait" || len(call.Call.Args) == 0 {
		return
	}
	recv := call.Call.Args[0]
	var f *types.Var
	switch r := recv.(type) {
	case *ssa.FieldAddr: // a sync.Cond or sync.WaitGroup value field
		f = fieldOf(r)
	case *ssa.UnOp: // a *sync.Cond field
		if fa, ok := r.X.(*ssa.FieldAddr); ok && r.Op == token.MUL {
			f = fieldOf(fa)
		}
	case *ssa.Alloc:
		c.localWaitGroup(call, r)
		return
	}
	if f == nil {
		return
	}
	switch kindOf(f.Type()) {
	case "cond":
		need := useRecv
		if _, ptr := f.Type().(*types.Pointer); ptr {
			need |= useMake
		}
		if c.orphanField(f, need) {
			c.report(call.Pos(), fmt.Sprintf(
				"O: %s.Wait blocks forever: nothing in the package calls Signal or "+
					"Broadcast on it and no code outside can reach it; Broadcast when the "+
					"condition it waits for changes", c.fieldName(f)))
		}
	case "wg":
		if c.orphanField(f, useAdd) {
			c.report(call.Pos(), fmt.Sprintf(
				"O: %s.Wait blocks forever once Add has run: nothing in the package calls "+
					"Done on it; defer Done in each goroutine that Add counts",
				c.fieldName(f)))
		}
	}
}

// localWaitGroup reports Wait on a local WaitGroup that is added to but never Done.
func (c *checker) localWaitGroup(call *ssa.Call, a *ssa.Alloc) {
	if kindOf(a.Type().(*types.Pointer).Elem()) != "wg" {
		return
	}
	var u use
	for _, ref := range *a.Referrers() {
		switch r := ref.(type) {
		case *ssa.Call:
			u |= methodUse(&r.Call, a, "wg")
		case *ssa.Defer:
			u |= methodUse(&r.Call, a, "wg")
		case *ssa.DebugRef:
		default:
			u |= useEscape
		}
	}
	if u&useAdd != 0 && u&(useWake|useEscape) == 0 {
		c.report(call.Pos(), "O: this Wait blocks forever once Add has run: nothing calls "+
			"Done on the WaitGroup; defer Done in each goroutine that Add counts")
	}
}

// checkLocals reports receives from channels made in fn that nothing can send on or close.
func (c *checker) checkLocals(fn *ssa.Function) {
	if fn.Name() == "main" && fn.Pkg != nil && fn.Pkg.Pkg.Name() == "main" {
		return // a main that parks itself on purpose
	}
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			mc, ok := instr.(*ssa.MakeChan)
			if !ok {
				continue
			}
			u := c.localUses(mc, 0)
			if u&(useWake|useEscape) != 0 {
				continue
			}
			for _, ref := range *mc.Referrers() {
				if r, ok := ref.(*ssa.UnOp); ok && r.Op == token.ARROW {
					c.report(r.Pos(), "O: this receive blocks forever: nothing sends on or "+
						"closes the channel (made at "+c.line(mc.Pos(), r.Pos())+"); it is only "+
						"received from or handed to functions that never send or close; "+
						"close it where the work it waits for ends")
				}
			}
		}
	}
}

// localUses classifies the uses of a channel value, following it into the parameters and
// free variables of functions of the package.
func (c *checker) localUses(v ssa.Value, depth int) use {
	if depth > 3 {
		return useEscape
	}
	var u use
	for _, ref := range *v.Referrers() {
		switch r := ref.(type) {
		case *ssa.Call:
			u |= c.passUse(&r.Call, v, depth)
		case *ssa.Go:
			u |= c.passUse(&r.Call, v, depth)
		case *ssa.Defer:
			u |= c.passUse(&r.Call, v, depth)
		case *ssa.MakeClosure:
			fn, ok := r.Fn.(*ssa.Function)
			if !ok {
				return useEscape
			}
			for i, b := range r.Bindings {
				if b == v {
					u |= c.localUses(fn.FreeVars[i], depth+1)
				}
			}
		case *ssa.ChangeType:
			u |= c.localUses(r, depth+1)
		default:
			u |= valueUses1(r, v)
		}
	}
	return u
}

// valueUses1 classifies one non-call use of a channel value.
func valueUses1(r ssa.Instruction, v ssa.Value) use {
	switch r := r.(type) {
	case *ssa.Send:
		if r.Chan == v {
			return useWake
		}
	case *ssa.UnOp:
		if r.Op == token.ARROW {
			return useRecv
		}
	case *ssa.Select:
		var u use
		for _, s := range r.States {
			if s.Chan == v && s.Dir == types.SendOnly {
				u |= useWake
			} else if s.Chan == v {
				u |= useRecv
			}
		}
		return u
	case *ssa.BinOp, *ssa.DebugRef:
		return 0
	}
	return useEscape
}

// passUse classifies handing channel v to a call: the callee's parameter's own uses.
func (c *checker) passUse(call *ssa.CallCommon, v ssa.Value, depth int) use {
	if _, ok := call.Value.(*ssa.Builtin); ok {
		return callUse(call, v, "chan")
	}
	fn := call.StaticCallee()
	if fn == nil || !c.funcs[fn] || call.Value == v || len(fn.Blocks) == 0 {
		return useEscape
	}
	var u use
	for i, a := range call.Args {
		if a == v {
			if i >= len(fn.Params) {
				return useEscape
			}
			u |= c.localUses(fn.Params[i], depth+1)
		}
	}
	return u
}

func (c *checker) fieldName(f *types.Var) string {
	if o := c.owner[f]; o != "" {
		return o + "." + f.Name()
	}
	return "field " + f.Name()
}

func (c *checker) line(pos, at token.Pos) string {
	if !pos.IsValid() {
		return "an unknown line"
	}
	p, q := c.pass.Fset.Position(pos), c.pass.Fset.Position(at)
	if p.Filename == q.Filename {
		return fmt.Sprintf("line %d", p.Line)
	}
	return fmt.Sprintf("%s:%d", p.Filename[strings.LastIndexByte(p.Filename, '/')+1:], p.Line)
}

// report emits a diagnostic unless a //leakvet:ignore directive with a reason is on its line or
// the line above.
func (c *checker) report(pos token.Pos, msg string) {
	if !pos.IsValid() {
		return
	}
	if c.ignore == nil {
		c.ignore = ignore.New(c.pass)
	}
	c.ignore.Report(analysis.Diagnostic{Pos: pos, Category: "O", Message: msg})
}
