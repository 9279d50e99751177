package noorder

import "sync"

type store struct {
	mu       sync.Mutex
	replicas []*replica
}

type replica struct {
	raftMu sync.Mutex
	store  *store
}

// store.mu, then replica.raftMu through a call.
func (s *store) sendHeartbeats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.replicas {
		r.report()
	}
}

func (r *replica) report() {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()
}

// replica.raftMu, then store.mu two calls down.
func (r *replica) tick() {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()
	r.tickLocked()
}

func (r *replica) tickLocked() { r.coalesce() }

func (r *replica) coalesce() {
	r.store.mu.Lock()
	r.store.mu.Unlock()
}

// Negative: always a then b.
type pair struct {
	a, b sync.Mutex
}

func (p *pair) one() {
	p.a.Lock()
	p.b.Lock()
	p.b.Unlock()
	p.a.Unlock()
}

func (p *pair) two() {
	p.a.Lock()
	defer p.a.Unlock()
	p.inner()
}

func (p *pair) inner() {
	p.b.Lock()
	defer p.b.Unlock()
}

// Negative: b released before a is taken.
func (p *pair) apart() {
	p.b.Lock()
	p.b.Unlock()
	p.a.Lock()
	p.a.Unlock()
}
