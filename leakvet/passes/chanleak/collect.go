package chanleak

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/leaksafe/leaksafe/leakvet/internal/syntax"
)

// opKind is what a use of a channel variable does with the channel.
type opKind int

const (
	opHarmless opKind = iota // len, cap, comparison: nothing that blocks or lets it escape
	opDef                    // the variable's definition
	opSend
	opRecv
	opRange
	opClose
	opPass   // passed as an argument to a call
	opEscape // stored, returned, aliased: partners unknown
)

// where is the goroutine or function a use runs in, relative to the channel's creator.
type where int

const (
	inCreator where = iota // the function body that makes the channel
	inGo                   // a goroutine started by a go statement
	inDefer                // a deferred function literal
	inClosure              // any other function literal
)

// use is one occurrence of a channel variable.
type use struct {
	id     *ast.Ident
	kind   opKind
	bare   bool // a send or receive with no alternative: not in a select with other cases
	where  where
	goStmt *ast.GoStmt // the go statement for inGo
	nested bool        // the use's function literal is inside another function literal
	loop   bool        // inside a loop body within its own function
	goLoop ast.Stmt    // for inGo: the innermost loop of the creator around the go statement
	// loopStmt is the innermost loop of the creator whose body holds the use, or the range
	// statement over the channel.
	loopStmt ast.Stmt
	call     *ast.CallExpr
	arg      int
	okVar    types.Object // for v, ok := <-ch: ok
}

// chanVar is a local channel variable and everything done with it in the function that makes it.
type chanVar struct {
	v       *types.Var
	def     *ast.Ident
	make    *ast.CallExpr // nil for a var declared without a value
	cap     int           // buffer size; -1 when not a constant
	uses    []use
	escapes bool
}

// candidates returns the channel variables that body defines with make or as a nil var,
// outside function literals nested in it.
func candidates(info *types.Info, body *ast.BlockStmt) map[*types.Var]*chanVar {
	cands := make(map[*types.Var]*chanVar)
	add := func(id *ast.Ident, val ast.Expr) {
		v, ok := info.Defs[id].(*types.Var)
		if !ok || v == nil {
			return
		}
		if _, ok := v.Type().Underlying().(*types.Chan); !ok {
			return
		}
		cv := &chanVar{v: v, def: id}
		if val != nil {
			call, ok := astutil.Unparen(val).(*ast.CallExpr)
			if !ok || !isBuiltin(info, call.Fun, "make") {
				return
			}
			cv.make = call
			cv.cap = 0
			if len(call.Args) > 1 {
				cv.cap = -1
				if tv, ok := info.Types[call.Args[1]]; ok && tv.Value != nil {
					if n, ok := constant.Int64Val(tv.Value); ok {
						cv.cap = int(n)
					}
				}
			}
		}
		cands[v] = cv
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE && len(n.Lhs) == len(n.Rhs) {
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
						add(id, n.Rhs[i])
					}
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if len(n.Values) == 0 {
					add(id, nil)
				} else if len(n.Values) == len(n.Names) {
					add(id, n.Values[i])
				}
			}
		}
		return true
	})
	return cands
}

// collect records every use of the candidates within body, nested function literals included.
func collect(info *types.Info, body *ast.BlockStmt, cands map[*types.Var]*chanVar) {
	syntax.Walk(body, true, func(n ast.Node, stack []ast.Node) {
		id, ok := n.(*ast.Ident)
		if !ok {
			return
		}
		obj := info.Uses[id]
		if obj == nil {
			obj = info.Defs[id]
		}
		v, _ := obj.(*types.Var)
		cv := cands[v]
		if cv == nil {
			return
		}
		u := classify(info, append(stack, id))
		if u.kind == opDef && id != cv.def {
			u.kind = opEscape // assigned again: another channel, or nil
		}
		cv.uses = append(cv.uses, u)
	})
}

// classify describes the use of the identifier at the top of stack.
func classify(info *types.Info, stack []ast.Node) use {
	i := len(stack) - 1
	u := use{id: stack[i].(*ast.Ident)}
	// Context: the innermost function literal, and how it runs.
	lit := -1
	for k := i - 1; k >= 0; k-- {
		if _, ok := stack[k].(*ast.FuncLit); ok {
			if lit < 0 {
				lit = k
			} else {
				u.nested = true
			}
		}
	}
	if lit >= 2 {
		if call, ok := stack[lit-1].(*ast.CallExpr); ok && call.Fun == stack[lit] {
			switch s := stack[lit-2].(type) {
			case *ast.GoStmt:
				u.where, u.goStmt = inGo, s
				u.goLoop = innermostLoop(stack, 0, lit-2)
			case *ast.DeferStmt:
				u.where = inDefer
			default:
				u.where = inClosure
			}
		} else {
			u.where = inClosure
		}
	} else if lit >= 0 {
		u.where = inClosure
	}
	u.loop = innermostLoop(stack, lit+1, i) != nil
	if lit < 0 {
		u.loopStmt = innermostLoop(stack, 0, i)
	}

	p := i - 1
	child := stack[i]
	for p >= 0 {
		if _, ok := stack[p].(*ast.ParenExpr); !ok {
			break
		}
		child = stack[p]
		p--
	}
	if p < 0 {
		u.kind = opEscape
		return u
	}
	switch parent := stack[p].(type) {
	case *ast.SendStmt:
		if parent.Chan != child {
			u.kind = opEscape
			return u
		}
		u.kind = opSend
		u.bare = true
		if p >= 3 {
			if cc, ok := stack[p-1].(*ast.CommClause); ok && cc.Comm == parent {
				u.bare = len(stack[p-3].(*ast.SelectStmt).Body.List) == 1
			}
		}
	case *ast.UnaryExpr:
		if parent.Op != token.ARROW {
			u.kind = opEscape
			return u
		}
		u.kind = opRecv
		u.bare = true
		if p >= 4 {
			if cc, ok := stack[p-2].(*ast.CommClause); ok && cc.Comm == stack[p-1] {
				u.bare = len(stack[p-4].(*ast.SelectStmt).Body.List) == 1
			}
		}
		if p >= 1 {
			if as, ok := stack[p-1].(*ast.AssignStmt); ok && len(as.Lhs) == 2 && len(as.Rhs) == 1 {
				if id, ok := as.Lhs[1].(*ast.Ident); ok {
					u.okVar = info.ObjectOf(id)
				}
			}
		}
	case *ast.RangeStmt:
		if parent.X != child {
			u.kind = opEscape
			return u
		}
		u.kind, u.bare = opRange, true
		if lit < 0 {
			u.loopStmt = parent
		}
	case *ast.CallExpr:
		if parent.Fun == child {
			u.kind = opEscape
			return u
		}
		switch {
		case isBuiltin(info, parent.Fun, "close"):
			u.kind = opClose
		case isBuiltin(info, parent.Fun, "len"), isBuiltin(info, parent.Fun, "cap"):
			u.kind = opHarmless
		default:
			u.kind, u.call = opPass, parent
			for k, a := range parent.Args {
				if a == child {
					u.arg = k
				}
			}
			if p >= 1 {
				if g, ok := stack[p-1].(*ast.GoStmt); ok && g.Call == parent {
					// go f(ch): f runs in the new goroutine.
					u.where, u.goStmt, u.loop = inGo, g, false
					u.nested = lit >= 0
					u.goLoop = innermostLoop(stack, 0, p-1)
				}
			}
		}
	case *ast.BinaryExpr:
		u.kind = opHarmless
	case *ast.AssignStmt:
		u.kind = opEscape
		for _, l := range parent.Lhs {
			if l == child {
				u.kind = opDef
			}
		}
	case *ast.ValueSpec:
		u.kind = opEscape
		for _, n := range parent.Names {
			if n == child {
				u.kind = opDef
			}
		}
	default:
		u.kind = opEscape
	}
	return u
}

// innermostLoop returns the innermost loop among stack[from:to] whose body holds stack[to].
func innermostLoop(stack []ast.Node, from, to int) ast.Stmt {
	for k := to - 1; k >= from && k >= 0; k-- {
		switch l := stack[k].(type) {
		case *ast.ForStmt:
			if stack[k+1] == l.Body {
				return l
			}
		case *ast.RangeStmt:
			if stack[k+1] == l.Body {
				return l
			}
		}
	}
	return nil
}

func isBuiltin(info *types.Info, fun ast.Expr, name string) bool {
	id, ok := astutil.Unparen(fun).(*ast.Ident)
	if !ok {
		return false
	}
	b, ok := info.Uses[id].(*types.Builtin)
	return ok && b.Name() == name
}

// summary is what a function does with one of its channel parameters, in its own body.
type summary struct {
	ops     []use
	unknown bool // the parameter escapes, or is used in a function literal
}

// summaries computes, once per parameter, what same-package functions do with channel
// parameters: one level deep, no further calls.
type summaries struct {
	info  *types.Info
	decls map[*types.Func]*ast.FuncDecl
	memo  map[*types.Var]*summary
}

func (s *summaries) of(call *ast.CallExpr, arg int) *summary {
	fn := typeutil.StaticCallee(s.info, call)
	if fn == nil {
		return nil
	}
	decl := s.decls[fn.Origin()]
	if decl == nil || decl.Body == nil {
		return nil
	}
	sig := fn.Type().(*types.Signature)
	if arg >= sig.Params().Len() || (sig.Variadic() && arg == sig.Params().Len()-1) {
		return nil
	}
	param := s.paramVar(decl, arg)
	if param == nil {
		return nil
	}
	if sm, ok := s.memo[param]; ok {
		return sm
	}
	cv := &chanVar{v: param}
	collect(s.info, decl.Body, map[*types.Var]*chanVar{param: cv})
	sm := &summary{}
	for _, u := range cv.uses {
		switch {
		case u.kind == opHarmless:
		case u.where != inCreator || u.kind == opPass || u.kind == opEscape || u.kind == opDef:
			sm.unknown = true
		default:
			sm.ops = append(sm.ops, u)
		}
	}
	s.memo[param] = sm
	return sm
}

func (s *summaries) paramVar(decl *ast.FuncDecl, arg int) *types.Var {
	k := 0
	for _, f := range decl.Type.Params.List {
		if len(f.Names) == 0 {
			if k == arg {
				return nil
			}
			k++
			continue
		}
		for _, n := range f.Names {
			if k == arg {
				v, _ := s.info.Defs[n].(*types.Var)
				return v
			}
			k++
		}
	}
	return nil
}

// expand replaces the calls that pass cv to same-package functions by what those functions
// do with it, and sets cv.escapes when a use lets the channel reach unknown code.
func (s *summaries) expand(cv *chanVar) {
	var out []use
	for _, u := range cv.uses {
		switch u.kind {
		case opEscape:
			cv.escapes = true
		case opPass:
			sm := s.of(u.call, u.arg)
			if sm == nil || sm.unknown {
				cv.escapes = true
				continue
			}
			for _, op := range sm.ops {
				n := u
				n.kind, n.bare, n.okVar = op.kind, op.bare, nil
				n.loop = u.loop || op.loop
				out = append(out, n)
			}
			continue
		}
		out = append(out, u)
	}
	cv.uses = out
}
