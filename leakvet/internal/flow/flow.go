// Package flow answers the one path question leakvet's checks ask of a function body: can the
// function return after some point without passing a given kind of statement first?
package flow

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/cfg"
	"golang.org/x/tools/go/types/typeutil"
)

// Graph is the control-flow graph of one function body.
type Graph struct {
	body  *ast.BlockStmt
	info  *types.Info
	cfg   *cfg.CFG
	comms map[ast.Node]*ast.CommClause // select comm statement -> its clause
}

// New builds the graph of body. Calls that never return (panic, os.Exit, log.Fatal,
// testing's FailNow family) end their path without reaching an exit.
func New(body *ast.BlockStmt, info *types.Info) *Graph {
	g := &Graph{body: body, info: info, comms: make(map[ast.Node]*ast.CommClause)}
	g.cfg = cfg.New(body, func(call *ast.CallExpr) bool { return MayReturn(info, call) })
	ast.Inspect(body, func(n ast.Node) bool {
		if cc, ok := n.(*ast.CommClause); ok && cc.Comm != nil {
			g.comms[cc.Comm] = cc
		}
		return true
	})
	return g
}

// MayReturn reports whether call may return to its caller.
func MayReturn(info *types.Info, call *ast.CallExpr) bool {
	switch fn := typeutil.Callee(info, call).(type) {
	case *types.Builtin:
		return fn.Name() != "panic"
	case *types.Func:
		if fn.Pkg() == nil {
			return true
		}
		switch fn.Pkg().Path() + "." + fn.Name() {
		case "os.Exit", "log.Fatal", "log.Fatalf", "log.Fatalln", "log.Panic", "log.Panicf",
			"log.Panicln", "runtime.Goexit", "testing.FailNow", "testing.Fatal", "testing.Fatalf",
			"testing.SkipNow", "testing.Skip", "testing.Skipf":
			return false
		}
	}
	return true
}

// MaxCount returns the largest number of nodes for which count is true on one path through
// the graph, from entry to exit, not counting loops again: count should be true of no node in
// a loop.
func (g *Graph) MaxCount(count func(ast.Node) bool) int {
	memo := make(map[*cfg.Block]int)
	onStack := make(map[*cfg.Block]bool)
	var visit func(b *cfg.Block) int
	visit = func(b *cfg.Block) int {
		if n, ok := memo[b]; ok {
			return n
		}
		onStack[b] = true
		best := 0
		for _, s := range b.Succs {
			if !onStack[s] {
				best = max(best, visit(s))
			}
		}
		onStack[b] = false
		for _, n := range b.Nodes {
			if count(n) {
				best++
			}
		}
		memo[b] = best
		return best
	}
	if len(g.cfg.Blocks) == 0 {
		return 0
	}
	return visit(g.cfg.Blocks[0])
}

// A Stop tells whether a node of the graph ends the search: the node does what the caller
// looks for (receives from a channel, closes it, calls Wait).
type Stop func(ast.Node) bool

// ExitAfter reports whether the function can return after start without passing a node for
// which stop is true, and the statement where it returns (nil when it falls off the end).
// start is a statement that the graph holds as a node, such as a go, send or return
// statement, or an expression statement.
func (g *Graph) ExitAfter(start ast.Node, stop Stop) (exit ast.Node, ok bool) {
	for _, b := range g.cfg.Blocks {
		for i, n := range b.Nodes {
			if n == start {
				return g.search(b, i+1, stop)
			}
		}
	}
	return nil, false
}

// ExitAfterNodeOf is ExitAfter starting after the node of the graph that holds n, such as the
// statement around a call.
func (g *Graph) ExitAfterNodeOf(n ast.Node, stop Stop) (exit ast.Node, ok bool) {
	for _, b := range g.cfg.Blocks {
		for i, m := range b.Nodes {
			if _, isComm := g.comms[m]; isComm {
				continue
			}
			if m.Pos() <= n.Pos() && n.End() <= m.End() {
				return g.search(b, i+1, stop)
			}
		}
	}
	return nil, false
}

// ExitAfterLoop is ExitAfter starting where loop, a for or range statement, is left.
func (g *Graph) ExitAfterLoop(loop ast.Stmt, stop Stop) (exit ast.Node, ok bool) {
	for _, b := range g.cfg.Blocks {
		if (b.Kind == cfg.KindForDone || b.Kind == cfg.KindRangeDone) && b.Stmt == loop {
			return g.search(b, 0, stop)
		}
	}
	return nil, false
}

// search walks the graph from node i of block b.
func (g *Graph) search(b *cfg.Block, i int, stop Stop) (ast.Node, bool) {
	seen := make(map[*cfg.Block]bool)
	type item struct {
		b *cfg.Block
		i int
	}
	work := []item{{b, i}}
	for len(work) > 0 {
		it := work[len(work)-1]
		work = work[:len(work)-1]
		if g.blocked(it.b, it.i, stop) {
			continue
		}
		if len(it.b.Succs) == 0 {
			if exit, ok := g.exit(it.b); ok {
				return exit, true
			}
			continue
		}
		for _, s := range it.b.Succs {
			if !seen[s] {
				seen[s] = true
				work = append(work, item{s, 0})
			}
		}
	}
	return nil, false
}

// blocked reports whether a node of b from i on stops the search.
func (g *Graph) blocked(b *cfg.Block, i int, stop Stop) bool {
	if i == 0 && b.Kind == cfg.KindSelectCaseBody {
		// The comm statements of a select are evaluated before the select chooses; the
		// operation of a case happens only on the path into that case's body.
		if cc, ok := b.Stmt.(*ast.CommClause); ok && stop(cc.Comm) {
			return true
		}
	}
	for _, n := range b.Nodes[i:] {
		if _, isComm := g.comms[n]; isComm {
			continue
		}
		if stop(n) {
			return true
		}
	}
	return false
}

// exit reports whether b, a block without successors, returns from the function, and where.
// A block that ends in a call that never returns, or in an empty select, is no exit.
func (g *Graph) exit(b *cfg.Block) (ast.Node, bool) {
	if b.Kind == cfg.KindSelectAfterCase {
		return nil, false // after the last case of a select without default: never runs
	}
	if len(b.Nodes) == 0 {
		return nil, true
	}
	switch last := b.Nodes[len(b.Nodes)-1].(type) {
	case *ast.ReturnStmt:
		return last, true
	case *ast.ExprStmt:
		if call, ok := astutil.Unparen(last.X).(*ast.CallExpr); ok && !MayReturn(g.info, call) {
			return nil, false
		}
	}
	return nil, true
}

// Contains reports whether node n, a node of the graph, holds a node for which match is true.
// It looks into the function literal of a deferred call, which runs as the function returns,
// but not into other function literals.
func Contains(n ast.Node, match func(ast.Node) bool) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if found || m == nil {
			return false
		}
		if lit, ok := m.(*ast.FuncLit); ok {
			if d, ok := n.(*ast.DeferStmt); !ok || d.Call.Fun != lit {
				return false
			}
		}
		if match(m) {
			found = true
		}
		return !found
	})
	return found
}
