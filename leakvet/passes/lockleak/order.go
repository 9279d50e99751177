package lockleak

import (
	"fmt"
	"go/token"
	"go/types"
	"sort"

	"golang.org/x/tools/go/ssa"
)

// An orderEdge is one place where a function takes lock field `taken` while holding `held`.
type orderEdge struct {
	pos   token.Pos // the Lock, or the call that leads to it
	held  *ssa.CallCommon
	taken token.Pos // the Lock of the taken lock, maybe in a callee
	via   string    // the callee, or ""
}

type fieldPair [2]*types.Var

// propagateLocks computes, for every function, the lock fields it or its callees take.
func (c *checker) propagateLocks() {
	c.allLocks = map[*ssa.Function]map[*types.Var]token.Pos{}
	for fn, sum := range c.sums {
		m := map[*types.Var]token.Pos{}
		for f, pos := range sum.lockAt {
			m[f] = pos
		}
		c.allLocks[fn] = m
	}
	for round := 0; round < 8; round++ {
		changed := false
		for fn, sum := range c.sums {
			mine := c.allLocks[fn]
			for _, rec := range sum.calls {
				for f, pos := range c.allLocks[rec.callee] {
					if _, ok := mine[f]; !ok {
						mine[f] = pos
						changed = true
					}
				}
			}
		}
		if !changed {
			return
		}
	}
}

// heldFields are the lock fields st holds on every path, with the Lock that took each.
func heldFields(st *state) map[*types.Var]*ssa.CallCommon {
	held := map[*types.Var]*ssa.CallCommon{}
	for k, b := range st.held {
		if !mustHold(b) || st.site[k] == nil {
			continue
		}
		if f := lastField(st.site[k].Args[0]); f != nil {
			held[f] = st.site[k]
		}
	}
	return held
}

func (c *checker) edge(held, taken *types.Var, e orderEdge) {
	if held == taken {
		return // the same field: L1 or L3, or another instance of the same type
	}
	p := fieldPair{held, taken}
	if _, ok := c.order[p]; !ok {
		c.order[p] = e
	}
}

// edgesAtLock records the order of a direct Lock under held locks.
func (c *checker) edgesAtLock(st *state, call *ssa.CallCommon) {
	taken := lastField(call.Args[0])
	if taken == nil {
		return
	}
	for f, site := range heldFields(st) {
		c.edge(f, taken, orderEdge{pos: call.Pos(), held: site, taken: call.Pos()})
	}
}

// edgesAtCall records the order of the locks a callee takes under held locks.
func (c *checker) edgesAtCall(st *state, callee *ssa.Function, call *ssa.CallCommon) {
	held := heldFields(st)
	if len(held) == 0 {
		return
	}
	for taken, pos := range c.allLocks[callee] {
		for f, site := range held {
			c.edge(f, taken, orderEdge{pos: call.Pos(), held: site, taken: pos,
				via: callee.Name()})
		}
	}
}

// reportOrder reports L2: two places that take the same two locks in opposite orders.
func (c *checker) reportOrder() {
	var pairs []fieldPair
	for p := range c.order {
		pairs = append(pairs, p)
	}
	sort.Slice(pairs, func(i, j int) bool { return c.order[pairs[i]].pos < c.order[pairs[j]].pos })
	done := map[fieldPair]bool{}
	for _, p := range pairs {
		q := fieldPair{p[1], p[0]}
		back, ok := c.order[q]
		if !ok || done[p] {
			continue
		}
		done[p], done[q] = true, true
		e := c.order[p]
		how := "takes"
		if e.via != "" {
			how = "calls " + e.via + ", which takes"
		}
		c.report(e.pos, "L2", fmt.Sprintf(
			"lock order: this holds %s%s and %s %s (at %s), while %s holds %s and takes %s: "+
				"two goroutines doing both wait on each other forever; take the two locks "+
				"in one order everywhere",
			c.lockName(e.held), c.since(e.held, e.pos), how, c.fieldName(p[1]),
			c.line(e.taken, e.pos), c.line(back.pos, e.pos), c.fieldName(p[1]),
			c.fieldName(p[0])), nil)
	}
}

// fieldName is Type.field for a lock field.
func (c *checker) fieldName(f *types.Var) string {
	if l := c.labels[f]; l != "" {
		return l
	}
	return f.Name()
}

// label names the field fa selects by its struct type: Store.mu, or Store.coalescedMu.Mutex for a
// field of an unnamed struct.
func label(fa *ssa.FieldAddr) string {
	f := fieldOf(fa)
	if ptr, ok := fa.X.Type().Underlying().(*types.Pointer); ok {
		if n, ok := types.Unalias(ptr.Elem()).(*types.Named); ok {
			return n.Obj().Name() + "." + f.Name()
		}
	}
	if x, ok := fa.X.(*ssa.FieldAddr); ok {
		return label(x) + "." + f.Name()
	}
	return f.Name()
}
