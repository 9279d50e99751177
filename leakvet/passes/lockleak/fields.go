package lockleak

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"

	"github.com/leaksafe/leaksafe/leakvet/internal/ignore"
)

// chanOp is what one site does with a channel field or a WaitGroup field.
type chanOp int

const (
	opSend chanOp = 1 << iota
	opRecv
	opClose
	opWait
	opDone // WaitGroup Add or Done
)

// fieldInfo is every use of one unexported channel or WaitGroup field in the package.
type fieldInfo struct {
	ops      map[*ssa.Function]chanOp
	escapes  bool // used in a way the package cannot see through
	makes    int  // stores of make(chan T)
	buffered bool // some make has a capacity that is not the constant 0
}

func (c *checker) info(f *types.Var) *fieldInfo {
	fi := c.fields[f]
	if fi == nil {
		fi = &fieldInfo{ops: map[*ssa.Function]chanOp{}}
		c.fields[f] = fi
	}
	return fi
}

func isWaitGroup(t types.Type) bool {
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "sync" &&
		n.Obj().Name() == "WaitGroup"
}

// tracked reports whether M reasons about field f: unexported, of this package, a channel or a
// WaitGroup.
func (c *checker) tracked(f *types.Var) bool {
	if f == nil || f.Exported() || f.Pkg() != c.pass.Pkg {
		return false
	}
	if _, ok := f.Type().Underlying().(*types.Chan); ok {
		return true
	}
	return isWaitGroup(f.Type())
}

// scanFields records how fn uses the package's channel and WaitGroup fields.
func (c *checker) scanFields(fn *ssa.Function) {
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			switch in := instr.(type) {
			case *ssa.FieldAddr:
				if f := fieldOf(in); c.labels[f] == "" {
					c.labels[f] = label(in)
				}
				if f := fieldOf(in); c.tracked(f) {
					c.scanAddr(fn, f, in)
				}
			case *ssa.Field:
				if f := fieldVar(in.X.Type(), in.Field); c.tracked(f) {
					c.scanValue(fn, f, in)
				}
			}
		}
	}
}

func (c *checker) scanAddr(fn *ssa.Function, f *types.Var, fa *ssa.FieldAddr) {
	fi := c.info(f)
	for _, ref := range *fa.Referrers() {
		switch r := ref.(type) {
		case *ssa.Store:
			if r.Addr != fa {
				fi.escapes = true
				continue
			}
			switch v := r.Val.(type) {
			case *ssa.MakeChan:
				fi.makes++
				if k, ok := v.Size.(*ssa.Const); !ok || k.Int64() != 0 {
					fi.buffered = true
				}
			case *ssa.Const:
				if !v.IsNil() {
					fi.escapes = true
				}
			default:
				fi.escapes = true
			}
		case *ssa.UnOp:
			if r.Op != token.MUL {
				fi.escapes = true
				continue
			}
			c.scanValue(fn, f, r)
		case *ssa.Call:
			c.wgUse(fn, fi, &r.Call, fa)
		case *ssa.Defer:
			c.wgUse(fn, fi, &r.Call, fa)
		case *ssa.DebugRef:
		default:
			fi.escapes = true
		}
	}
}

func (c *checker) wgUse(fn *ssa.Function, fi *fieldInfo, call *ssa.CallCommon, fa ssa.Value) {
	for _, name := range []string{"Wait", "Done", "Add"} {
		if recv, ok := syncMethod(call, "WaitGroup", name); ok && recv == fa {
			switch {
			case name == "Wait":
				fi.ops[fn] |= opWait
			case name == "Done" || negative(call.Args[1]):
				fi.ops[fn] |= opDone
			}
			return
		}
	}
	fi.escapes = true
}

// negative reports a constant below zero: wg.Add(-1) releases a Wait as Done does.
func negative(v ssa.Value) bool {
	k, ok := v.(*ssa.Const)
	return ok && k.Value != nil && constant.Sign(k.Value) < 0
}

// scanValue records the uses of a loaded channel value.
func (c *checker) scanValue(fn *ssa.Function, f *types.Var, v ssa.Value) {
	fi := c.info(f)
	if isWaitGroup(f.Type()) {
		fi.escapes = true // a copied WaitGroup: nothing to reason about
		return
	}
	for _, ref := range *v.Referrers() {
		switch r := ref.(type) {
		case *ssa.Send:
			if r.Chan == v {
				fi.ops[fn] |= opSend
			} else {
				fi.escapes = true
			}
		case *ssa.UnOp:
			if r.Op == token.ARROW {
				fi.ops[fn] |= opRecv
			} else {
				fi.escapes = true
			}
		case *ssa.Select:
			for _, s := range r.States {
				if s.Chan != v {
					continue
				}
				if s.Dir == types.SendOnly {
					fi.ops[fn] |= opSend
				} else {
					fi.ops[fn] |= opRecv
				}
			}
		case *ssa.Call:
			c.builtinUse(fn, fi, &r.Call)
		case *ssa.Defer:
			c.builtinUse(fn, fi, &r.Call)
		case *ssa.ChangeType:
			c.scanValue(fn, f, r)
		case *ssa.BinOp, *ssa.DebugRef:
		default:
			fi.escapes = true
		}
	}
}

func (c *checker) builtinUse(fn *ssa.Function, fi *fieldInfo, call *ssa.CallCommon) {
	b, ok := call.Value.(*ssa.Builtin)
	if !ok {
		fi.escapes = true
		return
	}
	switch b.Name() {
	case "close":
		fi.ops[fn] |= opClose
	case "len", "cap":
	default:
		fi.escapes = true
	}
}

// chanField is the field a channel operand was loaded from, or nil.
func chanField(v ssa.Value) *types.Var {
	for {
		ct, ok := v.(*ssa.ChangeType)
		if !ok {
			break
		}
		v = ct.X
	}
	switch v := v.(type) {
	case *ssa.UnOp:
		if fa, ok := v.X.(*ssa.FieldAddr); ok && v.Op == token.MUL {
			return fieldOf(fa)
		}
	case *ssa.Field:
		return fieldVar(v.X.Type(), v.Field)
	case *ssa.FieldAddr: // the WaitGroup receiver
		return fieldOf(v)
	}
	return nil
}

// blockRec is a blocking operation on a field made while holding lock fields.
type blockRec struct {
	fn    *ssa.Function
	pos   token.Pos
	field *types.Var
	kind  chanOp
	held  map[*types.Var]*ssa.CallCommon
}

func (r *reporter) blocking(st *state, instr ssa.Instruction, ch ssa.Value, kind chanOp) {
	f := chanField(ch)
	if f == nil || !r.c.tracked(f) {
		return
	}
	held := map[*types.Var]*ssa.CallCommon{}
	for k, b := range st.held {
		if !mustHold(b) || st.site[k] == nil {
			continue
		}
		if lf := lastField(st.site[k].Args[0]); lf != nil {
			held[lf] = st.site[k]
		}
	}
	if len(held) == 0 {
		return
	}
	pos := instr.Pos()
	if !pos.IsValid() {
		return
	}
	r.c.blocked = append(r.c.blocked, blockRec{r.f.fn, pos, f, kind, held})
}

// takes reports whether fn takes lock field l itself or in a function it calls.
func (c *checker) takes(fn *ssa.Function, l *types.Var) bool {
	sum := c.sums[fn]
	if sum == nil {
		return false
	}
	if sum.locks[l] {
		return true
	}
	for _, rec := range sum.calls {
		if s := c.sums[rec.callee]; s != nil && s.locks[l] {
			return true
		}
	}
	return false
}

// reportBlocked reports M: every partner of a blocking field operation needs the lock held
// across it.
func (c *checker) reportBlocked() {
	for _, rec := range c.blocked {
		fi := c.fields[rec.field]
		if fi == nil || fi.escapes {
			continue
		}
		var comp chanOp
		var verb, other string
		if rec.kind != opWait && (fi.makes == 0 || fi.buffered) {
			continue // a buffered channel may hold what the blocked side waits for
		}
		switch rec.kind {
		case opSend:
			comp, verb, other = opRecv|opClose, "send on", "receives from or closes"
		case opRecv:
			comp, verb, other = opSend|opClose, "receive from", "sends on or closes"
		case opWait:
			comp, verb, other = opDone, "Wait on", "calls Done on"
		}
		var partners []*ssa.Function
		for fn, ops := range fi.ops {
			if ops&comp != 0 {
				partners = append(partners, fn)
			}
		}
		if len(partners) == 0 {
			continue
		}
		sort.Slice(partners, func(i, j int) bool { return partners[i].Pos() < partners[j].Pos() })
		for l, site := range rec.held {
			all := true
			for _, p := range partners {
				all = all && c.takes(p, l)
			}
			if !all {
				continue
			}
			var names []string
			for _, p := range partners {
				names = append(names, p.Name())
			}
			c.report(rec.pos, "M", fmt.Sprintf(
				"%s %s blocks while holding %s%s, but every function that %s it (%s) "+
					"also takes %s: both sides wait forever; release the lock before "+
					"blocking, or select on a done channel",
				verb, rec.field.Name(), c.lockName(site), c.since(site, rec.pos), other,
				strings.Join(names, ", "), c.lockName(site)), nil)
			break
		}
	}
}

// callExpr finds the call expression whose '(' is at pos.
func (c *checker) callExpr(pos token.Pos) *ast.CallExpr {
	if c.calls == nil {
		c.calls = map[token.Pos]*ast.CallExpr{}
		for _, file := range c.pass.Files {
			ast.Inspect(file, func(n ast.Node) bool {
				if ce, ok := n.(*ast.CallExpr); ok {
					c.calls[ce.Lparen] = ce
				}
				return true
			})
		}
	}
	return c.calls[pos]
}

// lockExpr is the source of the lock a Lock call locks ("g.mu"), or "".
func (c *checker) lockExpr(call *ssa.CallCommon) string {
	ce := c.callExpr(call.Pos())
	if ce == nil {
		return ""
	}
	sel, ok := ce.Fun.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	return types.ExprString(sel.X)
}

func (c *checker) lockName(call *ssa.CallCommon) string {
	if x := c.lockExpr(call); x != "" {
		return x
	}
	return "the lock"
}

// line names pos for a message about a line in the same file as at: "line 12", else
// "file.go:12".
func (c *checker) line(pos, at token.Pos) string {
	p, q := c.pass.Fset.Position(pos), c.pass.Fset.Position(at)
	if p.Filename == q.Filename {
		return fmt.Sprintf("line %d", p.Line)
	}
	return fmt.Sprintf("%s:%d", filepath.Base(p.Filename), p.Line)
}

// since names the Lock call that took a lock: " (locked at line N)".
func (c *checker) since(site *ssa.CallCommon, at token.Pos) string {
	if site == nil || !site.Pos().IsValid() {
		return ""
	}
	return " (locked at " + c.line(site.Pos(), at) + ")"
}

// report emits a diagnostic unless a //leakvet:ignore directive with a reason is on its line or
// the line above.
func (c *checker) report(pos token.Pos, category, msg string, fixes []analysis.SuggestedFix) {
	if c.ignore == nil {
		c.ignore = ignore.New(c.pass)
	}
	c.ignore.Report(analysis.Diagnostic{Pos: pos, Category: category,
		Message: category + ": " + msg, SuggestedFixes: fixes})
}
