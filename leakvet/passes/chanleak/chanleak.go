// Package chanleak defines an Analyzer that finds goroutines left blocked forever on a channel
// operation: a sender whose receiver has gone, a range over a channel nobody closes, a wait that
// can never be woken.
//
// Each diagnostic carries a one-letter category naming its check:
//
//	A  abandoned sender: a goroutine sends on a local channel, and some path of the function
//	   that made it returns without receiving (early return, a select case for a timeout or
//	   ctx.Done). Fix: make(chan T, 1), so the send completes with nobody waiting.
//	N  n senders, fewer receives: goroutines started in a loop each send on an unbuffered
//	   channel that the function receives from only once.
//	R  range hazards: a range over a local channel that nothing closes, or a return or break
//	   out of a loop receiving from a channel whose senders go on sending.
//	Z  wait on nothing: a receive from a local channel that nothing sends on or closes, or an
//	   operation on a nil channel.
//	D  double send: an if sends on a channel parameter and does not return, so a second send
//	   follows that the receiver does not take.
//	W  wg.Wait inside the loop that starts the goroutines, after wg.Add counted all of them.
//	B  poll then block: a select with default polls done, then a bare channel operation or
//	   Cond.Wait blocks without watching done.
//	C  unguarded (opt-in with -unguarded): a function that selects on ctx.Done or done also
//	   sends on a channel that it does not own without a select.
//
// A //leakvet:ignore comment with a reason, on the line or the line above, silences one.
package chanleak

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"sort"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/leaksafe/leaksafe/leakvet/internal/flow"
	"github.com/leaksafe/leaksafe/leakvet/internal/ignore"
	"github.com/leaksafe/leaksafe/leakvet/internal/syntax"
)

// Analyzer reports goroutines that block forever on a channel operation.
var Analyzer = &analysis.Analyzer{
	Name:     "chanleak",
	Doc:      "report goroutines that block forever on a channel send, receive or wait",
	URL:      "https://pkg.go.dev/github.com/leaksafe/leaksafe/leakvet/passes/chanleak",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

var unguarded bool

func init() {
	Analyzer.Flags.BoolVar(&unguarded, "unguarded", false,
		"also report bare sends on channels the function does not own in functions "+
			"that select on done (check C; may report correct request/response code)")
}

type checker struct {
	pass *analysis.Pass
	rep  *ignore.Reporter
	sums *summaries
	// wakers holds, for each pair of a channel and a sync.Cond (by the object of the
	// field or variable that names them), whether a function closes the one and wakes the other.
	wakers map[[2]types.Object]bool
}

func run(pass *analysis.Pass) (any, error) {
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	c := &checker{
		pass: pass,
		rep:  ignore.New(pass),
		sums: &summaries{
			info:  pass.TypesInfo,
			decls: make(map[*types.Func]*ast.FuncDecl),
			memo:  make(map[*types.Var]*summary),
		},
	}
	generated := make(map[*token.File]bool)
	for _, f := range pass.Files {
		if ast.IsGenerated(f) {
			generated[pass.Fset.File(f.FileStart)] = true
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				if fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func); ok {
					c.sums.decls[fn] = fd
				}
			}
		}
	}
	insp.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(n ast.Node) {
		if generated[pass.Fset.File(n.Pos())] {
			return
		}
		typ, body := syntax.Func(n)
		if body == nil {
			return
		}
		c.chans(body)
		c.doubleSend(typ, body)
		c.waitInLoop(body)
		c.pollThenBlock(body)
		if unguarded {
			c.unguardedSend(body)
		}
	})
	return nil, nil
}

func (c *checker) report(cat string, pos token.Pos, end token.Pos, format string, args ...any) {
	c.rep.Report(analysis.Diagnostic{
		Pos: pos, End: end, Category: cat, Message: fmt.Sprintf(format, args...),
	})
}

func (c *checker) line(pos token.Pos) int { return c.pass.Fset.Position(pos).Line }

// chans runs the checks on the local channels of one function body: A, N, R and Z.
func (c *checker) chans(body *ast.BlockStmt) {
	cands := candidates(c.pass.TypesInfo, body)
	if len(cands) == 0 {
		return
	}
	collect(c.pass.TypesInfo, body, cands)
	list := make([]*chanVar, 0, len(cands))
	for _, cv := range cands {
		list = append(list, cv)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].def.Pos() < list[j].def.Pos() })
	var g *flow.Graph
	graph := func() *flow.Graph {
		if g == nil {
			g = flow.New(body, c.pass.TypesInfo)
		}
		return g
	}
	for _, cv := range list {
		c.sums.expand(cv)
		if cv.escapes {
			continue
		}
		c.chanVar(body, cv, graph)
	}
}

func (c *checker) chanVar(body *ast.BlockStmt, cv *chanVar, graph func() *flow.Graph) {
	name := cv.v.Name()
	var sends, recvs, closes []use
	for _, u := range cv.uses {
		switch u.kind {
		case opSend:
			sends = append(sends, u)
		case opRecv, opRange:
			recvs = append(recvs, u)
		case opClose:
			closes = append(closes, u)
		}
	}
	if cv.make == nil {
		// Z: a nil channel blocks every send and receive forever.
		for _, u := range cv.uses {
			if (u.kind == opSend || u.kind == opRecv || u.kind == opRange) && u.bare {
				c.report("Z", u.id.Pos(), u.id.End(),
					"%s is a nil channel that nothing assigns: this operation blocks forever; "+
						"make it with make(chan T), or remove the operation", name)
				return
			}
		}
		return
	}
	if len(closes) == 0 {
		// R: nothing ends the range.
		for _, u := range recvs {
			if u.kind != opRange {
				continue
			}
			who := "the function"
			if u.where == inGo {
				who = fmt.Sprintf("the goroutine started at line %d", c.line(u.goStmt.Pos()))
			}
			c.report("R", u.id.Pos(), u.id.End(),
				"%s ranges over %s, which nothing closes: it blocks forever after the last "+
					"value; close(%s) once the last send is done", who, name, name)
			return
		}
	}
	if len(sends) == 0 && len(closes) == 0 {
		// Z: nothing will ever wake the receive.
		for _, u := range recvs {
			if u.bare {
				c.report("Z", u.id.Pos(), u.id.End(),
					"receive from %s blocks forever: nothing sends on it or closes it; "+
						"close it when the awaited work is done", name)
				return
			}
		}
	}
	c.abandoned(body, cv, sends, recvs, graph)
}

// producer is a goroutine that sends on a channel without a select.
type producer struct {
	goStmt *ast.GoStmt
	sends  []use
	many   bool // sends an unbounded number of times: in a loop, or started in a loop
}

// abandoned runs A, N and the early-exit part of R: goroutines that send on cv while the
// function that made it stops receiving.
func (c *checker) abandoned(body *ast.BlockStmt, cv *chanVar, sends, recvs []use,
	graph func() *flow.Graph) {
	if cv.cap < 0 {
		return
	}
	for _, u := range recvs {
		if u.where != inCreator {
			return
		}
	}
	var prods []*producer
	byGo := make(map[*ast.GoStmt]*producer)
	for _, u := range sends {
		if !u.bare {
			continue
		}
		if u.where != inGo || u.nested {
			return
		}
		p := byGo[u.goStmt]
		if p == nil {
			// A goroutine started in a loop that also makes the channel sends on a new
			// channel each time round.
			p = &producer{goStmt: u.goStmt, many: u.goLoop != nil && !encloses(u.goLoop, cv.def)}
			if p.many && cv.cap > 0 && !u.loop {
				return // a buffer for a known number of goroutines, likely as many as it holds
			}
			byGo[u.goStmt] = p
			prods = append(prods, p)
		}
		p.sends = append(p.sends, u)
		if u.loop {
			p.many = true
		}
	}
	bound, many := 0, false
	for _, p := range prods {
		many = many || p.many
		if !p.many {
			bound += c.sendsPerRun(p)
		}
	}
	if len(prods) == 0 || (!many && bound <= cv.cap) {
		return
	}
	recvIDs := make(map[*ast.Ident]bool)
	for _, u := range recvs {
		recvIDs[u.id] = true
	}
	stop := func(n ast.Node) bool {
		return flow.Contains(n, func(m ast.Node) bool {
			id, ok := m.(*ast.Ident)
			return ok && recvIDs[id]
		})
	}
	name := cv.v.Name()
	for _, p := range prods {
		send := p.sends[0]
		goLine := c.line(p.goStmt.Pos())
		if exit, ok := graph().ExitAfter(p.goStmt, stop); ok && !p.many {
			d := analysis.Diagnostic{
				Pos: send.id.Pos(), End: send.id.End(), Category: "A",
				Message: fmt.Sprintf("the goroutine started at line %d blocks forever sending on "+
					"%s: the function %s without receiving from it; give %s a buffer for every "+
					"send (make(chan T, %d)) so the sends complete with nobody waiting",
					goLine, name, c.exitText(body, exit), name, max(bound, 1)),
			}
			if !many && len(cv.make.Args) == 1 && len(byGo) == len(prods) {
				d.SuggestedFixes = []analysis.SuggestedFix{{
					Message: fmt.Sprintf("make %s buffered", name),
					TextEdits: []analysis.TextEdit{{
						Pos: cv.make.Rparen, End: cv.make.Rparen,
						NewText: fmt.Appendf(nil, ", %d", bound),
					}},
				}}
			}
			c.rep.Report(d)
			continue
		}
		if p.many && !send.loop && cv.cap == 0 {
			once := true
			for _, r := range recvs {
				if r.kind == opRange || r.loop {
					once = false
				}
			}
			if once {
				c.report("N", send.id.Pos(), send.id.End(),
					"each goroutine started in the loop at line %d sends on %s, but the "+
						"function receives from it only %d time(s), at line %d: the other "+
						"senders block forever; receive once per goroutine, or make %s buffered "+
						"with room for every goroutine", goLine, name, len(recvs),
					c.line(recvs[0].id.Pos()), name)
				continue
			}
		}
	}
	if many {
		c.earlyExits(cv, prods[0], recvs, stop, graph)
	}
}

// earlyExits runs the early-exit part of R: a return or break out of a loop that receives
// from cv while its producers go on sending.
func (c *checker) earlyExits(cv *chanVar, p *producer, recvs []use, stop flow.Stop,
	graph func() *flow.Graph) {
	okVars := make(map[types.Object]bool)
	loops := make(map[ast.Stmt]bool)
	var order []ast.Stmt
	for _, u := range recvs {
		if u.okVar != nil {
			okVars[u.okVar] = true
		}
		if u.loopStmt != nil && !loops[u.loopStmt] {
			loops[u.loopStmt] = true
			order = append(order, u.loopStmt)
		}
	}
	name := cv.v.Name()
	for _, loop := range order {
		if encloses(loop, cv.def) {
			continue // a new channel each time round
		}
		var loopBody *ast.BlockStmt
		switch l := loop.(type) {
		case *ast.ForStmt:
			loopBody = l.Body
		case *ast.RangeStmt:
			loopBody = l.Body
		}
		for _, exit := range loopExits(c.pass.TypesInfo, loopBody, okVars) {
			var ok bool
			if _, isRet := exit.(*ast.ReturnStmt); isRet {
				_, ok = graph().ExitAfter(exit, stop)
			} else {
				_, ok = graph().ExitAfterLoop(loop, stop)
			}
			if !ok {
				continue
			}
			c.report("R", exit.Pos(), exit.End(),
				"leaving the loop that receives from %s here leaves the goroutine started at "+
					"line %d blocked forever on its next send; have it select on a done channel "+
					"that is closed here, or drain %s before leaving", name,
				c.line(p.goStmt.Pos()), name)
		}
	}
}

// loopExits returns the return statements in body and the break statements that leave the
// loop whose body it is, except those guarded by a test that the channel is closed.
func loopExits(info *types.Info, body *ast.BlockStmt, okVars map[types.Object]bool) []ast.Stmt {
	var exits []ast.Stmt
	syntax.Walk(body, false, func(n ast.Node, stack []ast.Node) {
		var isExit bool
		switch s := n.(type) {
		case *ast.ReturnStmt:
			isExit = true
		case *ast.BranchStmt:
			if s.Tok == token.BREAK && s.Label == nil {
				isExit = true
				for _, a := range stack[1:] { // stack[0] is body, in the loop itself
					switch a.(type) {
					case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt,
						*ast.SelectStmt:
						isExit = false
					}
				}
			}
		}
		if isExit && !closedGuard(info, stack, okVars) {
			exits = append(exits, n.(ast.Stmt))
		}
	})
	return exits
}

// closedGuard reports whether an if on the stack tests an ok variable of a receive: the exit
// then runs once the channel is closed, when its senders are done.
func closedGuard(info *types.Info, stack []ast.Node, okVars map[types.Object]bool) bool {
	for _, n := range stack {
		ifs, ok := n.(*ast.IfStmt)
		if !ok {
			continue
		}
		found := false
		ast.Inspect(ifs.Cond, func(m ast.Node) bool {
			if id, ok := m.(*ast.Ident); ok && okVars[info.Uses[id]] {
				found = true
			}
			return !found
		})
		if found {
			return true
		}
	}
	return false
}

// encloses reports whether outer's source range holds n.
func encloses(outer, n ast.Node) bool { return outer.Pos() <= n.Pos() && n.Pos() < outer.End() }

// sendsPerRun returns the most sends one run of p's goroutine makes on one path.
func (c *checker) sendsPerRun(p *producer) int {
	lit, ok := p.goStmt.Call.Fun.(*ast.FuncLit)
	if !ok {
		return len(p.sends)
	}
	ids := make(map[*ast.Ident]bool)
	for _, u := range p.sends {
		ids[u.id] = true
	}
	g := flow.New(lit.Body, c.pass.TypesInfo)
	return g.MaxCount(func(n ast.Node) bool {
		return flow.Contains(n, func(m ast.Node) bool {
			id, ok := m.(*ast.Ident)
			return ok && ids[id]
		})
	})
}

func (c *checker) exitText(body *ast.BlockStmt, exit ast.Node) string {
	if exit == nil {
		return fmt.Sprintf("can return at line %d", c.line(body.Rbrace))
	}
	return fmt.Sprintf("can return at line %d", c.line(exit.Pos()))
}
