package lockleak

import (
	"maps"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// bits is the set of lock counts, relative to function entry, a key may have at one point:
// released once (a caller's lock), not held, held once, held twice or more.
type bits uint8

const (
	bNeg bits = 1 << iota
	bZero
	bOne
	bMany
)

func up(b bits) bits {
	var r bits
	if b&bNeg != 0 {
		r |= bZero
	}
	if b&bZero != 0 {
		r |= bOne
	}
	if b&(bOne|bMany) != 0 {
		r |= bMany
	}
	return r
}

func down(b bits) bits {
	var r bits
	if b&(bNeg|bZero) != 0 {
		r |= bNeg
	}
	if b&bOne != 0 {
		r |= bZero
	}
	if b&bMany != 0 {
		r |= bOne
	}
	return r
}

// mayHold: held on some path; mustHold: held on every path.
func mayHold(b bits) bool  { return b&(bOne|bMany) != 0 }
func mustHold(b bits) bool { return b != 0 && b&(bNeg|bZero) == 0 }

// state is what one program point knows about the locks the function took or released.
type state struct {
	held     map[lockKey]bits
	deferred map[lockKey]bool            // an Unlock of the key is deferred on some path
	site     map[lockKey]*ssa.CallCommon // the Lock call that took the key
}

func newState() *state {
	return &state{
		held:     map[lockKey]bits{},
		deferred: map[lockKey]bool{},
		site:     map[lockKey]*ssa.CallCommon{},
	}
}

func (s *state) get(k lockKey) bits {
	if b, ok := s.held[k]; ok {
		return b
	}
	return bZero
}

func (s *state) clone() *state {
	return &state{held: maps.Clone(s.held), deferred: maps.Clone(s.deferred),
		site: maps.Clone(s.site)}
}

// join merges o into s and reports whether s changed.
func (s *state) join(o *state) bool {
	changed := false
	keys := map[lockKey]bool{}
	for k := range s.held {
		keys[k] = true
	}
	for k := range o.held {
		keys[k] = true
	}
	for k := range keys {
		n := s.get(k) | o.get(k)
		if n != s.get(k) {
			s.held[k] = n
			changed = true
		}
	}
	for k := range o.deferred {
		if !s.deferred[k] {
			s.deferred[k] = true
			changed = true
		}
	}
	for k, c := range o.site {
		if s.site[k] == nil {
			s.site[k] = c
		}
	}
	return changed
}

// kill forgets the keys built on v: v is being defined again, so they name another object.
// A deferred unlock stays: a deferred closure unlocks whatever the variable names at return.
func (s *state) kill(v ssa.Value) {
	for k := range s.held {
		if k.root == v {
			delete(s.held, k)
			delete(s.site, k)
		}
	}
}

// move renames the keys built on a value that flows into phi to keys built on phi, so a lock
// taken through i stays tracked after i = parent in a loop.
func (s *state) move(phi *ssa.Phi) {
	for k, b := range s.held {
		for _, e := range phi.Edges {
			if k.root != e {
				continue
			}
			n := lockKey{phi, k.path, k.read}
			s.held[n] = s.get(n) | b
			if s.site[n] == nil {
				s.site[n] = s.site[k]
			}
			if s.deferred[k] {
				s.deferred[n] = true
			}
			delete(s.held, k)
			break
		}
	}
}

// killStore forgets the keys that load through addr: a store there makes them name another
// object (c = c.parent on a captured c).
func (s *state) killStore(addr ssa.Value) {
	r, p := keyOf(addr)
	p += "*"
	for k := range s.held {
		if k.root == r && strings.HasPrefix(k.path, p) {
			delete(s.held, k)
			delete(s.site, k)
		}
	}
}

// hooks are called while the transfer function replays a block.
type hooks interface {
	// lock is called before a Lock or RLock of k at call.
	lock(st *state, k lockKey, call *ssa.CallCommon, instr ssa.Instruction)
	// call is called before a call of a function of this package that has a summary.
	call(st *state, callee *ssa.Function, call *ssa.CallCommon, instr ssa.Instruction)
	// other is called for every other instruction, before its effect.
	other(st *state, instr ssa.Instruction)
}

// flow runs the lock dataflow over one function.
type flow struct {
	fn      *ssa.Function
	sums    map[*ssa.Function]*summary // nil in the first round
	skip    map[lockKey]bool           // keys taken with TryLock: a branch we do not follow
	unlocks map[lockKey]bool           // keys the function releases somewhere
	in      map[*ssa.BasicBlock]*state
}

func newFlow(fn *ssa.Function, sums map[*ssa.Function]*summary) *flow {
	f := &flow{fn: fn, sums: sums, skip: map[lockKey]bool{}, unlocks: map[lockKey]bool{},
		in: map[*ssa.BasicBlock]*state{}}
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			var c *ssa.CallCommon
			switch in := instr.(type) {
			case *ssa.Call:
				c = &in.Call
			case *ssa.Defer:
				c = &in.Call
			default:
				continue
			}
			op, read, recv := syncLockOp(c)
			if op == opTry {
				r, p := keyOf(recv)
				f.skip[lockKey{r, p, read}] = true
			}
		}
	}
	return f
}

// solve computes the state at the entry of every reachable block.
func (f *flow) solve() {
	if len(f.fn.Blocks) == 0 {
		return
	}
	f.in[f.fn.Blocks[0]] = newState()
	work := []*ssa.BasicBlock{f.fn.Blocks[0]}
	queued := map[*ssa.BasicBlock]bool{f.fn.Blocks[0]: true}
	for len(work) > 0 {
		b := work[0]
		work = work[1:]
		queued[b] = false
		st := f.in[b].clone()
		for _, instr := range b.Instrs {
			f.step(st, instr, nil)
		}
		for _, s := range b.Succs {
			changed := false
			if f.in[s] == nil {
				f.in[s] = st.clone()
				changed = true
			} else {
				changed = f.in[s].join(st)
			}
			if changed && !queued[s] {
				queued[s] = true
				work = append(work, s)
			}
		}
	}
}

// replay walks every reachable block once more from its solved entry state, calling h.
func (f *flow) replay(h hooks) {
	for _, b := range f.fn.Blocks {
		in := f.in[b]
		if in == nil {
			continue
		}
		st := in.clone()
		for _, instr := range b.Instrs {
			f.step(st, instr, h)
		}
	}
}

func (f *flow) key(recv ssa.Value, read bool) lockKey {
	r, p := keyOf(recv)
	return lockKey{r, p, read}
}

// step applies one instruction to st.
func (f *flow) step(st *state, instr ssa.Instruction, h hooks) {
	if v, ok := instr.(ssa.Value); ok && len(st.held) > 0 {
		st.kill(v)
		if phi, ok := v.(*ssa.Phi); ok {
			st.move(phi)
		}
	}
	if store, ok := instr.(*ssa.Store); ok && len(st.held) > 0 {
		st.killStore(store.Addr)
	}
	switch in := instr.(type) {
	case *ssa.Call:
		op, read, recv := syncLockOp(&in.Call)
		switch op {
		case opLock:
			k := f.key(recv, read)
			if f.skip[k] {
				return
			}
			if h != nil {
				h.lock(st, k, &in.Call, in)
			}
			st.held[k] = up(st.get(k))
			st.site[k] = &in.Call
			return
		case opUnlock:
			k := f.key(recv, read)
			if f.skip[k] {
				return
			}
			f.unlocks[k] = true
			st.held[k] = down(st.get(k))
			return
		case opTry:
			return
		}
		if sum := f.summaryOf(&in.Call); sum != nil {
			if h != nil {
				h.call(st, sum.fn, &in.Call, in)
			}
			for _, pk := range sum.releases {
				if k, ok := mapKey(pk, &in.Call); ok && !f.skip[k] {
					f.unlocks[k] = true
					st.held[k] = down(st.get(k))
				}
			}
			for _, pk := range sum.acquires {
				if k, ok := mapKey(pk, &in.Call); ok && !f.skip[k] {
					st.held[k] = up(st.get(k))
				}
			}
			return
		}
	case *ssa.Defer:
		op, read, recv := syncLockOp(&in.Call)
		if op == opUnlock {
			k := f.key(recv, read)
			f.unlocks[k] = true
			st.deferred[k] = true
			return
		}
		if sum := f.summaryOf(&in.Call); sum != nil {
			for _, pk := range sum.mayRelease {
				if k, ok := mapKey(pk, &in.Call); ok {
					f.unlocks[k] = true
					st.deferred[k] = true
				}
			}
			return
		}
	}
	if h != nil {
		h.other(st, instr)
	}
}

func (f *flow) summaryOf(c *ssa.CallCommon) *summary {
	if f.sums == nil || c.IsInvoke() {
		return nil
	}
	callee := c.StaticCallee()
	if callee == nil {
		return nil
	}
	return f.sums[callee]
}

// A paramKey is a lock key of a callee rooted at one of its parameters or free variables,
// so that a caller can translate it into its own key.
type paramKey struct {
	idx  int
	free bool
	path string
	read bool
}

func toParamKey(fn *ssa.Function, k lockKey) (paramKey, bool) {
	switch r := k.root.(type) {
	case *ssa.Parameter:
		for i, p := range fn.Params {
			if p == r {
				return paramKey{i, false, k.path, k.read}, true
			}
		}
	case *ssa.FreeVar:
		for i, p := range fn.FreeVars {
			if p == r {
				return paramKey{i, true, k.path, k.read}, true
			}
		}
	}
	return paramKey{}, false
}

// mapKey translates a callee's parameter key into the caller's key at call c.
func mapKey(pk paramKey, c *ssa.CallCommon) (lockKey, bool) {
	var arg ssa.Value
	if pk.free {
		mc, ok := c.Value.(*ssa.MakeClosure)
		if !ok || pk.idx >= len(mc.Bindings) {
			return lockKey{}, false
		}
		arg = mc.Bindings[pk.idx]
	} else {
		if pk.idx >= len(c.Args) {
			return lockKey{}, false
		}
		arg = c.Args[pk.idx]
	}
	r, p := keyOf(arg)
	return lockKey{r, p + pk.path, pk.read}, true
}
