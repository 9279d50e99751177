// Package leaksafecheck defines an Analyzer that finds misuse of github.com/leaksafe/leaksafe:
// the ways to use its primitives that still leak or leave goroutines unjoined.
//
// Each diagnostic carries a category naming its check:
//
//	LD  a done channel made in the function and passed to leaksafe is not closed on some
//	    path: the goroutines started with it run on. Fix: defer close(done) after making it.
//	LT  a terminated result is discarded: the owner can never wait for the goroutines to
//	    have stopped. Fix: receive from it after closing done, or join it with leaksafe.All.
//	LG  a leaksafe.Group made with NewGroup or NewGroupContext is not waited for on some
//	    path. Fix: call g.Wait on every path.
//	LS  a Source never uses its done: when a loop over leaksafe.Range ends, Range closes
//	    done and waits for terminated, which then never closes. Fix: pass done to the stages.
//
// Code inside the leaksafe package itself is not checked.
package leaksafecheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/leaksafe/leaksafe/leakvet/internal/flow"
	"github.com/leaksafe/leaksafe/leakvet/internal/ignore"
	"github.com/leaksafe/leaksafe/leakvet/internal/syntax"
)

// Path is the import path of the package whose use this analyzer checks.
const Path = "github.com/leaksafe/leaksafe"

// Analyzer reports leaksafe primitives whose goroutines their owner cannot stop or join.
var Analyzer = &analysis.Analyzer{
	Name:     "leaksafecheck",
	Doc:      "report leaksafe primitives that their owner cannot stop or join",
	URL:      "https://pkg.go.dev/github.com/leaksafe/leaksafe/leakvet/passes/leaksafecheck",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

type checker struct {
	pass  *analysis.Pass
	rep   *ignore.Reporter
	decls map[types.Object]*ast.FuncDecl
}

func run(pass *analysis.Pass) (any, error) {
	if pass.Pkg.Path() == Path || !imports(pass.Pkg) {
		return nil, nil
	}
	c := &checker{pass: pass, rep: ignore.New(pass), decls: make(map[types.Object]*ast.FuncDecl)}
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				c.decls[pass.TypesInfo.Defs[fd.Name]] = fd
			}
		}
	}
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	insp.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(n ast.Node) {
		if _, body := syntax.Func(n); body != nil {
			c.function(body)
		}
	})
	return nil, nil
}

func imports(pkg *types.Package) bool {
	for _, p := range pkg.Imports() {
		if p.Path() == Path {
			return true
		}
	}
	return false
}

// leaksafeFunc returns the leaksafe function or method that call calls, if it does.
func (c *checker) leaksafeFunc(call *ast.CallExpr) *types.Func {
	fn, ok := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != Path {
		return nil
	}
	return fn
}

func (c *checker) line(pos token.Pos) int { return c.pass.Fset.Position(pos).Line }

// function runs every check on the calls of one function body, outside nested literals.
func (c *checker) function(body *ast.BlockStmt) {
	var g *flow.Graph
	graph := func() *flow.Graph {
		if g == nil {
			g = flow.New(body, c.pass.TypesInfo)
		}
		return g
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ExprStmt:
			if call, ok := astutil.Unparen(n.X).(*ast.CallExpr); ok {
				if fn := c.leaksafeFunc(call); fn != nil && hasTerminated(fn) && !nilDone(call) {
					c.reportTerminated(call, fn)
				}
			}
		case *ast.AssignStmt:
			c.assign(n, body, graph)
		case *ast.CallExpr:
			if fn := c.leaksafeFunc(n); fn != nil {
				c.sources(n, fn)
			}
		}
		return true
	})
	c.doneChans(body, graph)
}

// nilDone reports whether the first argument of call is the literal nil: a call that runs
// until its input ends, or a misuse that panics before it starts anything.
func nilDone(call *ast.CallExpr) bool {
	if len(call.Args) == 0 {
		return false
	}
	id, ok := astutil.Unparen(call.Args[0]).(*ast.Ident)
	return ok && id.Name == "nil"
}

func hasTerminated(fn *types.Func) bool {
	res := fn.Signature().Results()
	return res.Len() > 0 && res.At(res.Len()-1).Name() == "terminated"
}

func (c *checker) reportTerminated(call *ast.CallExpr, fn *types.Func) {
	c.rep.Report(analysis.Diagnostic{
		Pos: call.Pos(), End: call.End(), Category: "LT",
		Message: fmt.Sprintf("every result of leaksafe.%s, terminated too, is discarded: its "+
			"goroutines send on outputs nobody reads until done closes, and the owner cannot "+
			"wait for them; read the outputs, and receive from terminated after closing done",
			fn.Name()),
	})
}

// assign checks x, terminated := leaksafe.F(...) with terminated discarded, and groups.
func (c *checker) assign(as *ast.AssignStmt, body *ast.BlockStmt, graph func() *flow.Graph) {
	if len(as.Rhs) != 1 {
		return
	}
	call, ok := astutil.Unparen(as.Rhs[0]).(*ast.CallExpr)
	if !ok {
		return
	}
	fn := c.leaksafeFunc(call)
	if fn == nil {
		return
	}
	if hasTerminated(fn) && len(as.Lhs) == fn.Signature().Results().Len() && !nilDone(call) {
		discarded := true
		for _, l := range as.Lhs {
			if id, ok := l.(*ast.Ident); !ok || id.Name != "_" {
				discarded = false
			}
		}
		if discarded {
			c.reportTerminated(call, fn)
		}
	}
	if (fn.Name() == "NewGroup" || fn.Name() == "NewGroupContext") && fn.Signature().Recv() == nil {
		if id, ok := as.Lhs[0].(*ast.Ident); ok && id.Name != "_" {
			if v, ok := c.pass.TypesInfo.ObjectOf(id).(*types.Var); ok {
				c.group(v, as, call, body, graph)
			}
		}
	}
}

// group runs LG: the group g must be waited for on every path after it is made.
func (c *checker) group(g *types.Var, as *ast.AssignStmt, call *ast.CallExpr, body *ast.BlockStmt,
	graph func() *flow.Graph) {
	waits := make(map[*ast.Ident]bool)
	escapes, started := false, !nilDone(call)
	c.uses(body, g, func(id *ast.Ident, stack []ast.Node) {
		parent := stack[len(stack)-2]
		for _, a := range stack {
			if _, ok := a.(*ast.FuncLit); ok && !deferredLit(stack) {
				escapes = true // captured: the literal may run anywhere
			}
		}
		switch p := parent.(type) {
		case *ast.SelectorExpr:
			if p.X == id {
				switch p.Sel.Name {
				case "Wait":
					waits[id] = true
				case "Go", "TryGo":
					started = true
				}
				return
			}
		case *ast.AssignStmt:
			if p == as {
				return
			}
		}
		escapes = true
	})
	if escapes || !started {
		return
	}
	stop := func(n ast.Node) bool {
		return flow.Contains(n, func(m ast.Node) bool {
			id, ok := m.(*ast.Ident)
			return ok && waits[id]
		})
	}
	if exit, ok := graph().ExitAfter(as, stop); ok {
		c.rep.Report(analysis.Diagnostic{
			Pos: call.Pos(), End: call.End(), Category: "LG",
			Message: fmt.Sprintf("the group %s is not waited for when the function %s: its "+
				"goroutines, and the one that watches the parent, run on; call %s.Wait on "+
				"every path", g.Name(), exitText(c, body, exit), g.Name()),
		})
	}
}

func exitText(c *checker, body *ast.BlockStmt, exit ast.Node) string {
	if exit == nil {
		return fmt.Sprintf("reaches its end at line %d", c.line(body.Rbrace))
	}
	return fmt.Sprintf("returns at line %d", c.line(exit.Pos()))
}

// uses calls f for every identifier in body, nested literals included, that refers to v.
func (c *checker) uses(body *ast.BlockStmt, v *types.Var, f func(*ast.Ident, []ast.Node)) {
	syntax.Walk(body, true, func(n ast.Node, stack []ast.Node) {
		if id, ok := n.(*ast.Ident); ok && c.pass.TypesInfo.ObjectOf(id) == v {
			f(id, append(stack, id))
		}
	})
}

// doneChans runs LD: done := make(chan struct{}) passed to leaksafe must be closed on every
// path after the first such call.
func (c *checker) doneChans(body *ast.BlockStmt, graph func() *flow.Graph) {
	info := c.pass.TypesInfo
	ast.Inspect(body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		as, ok := n.(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			return true
		}
		id, ok := as.Lhs[0].(*ast.Ident)
		v, _ := info.Defs[id].(*types.Var)
		mk, isCall := astutil.Unparen(as.Rhs[0]).(*ast.CallExpr)
		if !ok || v == nil || !isCall || len(mk.Args) != 1 {
			return true
		}
		if fid, ok := astutil.Unparen(mk.Fun).(*ast.Ident); !ok || !isBuiltin(info, fid, "make") {
			return true
		}
		if ch, ok := v.Type().Underlying().(*types.Chan); !ok || ch.Dir() != types.SendRecv {
			return true
		}
		c.doneChan(v, as, mk, body, graph)
		return true
	})
}

func (c *checker) doneChan(v *types.Var, as *ast.AssignStmt, mk *ast.CallExpr,
	body *ast.BlockStmt, graph func() *flow.Graph) {
	info := c.pass.TypesInfo
	var first *ast.CallExpr
	var firstFn *types.Func
	closes := make(map[*ast.Ident]bool)
	escapes := false
	c.uses(body, v, func(id *ast.Ident, stack []ast.Node) {
		if id.Pos() == as.Lhs[0].Pos() {
			return
		}
		p := len(stack) - 2
		inLit := false
		for _, a := range stack[:p+1] {
			if _, ok := a.(*ast.FuncLit); ok {
				inLit = true
			}
		}
		switch parent := stack[p].(type) {
		case *ast.UnaryExpr:
			if parent.Op == token.ARROW {
				return
			}
		case *ast.CallExpr:
			if isClose(info, parent) {
				// A close in a literal that is not deferred runs at a time we cannot see.
				if inLit && !deferredLit(stack) {
					escapes = true
				}
				_, isDefer := stack[p-1].(*ast.DeferStmt)
				closes[id] = isDefer || inLit
				return
			}
			if fn := c.leaksafeFunc(parent); fn != nil {
				if first == nil && !inLit && startsWithDone(fn, parent, id) {
					first, firstFn = parent, fn
				}
				return
			}
		}
		escapes = true
	})
	if escapes || first == nil {
		return
	}
	for id, deferred := range closes {
		if deferred || id.Pos() < first.Pos() {
			return // closed on every path out, or before the call: nothing runs on
		}
	}
	stop := func(n ast.Node) bool {
		return flow.Contains(n, func(m ast.Node) bool {
			id, ok := m.(*ast.Ident)
			_, closed := closes[id]
			return ok && closed
		})
	}
	exit, ok := graph().ExitAfterNodeOf(first, stop)
	if !ok {
		return
	}
	name := v.Name()
	c.rep.Report(analysis.Diagnostic{
		Pos: first.Pos(), End: first.End(), Category: "LD",
		Message: fmt.Sprintf("%s is not closed when the function %s: the goroutines that "+
			"leaksafe.%s started with it run on; defer close(%s) right after making it",
			name, exitText(c, body, exit), firstFn.Name(), name),
		SuggestedFixes: []analysis.SuggestedFix{{
			Message: fmt.Sprintf("defer close(%s)", name),
			TextEdits: []analysis.TextEdit{{
				Pos: as.End(), End: as.End(),
				NewText: fmt.Appendf(nil, "\ndefer close(%s)", name),
			}},
		}},
	})
}

// startsWithDone reports whether fn starts goroutines that run until the argument id closes:
// id is fn's done (or NewGroup's parent) and fn returns a terminated, or is NewGroup. The calls
// that join what they start before they return (Range, ForEach, First...) and the signal joins
// (All, Or) do not need their done closed afterwards.
func startsWithDone(fn *types.Func, call *ast.CallExpr, id *ast.Ident) bool {
	if len(call.Args) == 0 || astutil.Unparen(call.Args[0]) != id || fn.Signature().Recv() != nil {
		return false
	}
	name := fn.Signature().Params().At(0).Name()
	return (name == "done" && hasTerminated(fn)) || (name == "parent" && fn.Name() == "NewGroup")
}

func isClose(info *types.Info, call *ast.CallExpr) bool {
	id, ok := astutil.Unparen(call.Fun).(*ast.Ident)
	return ok && isBuiltin(info, id, "close")
}

func isBuiltin(info *types.Info, id *ast.Ident, name string) bool {
	b, ok := info.Uses[id].(*types.Builtin)
	return ok && b.Name() == name
}

// deferredLit reports whether the innermost function literal on stack is deferred.
func deferredLit(stack []ast.Node) bool {
	for k := len(stack) - 1; k >= 2; k-- {
		if lit, ok := stack[k].(*ast.FuncLit); ok {
			call, ok := stack[k-1].(*ast.CallExpr)
			if !ok || call.Fun != lit {
				return false
			}
			_, ok = stack[k-2].(*ast.DeferStmt)
			return ok
		}
	}
	return false
}

// sources runs LS on the arguments of a leaksafe call whose parameter is a Source.
func (c *checker) sources(call *ast.CallExpr, fn *types.Func) {
	params := fn.Signature().Params()
	for i, arg := range call.Args {
		if i >= params.Len() || !isSource(params.At(i).Type()) {
			continue
		}
		var ft *ast.FuncType
		var fbody *ast.BlockStmt
		switch a := astutil.Unparen(arg).(type) {
		case *ast.FuncLit:
			ft, fbody = a.Type, a.Body
		case *ast.Ident:
			if d := c.decls[c.pass.TypesInfo.Uses[a]]; d != nil {
				ft, fbody = d.Type, d.Body
			}
		}
		if ft == nil || fbody == nil || len(ft.Params.List) != 1 {
			continue
		}
		f := ft.Params.List[0]
		used := false
		if len(f.Names) == 1 && f.Names[0].Name != "_" {
			obj := c.pass.TypesInfo.Defs[f.Names[0]]
			ast.Inspect(fbody, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && c.pass.TypesInfo.Uses[id] == obj {
					used = true
				}
				return !used
			})
		}
		if !used {
			c.rep.Report(analysis.Diagnostic{
				Pos: f.Pos(), End: f.End(), Category: "LS",
				Message: fmt.Sprintf("this Source never uses its done: when the loop over "+
					"leaksafe.%s ends, done closes and the loop waits for terminated, which the "+
					"stages then never close; pass done to every stage", fn.Name()),
			})
		}
	}
}

func isSource(t types.Type) bool {
	named, ok := t.(*types.Named)
	return ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == Path &&
		named.Obj().Name() == "Source"
}
