package chanleak

import (
	"go/ast"
	"go/token"
	"go/types"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/leaksafe/leaksafe/leakvet/internal/syntax"
)

// isComm reports whether the node on top of stack (n, whose parent is stack's last) is the
// comm statement of a select case, or the receive inside it.
func isComm(n ast.Node, stack []ast.Node) bool {
	for k := len(stack) - 1; k >= 0 && k >= len(stack)-3; k-- {
		if cc, ok := stack[k].(*ast.CommClause); ok {
			if cc.Comm == n {
				return true
			}
			if k+1 < len(stack) && cc.Comm == stack[k+1] {
				return true
			}
		}
		n = stack[k]
	}
	return false
}

// doubleSend runs D: if x { ch <- a } followed by ch <- b, on a channel parameter, where the
// if does not return.
func (c *checker) doubleSend(typ *ast.FuncType, body *ast.BlockStmt) {
	info := c.pass.TypesInfo
	params := make(map[types.Object]bool)
	for _, f := range typ.Params.List {
		for _, n := range f.Names {
			if obj := info.Defs[n]; obj != nil {
				ch, ok := obj.Type().Underlying().(*types.Chan)
				if ok && ch.Dir() != types.RecvOnly {
					params[obj] = true
				}
			}
		}
	}
	if len(params) == 0 {
		return
	}
	sendOn := func(s ast.Stmt) types.Object {
		if send, ok := s.(*ast.SendStmt); ok {
			if id, ok := astutil.Unparen(send.Chan).(*ast.Ident); ok && params[info.Uses[id]] {
				return info.Uses[id]
			}
		}
		return nil
	}
	syntax.Walk(body, false, func(n ast.Node, stack []ast.Node) {
		block, ok := n.(*ast.BlockStmt)
		if !ok || innermostLoop(append(stack, n), 0, len(stack)) != nil {
			return
		}
		for i, s := range block.List {
			ifs, ok := s.(*ast.IfStmt)
			if !ok || ifs.Else != nil || len(ifs.Body.List) == 0 {
				continue
			}
			var first *ast.SendStmt
			var ch types.Object
			for _, bs := range ifs.Body.List {
				if obj := sendOn(bs); obj != nil {
					first, ch = bs.(*ast.SendStmt), obj
				}
			}
			if first == nil || terminates(info, ifs.Body.List[len(ifs.Body.List)-1]) {
				continue
			}
			for _, later := range block.List[i+1:] {
				if terminates(info, later) {
					break
				}
				if sendOn(later) != ch {
					continue
				}
				d := analysis.Diagnostic{
					Pos: later.Pos(), End: later.End(), Category: "D",
					Message: "when the if at line " + strconv.Itoa(c.line(ifs.Pos())) +
						" sends on " + ch.Name() + ", this second send runs too: " +
						"a receiver that takes one value leaves it blocked forever; " +
						"return after the first send",
				}
				if sig, ok := c.funcSig(typ); ok &&
					sig.Results().Len() == 0 {
					d.SuggestedFixes = []analysis.SuggestedFix{{
						Message: "return after the first send",
						TextEdits: []analysis.TextEdit{{
							Pos: first.End(), End: first.End(), NewText: []byte("\nreturn"),
						}},
					}}
				}
				c.rep.Report(d)
				break
			}
		}
	})
}

func (c *checker) funcSig(typ *ast.FuncType) (*types.Signature, bool) {
	tv, ok := c.pass.TypesInfo.Types[typ]
	if !ok {
		return nil, false
	}
	sig, ok := tv.Type.(*types.Signature)
	return sig, ok
}

// terminates reports whether s ends its block's control flow.
func terminates(info *types.Info, s ast.Stmt) bool {
	switch s := s.(type) {
	case *ast.ReturnStmt, *ast.BranchStmt:
		return true
	case *ast.ExprStmt:
		if call, ok := astutil.Unparen(s.X).(*ast.CallExpr); ok {
			if b, ok := typeutil.Callee(info, call).(*types.Builtin); ok && b.Name() == "panic" {
				return true
			}
		}
	}
	return false
}

// waitInLoop runs W: wg.Wait in the body of the loop that starts the goroutines, when
// wg.Add ran before the loop and the loop adds nothing.
func (c *checker) waitInLoop(body *ast.BlockStmt) {
	info := c.pass.TypesInfo
	type call struct {
		key string
		pos token.Pos
	}
	var adds []call
	syntax.Walk(body, false, func(n ast.Node, stack []ast.Node) {
		if key, name, ok := wgCall(info, n); ok && name == "Add" {
			adds = append(adds, call{key: key, pos: n.Pos()})
		}
	})
	if len(adds) == 0 {
		return
	}
	syntax.Walk(body, false, func(n ast.Node, stack []ast.Node) {
		var loopBody *ast.BlockStmt
		switch l := n.(type) {
		case *ast.ForStmt:
			loopBody = l.Body
		case *ast.RangeStmt:
			loopBody = l.Body
		default:
			return
		}
		var goPos token.Pos
		for _, s := range loopBody.List {
			if g, ok := s.(*ast.GoStmt); ok && !goPos.IsValid() {
				goPos = g.Pos()
			}
			es, ok := s.(*ast.ExprStmt)
			if !ok || !goPos.IsValid() {
				continue
			}
			key, name, ok := wgCall(info, es.X)
			if !ok || name != "Wait" {
				continue
			}
			before, inside := false, false
			for _, a := range adds {
				if a.key != key {
					continue
				}
				if a.pos < n.Pos() {
					before = true
				} else if a.pos < loopBody.End() {
					inside = true
				}
			}
			if before && !inside {
				c.report("W", es.Pos(), es.End(),
					"%s.Wait inside the loop that starts the goroutines: %s.Add before the loop "+
						"counted every one of them, so Wait blocks forever in the first "+
						"iteration; move %s.Wait after the loop", key, key, key)
			}
		}
	})
}

// wgCall reports whether n is a call of a sync.WaitGroup method, with the receiver's text.
func wgCall(info *types.Info, n ast.Node) (key, name string, ok bool) {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return "", "", false
	}
	sel, ok := astutil.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return "", "", false
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	if !ok || !isMethodOf(fn, "sync", "WaitGroup") {
		return "", "", false
	}
	return types.ExprString(sel.X), fn.Name(), true
}

func isMethodOf(fn *types.Func, pkg, typ string) bool {
	recv := fn.Signature().Recv()
	if recv == nil {
		return false
	}
	t := recv.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	named, ok := t.(*types.Named)
	return ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == pkg &&
		named.Obj().Name() == typ
}

// pollThenBlock runs B: select { case <-done: ...; default: } and then, in its default or
// later in the same loop body, a bare channel operation or Cond.Wait.
func (c *checker) pollThenBlock(body *ast.BlockStmt) {
	info := c.pass.TypesInfo
	buffered := localBuffered(info, body)
	syntax.Walk(body, false, func(n ast.Node, stack []ast.Node) {
		sel, ok := n.(*ast.SelectStmt)
		if !ok || len(sel.Body.List) != 2 {
			return
		}
		var polled string
		var pollExpr ast.Expr
		var def *ast.CommClause
		for _, cl := range sel.Body.List {
			cc := cl.(*ast.CommClause)
			switch comm := cc.Comm.(type) {
			case nil:
				def = cc
			case *ast.ExprStmt:
				if u, ok := astutil.Unparen(comm.X).(*ast.UnaryExpr); ok && u.Op == token.ARROW {
					polled, pollExpr = types.ExprString(u.X), u.X
				}
			}
		}
		if def == nil || polled == "" {
			return
		}
		var later []ast.Stmt
		later = append(later, def.Body...)
		if len(stack) >= 2 {
			block, ok := stack[len(stack)-1].(*ast.BlockStmt)
			if ok && isLoopBody(stack[len(stack)-2], block) {
				for i, s := range block.List {
					if s == sel {
						later = append(later, block.List[i+1:]...)
					}
				}
			}
		}
		for _, s := range later {
			if op, what := blockingOp(info, s, polled, buffered); op != nil {
				if call, ok := op.(*ast.CallExpr); ok && c.woken(call, pollExpr) {
					return
				}
				c.report("B", op.Pos(), op.End(),
					"%s blocks without watching %s, which the select at line %d only polls: "+
						"if %s closes while it waits, it waits forever; %s", what, polled,
					c.line(sel.Pos()), polled, fixFor(what, polled))
				return
			}
		}
	})
}

func fixFor(what, polled string) string {
	if strings.HasSuffix(what, "Wait") {
		return "wake the waiter when " + polled + " closes (Broadcast), or use a channel"
	}
	return "put it in a select with a case <-" + polled
}

func isLoopBody(n ast.Node, block *ast.BlockStmt) bool {
	switch l := n.(type) {
	case *ast.ForStmt:
		return l.Body == block
	case *ast.RangeStmt:
		return l.Body == block
	}
	return false
}

// blockingOp returns the first operation in s that blocks with no alternative: a send or
// receive outside a select, or a sync.Cond Wait. Operations on polled and on local
// buffered channels are left out.
func blockingOp(info *types.Info, s ast.Stmt, polled string,
	buffered map[types.Object]bool) (ast.Node, string) {
	var found ast.Node
	var what string
	skip := func(ch ast.Expr) bool {
		if types.ExprString(ch) == polled {
			return true
		}
		id, ok := astutil.Unparen(ch).(*ast.Ident)
		return ok && buffered[info.Uses[id]]
	}
	ast.Inspect(s, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit, *ast.SelectStmt, *ast.GoStmt, *ast.DeferStmt:
			return false
		case *ast.SendStmt:
			if !skip(n.Chan) {
				found, what = n, "the send on "+types.ExprString(n.Chan)
			}
		case *ast.UnaryExpr:
			if n.Op == token.ARROW && !skip(n.X) {
				found, what = n, "the receive from "+types.ExprString(n.X)
			}
		case *ast.CallExpr:
			if sel, ok := astutil.Unparen(n.Fun).(*ast.SelectorExpr); ok {
				if fn, ok := info.Uses[sel.Sel].(*types.Func); ok && fn.Name() == "Wait" &&
					isMethodOf(fn, "sync", "Cond") {
					found, what = n, types.ExprString(sel.X)+".Wait"
				}
			}
		}
		return found == nil
	})
	return found, what
}

// localBuffered returns the local channel variables of body made with a buffer.
func localBuffered(info *types.Info, body *ast.BlockStmt) map[types.Object]bool {
	m := make(map[types.Object]bool)
	for v, cv := range candidates(info, body) {
		if cv.make != nil && cv.cap != 0 {
			m[v] = true
		}
	}
	return m
}

// unguardedSend runs C: a function that selects on a done channel somewhere and also sends,
// outside any select, on a channel that is not one of its local variables.
func (c *checker) unguardedSend(body *ast.BlockStmt) {
	info := c.pass.TypesInfo
	var done string
	syntax.Walk(body, false, func(n ast.Node, stack []ast.Node) {
		cc, ok := n.(*ast.CommClause)
		if !ok || done != "" {
			return
		}
		if es, ok := cc.Comm.(*ast.ExprStmt); ok {
			if u, ok := astutil.Unparen(es.X).(*ast.UnaryExpr); ok && u.Op == token.ARROW &&
				isDoneExpr(u.X) {
				done = types.ExprString(u.X)
			}
		}
	})
	if done == "" {
		return
	}
	locals := candidates(info, body)
	syntax.Walk(body, false, func(n ast.Node, stack []ast.Node) {
		send, ok := n.(*ast.SendStmt)
		if !ok || isComm(n, stack) {
			return
		}
		if id, ok := astutil.Unparen(send.Chan).(*ast.Ident); ok {
			if v, ok := info.Uses[id].(*types.Var); ok && locals[v] != nil {
				return
			}
		}
		c.report("C", send.Pos(), send.End(),
			"the send on %s blocks forever if nobody receives any more, though this function "+
				"watches %s elsewhere; send in a select with a case <-%s",
			types.ExprString(send.Chan), done, done)
	})
}

// isDoneExpr reports whether e reads like a cancellation signal: x.Done(), done, stop, quit.
func isDoneExpr(e ast.Expr) bool {
	switch e := astutil.Unparen(e).(type) {
	case *ast.CallExpr:
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok {
			return sel.Sel.Name == "Done"
		}
	case *ast.Ident:
		return isDoneName(e.Name)
	case *ast.SelectorExpr:
		return isDoneName(e.Sel.Name)
	}
	return false
}

func isDoneName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"done", "stop", "quit", "closing", "closed"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// key returns the object of the variable or field that e names: done for c.done.
func key(info *types.Info, e ast.Expr) types.Object {
	switch e := astutil.Unparen(e).(type) {
	case *ast.Ident:
		return info.Uses[e]
	case *ast.SelectorExpr:
		return info.Uses[e.Sel]
	}
	return nil
}

// woken reports whether some function of the package closes the channel that polled names
// and also wakes the sync.Cond whose Wait is call: the waiter then sees the close.
func (c *checker) woken(call *ast.CallExpr, polled ast.Expr) bool {
	info := c.pass.TypesInfo
	sel := astutil.Unparen(call.Fun).(*ast.SelectorExpr)
	pair := [2]types.Object{key(info, polled), key(info, sel.X)}
	if pair[0] == nil || pair[1] == nil {
		return false
	}
	if c.wakers == nil {
		c.wakers = make(map[[2]types.Object]bool)
		for _, f := range c.pass.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				if _, body := syntax.Func(n); body != nil {
					c.addWakers(body)
				}
				return true
			})
		}
	}
	return c.wakers[pair]
}

func (c *checker) addWakers(body *ast.BlockStmt) {
	info := c.pass.TypesInfo
	var closed, woke []types.Object
	syntax.Walk(body, false, func(n ast.Node, _ []ast.Node) {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return
		}
		if isBuiltin(info, call.Fun, "close") && len(call.Args) == 1 {
			if k := key(info, call.Args[0]); k != nil {
				closed = append(closed, k)
			}
		}
		if sel, ok := astutil.Unparen(call.Fun).(*ast.SelectorExpr); ok {
			if fn, ok := info.Uses[sel.Sel].(*types.Func); ok && isMethodOf(fn, "sync", "Cond") &&
				(fn.Name() == "Broadcast" || fn.Name() == "Signal") {
				if k := key(info, sel.X); k != nil {
					woke = append(woke, k)
				}
			}
		}
	})
	for _, ch := range closed {
		for _, cond := range woke {
			c.wakers[[2]types.Object{ch, cond}] = true
		}
	}
}
