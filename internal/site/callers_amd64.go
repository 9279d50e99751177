package site

import "unsafe"

// framePointer returns the frame pointer of its caller, which must not be inlined.
func framePointer() unsafe.Pointer

// callers fills pcs with the return addresses of the calls that led to its caller, the caller's
// caller first, and returns how many it found, as runtime.Callers(2, pcs) does, without expanding
// inlined calls (runtime.CallersFrames does that). It follows the frame pointers, which amd64
// keeps for every Go function, instead of unwinding with the tables of runtime.Callers: a few
// loads per frame. It calls no function while it walks, so the stack does not move under it.
//
//go:noinline
func callers(pcs []uintptr) int {
	// [fp] is the frame pointer of the function that fp's function returns to, [fp+8] where.
	fp := framePointer()        // the frame of callers
	fp = *(*unsafe.Pointer)(fp) // the frame of its caller
	n := 0
	for n < len(pcs) && fp != nil {
		pc := *(*uintptr)(unsafe.Add(fp, unsafe.Sizeof(uintptr(0))))
		if pc == 0 {
			break
		}
		pcs[n] = pc
		n++
		fp = *(*unsafe.Pointer)(fp)
	}
	return n
}
