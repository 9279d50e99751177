package lockcases

import (
	"errors"
	"sync"
)

type store struct {
	mu     sync.Mutex
	rw     sync.RWMutex
	closed bool
	n      int
}

// Early return with the lock held, while the other path unlocks.
func (s *store) cleanup() error {
	s.mu.Lock()
	if s.n == 0 {
		return nil // want `L1: s.mu \(locked at line 17\) is still held when this path returns`
	}
	s.mu.Unlock()
	return errors.New("busy")
}

// Breaking out of the loop keeps the lock.
func (s *store) spin() {
	for {
		s.mu.Lock()
		if s.closed {
			break
		}
		s.mu.Unlock()
	}
} // want `L1: s.mu \(locked at line 28\) is still held`

// continue skips the Unlock, so the next iteration locks again.
func (s *store) retry() {
	for i := 0; i < 2; i++ {
		s.mu.Lock() // want `L1: s.mu is locked here while this goroutine may still hold it`
		if i == 0 {
			continue
		}
		s.mu.Unlock()
	}
}

// A read lock kept on the error path.
func (s *store) read() error {
	for {
		s.rw.RLock()
		if s.closed {
			return errors.New("closed") // want `L1: s.rw .* RUnlock before returning`
		}
		s.rw.RUnlock()
	}
}

// Locking twice on one path.
func (s *store) twice() {
	s.mu.Lock()
	if s.closed {
		s.mu.Lock() // want `L1: s.mu is locked here while this goroutine may still hold it`
		return
	}
	s.mu.Unlock()
}

// In a closure too.
func (s *store) later() func() {
	return func() {
		s.mu.Lock()
		if s.closed {
			return // want `L1: s.mu`
		}
		s.mu.Unlock()
	}
}

// Negative cases.

func (s *store) deferred() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		return nil
	}
	return errors.New("busy")
}

func (s *store) deferredClosure() {
	s.mu.Lock()
	defer func() { s.mu.Unlock() }()
	if s.closed {
		return
	}
	s.n++
}

func (s *store) unlock() { s.mu.Unlock() }

func (s *store) deferredHelper() {
	s.mu.Lock()
	defer s.unlock()
	if s.closed {
		return
	}
	s.n++
}

func (s *store) helperOnEveryPath() int {
	s.mu.Lock()
	if s.closed {
		s.unlock()
		return 0
	}
	n := s.n
	s.unlock()
	return n
}

// lockIfOpen returns holding s.mu when it returns true; its name says so.
func (s *store) lockIfOpen() bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	return true
}

// acquireOpen is the same helper with another name and the directive.
//
//leakvet:holds
func (s *store) acquireOpen() bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	return true
}

// Only locks: a caller unlocks.
func (s *store) enter() { s.mu.Lock() }

// Releases the caller's lock for a while.
func (s *store) waitUnlocked(f func()) {
	s.mu.Unlock()
	f()
	s.mu.Lock()
}

// Conditional locking correlated with conditional unlocking.
func (s *store) maybe(lock bool) {
	if lock {
		s.mu.Lock()
	}
	s.n++
	if lock {
		s.mu.Unlock()
	}
}

// Hand over hand through a list: each node is another lock.
type node struct {
	mu   sync.Mutex
	next *node
}

func walk(n *node) {
	for n != nil {
		n.mu.Lock()
		next := n.next
		n.mu.Unlock()
		n = next
	}
}

// A captured variable moving to its parent while holding its lock.
func up(n *node, stop func() bool) {
	locked := false
	defer func() {
		if locked {
			n.mu.Unlock()
		}
	}()
	for n.next != nil {
		if locked {
			n.mu.Unlock()
		}
		n = n.next
		locked = true
		n.mu.Lock()
		if stop() {
			return
		}
	}
}

func tryLock(s *store) bool {
	if !s.mu.TryLock() {
		return false
	}
	if s.closed {
		return true
	}
	s.mu.Unlock()
	return false
}

func ignored(s *store) {
	s.mu.Lock()
	if s.closed {
		//leakvet:ignore the caller unlocks after a close
		return
	}
	s.mu.Unlock()
}

// The lock goes to the caller with the function that releases it.
func (s *store) grab() (int, func(), error) {
	s.rw.RLock()
	if s.closed {
		s.rw.RUnlock()
		return 0, nil, errors.New("closed")
	}
	return s.n, s.rw.RUnlock, nil
}

// Another goroutine unlocks: no report for the second Lock.
func handoff(s *store, locked chan<- bool) {
	go func() {
		for i := 0; i < 2; i++ {
			s.mu.Lock()
			locked <- true
		}
	}()
}

type tree struct {
	mu     sync.Mutex
	parent *tree
	empty  bool
}

// Hand over hand up a tree: the loop variable moves to the parent while holding locks.
func (t *tree) prune() {
	i := t
	i.mu.Lock()
	if !i.empty {
		i.mu.Unlock()
		return
	}
	for i.parent != nil && i.empty {
		parent := i.parent
		parent.mu.Lock()
		i.mu.Unlock()
		i = parent
	}
	i.mu.Unlock()
}
