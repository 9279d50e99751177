package lockcases

import "sync"

type logger struct {
	mu sync.Mutex
	rw sync.RWMutex
}

func (l *logger) output(fail bool) {
	l.mu.Lock()
	if fail {
		l.exit() // want `L3: l.mu is held here \(locked at line 11\) and exit locks it again`
	}
	l.mu.Unlock()
}

func (l *logger) exit() {
	l.mu.Lock()
	defer l.mu.Unlock()
}

// Two levels down.
func (l *logger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sync() // want `L3: l.mu is held here .* and sync locks it again`
}

func (l *logger) sync() { l.exit() }

// Recursive read locking.
func (l *logger) lookup() string {
	l.rw.RLock()
	defer l.rw.RUnlock()
	return l.String() // want `L3: l.rw is held here .* recursive RLock`
}

func (l *logger) String() string {
	l.rw.RLock()
	defer l.rw.RUnlock()
	return ""
}

// Lock under RLock.
func (l *logger) upgrade() {
	l.rw.RLock()
	defer l.rw.RUnlock()
	l.set() // want `L3: l.rw is held here .* Lock waits for this goroutine's own RLock`
}

func (l *logger) set() {
	l.rw.Lock()
	l.rw.Unlock()
}

// Negative cases.

// Another instance of the same type.
func (l *logger) other(o *logger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o.exit()
}

// The callee locks only on some paths.
func (l *logger) sometimes(b bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybeExit(b)
}

func (l *logger) maybeExit(b bool) {
	if b {
		l.mu.Lock()
		l.mu.Unlock()
	}
}

// Released before the call.
func (l *logger) released() {
	l.mu.Lock()
	l.mu.Unlock()
	l.exit()
}

// A goroutine, not a call.
func (l *logger) async() {
	l.mu.Lock()
	defer l.mu.Unlock()
	go l.exit()
}

// The callee releases first.
func (l *logger) handoff() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.relock()
}

func (l *logger) relock() {
	l.mu.Unlock()
	l.mu.Lock()
}
