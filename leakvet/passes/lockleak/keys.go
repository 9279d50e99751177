package lockleak

import (
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ssa"
)

// A lockKey names one lock inside one function: an SSA root value and the field path from it,
// so r.client.mu is {r, ".client*.mu"}. Two loads of the same field path share a key; a root
// defined again (a loop iteration, a new local) ends the keys built on it.
type lockKey struct {
	root ssa.Value
	path string
	read bool // the read side of a sync.RWMutex
}

// other is the same lock seen from its other side: the write half of a read key and back.
func (k lockKey) other() lockKey { return lockKey{k.root, k.path, !k.read} }

// keyOf follows field selections and loads from v down to the value they start at.
func keyOf(v ssa.Value) (root ssa.Value, path string) {
	switch v := v.(type) {
	case *ssa.FieldAddr:
		r, p := keyOf(v.X)
		return r, p + "." + fieldOf(v).Name()
	case *ssa.Field:
		r, p := keyOf(v.X)
		return r, p + "." + fieldVar(v.X.Type(), v.Field).Name()
	case *ssa.UnOp:
		if v.Op == token.MUL {
			r, p := keyOf(v.X)
			return r, p + "*"
		}
	}
	return v, ""
}

// lastField is the struct field a lock value is selected by, or nil for a plain variable.
func lastField(v ssa.Value) *types.Var {
	switch v := v.(type) {
	case *ssa.FieldAddr:
		return fieldOf(v)
	case *ssa.Field:
		return fieldVar(v.X.Type(), v.Field)
	}
	return nil
}

func fieldOf(fa *ssa.FieldAddr) *types.Var {
	ptr, ok := fa.X.Type().Underlying().(*types.Pointer)
	if !ok {
		return types.NewVar(token.NoPos, nil, "?", types.Typ[types.Invalid])
	}
	return fieldVar(ptr.Elem(), fa.Field)
}

func fieldVar(t types.Type, i int) *types.Var {
	if st, ok := t.Underlying().(*types.Struct); ok && i < st.NumFields() {
		return st.Field(i).Origin()
	}
	return types.NewVar(token.NoPos, nil, "?", types.Typ[types.Invalid])
}

// lockOp is what a call does to a sync lock.
type lockOp int

const (
	opNone lockOp = iota
	opLock
	opUnlock
	opTry
)

// syncLockOp recognizes the Lock family of sync.Mutex and sync.RWMutex in a static call.
func syncLockOp(c *ssa.CallCommon) (op lockOp, read bool, recv ssa.Value) {
	fn := c.StaticCallee()
	if fn == nil || len(c.Args) == 0 {
		return opNone, false, nil
	}
	obj, ok := fn.Object().(*types.Func)
	if !ok || obj.Pkg() == nil || obj.Pkg().Path() != "sync" {
		return opNone, false, nil
	}
	recvType := obj.Signature().Recv()
	if recvType == nil {
		return opNone, false, nil
	}
	ptr, ok := recvType.Type().(*types.Pointer)
	if !ok {
		return opNone, false, nil
	}
	named, ok := ptr.Elem().(*types.Named)
	if !ok || (named.Obj().Name() != "Mutex" && named.Obj().Name() != "RWMutex") {
		return opNone, false, nil
	}
	switch obj.Name() {
	case "Lock":
		return opLock, false, c.Args[0]
	case "Unlock":
		return opUnlock, false, c.Args[0]
	case "RLock":
		return opLock, true, c.Args[0]
	case "RUnlock":
		return opUnlock, true, c.Args[0]
	case "TryLock":
		return opTry, false, c.Args[0]
	case "TryRLock":
		return opTry, true, c.Args[0]
	}
	return opNone, false, nil
}

// syncMethod reports whether c calls method name of sync type typ.
func syncMethod(c *ssa.CallCommon, typ, name string) (recv ssa.Value, ok bool) {
	fn := c.StaticCallee()
	if fn == nil || len(c.Args) == 0 {
		return nil, false
	}
	obj, isFunc := fn.Object().(*types.Func)
	if !isFunc || obj.Pkg() == nil || obj.Pkg().Path() != "sync" || obj.Name() != name {
		return nil, false
	}
	r := obj.Signature().Recv()
	if r == nil {
		return nil, false
	}
	ptr, isPtr := r.Type().(*types.Pointer)
	if !isPtr {
		return nil, false
	}
	named, isNamed := ptr.Elem().(*types.Named)
	if !isNamed || named.Obj().Name() != typ {
		return nil, false
	}
	return c.Args[0], true
}
