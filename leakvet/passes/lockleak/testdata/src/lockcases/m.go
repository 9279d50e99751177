package lockcases

import "sync"

type mux struct {
	lock     sync.Mutex
	watchers map[int]*watcher
}

type watcher struct {
	result chan struct{}
}

func (m *mux) distribute() {
	m.lock.Lock()
	defer m.lock.Unlock()
	for _, w := range m.watchers {
		w.result <- struct{}{} // want `M: send on result blocks while holding m.lock .* \(stop\)`
	}
}

func (m *mux) stop(id int) {
	m.lock.Lock()
	defer m.lock.Unlock()
	close(m.watchers[id].result)
	delete(m.watchers, id)
}

func newWatcher() *watcher { return &watcher{result: make(chan struct{})} }

// The consumer takes the lock between receives, through a call.
type status struct {
	mu sync.RWMutex
	ch chan bool
}

func newStatus() *status { return &status{ch: make(chan bool)} }

func (s *status) set() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ch <- true // want `M: send on ch blocks while holding s.mu`
}

func (s *status) loop() {
	for {
		<-s.ch
		s.remove()
	}
}

func (s *status) remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
}

// Waiting for goroutines that need the lock.
type stopper struct {
	mu    sync.Mutex
	tasks sync.WaitGroup
	n     int
}

func (s *stopper) run(f func()) {
	s.tasks.Add(1)
	go func() {
		defer s.tasks.Done()
		s.mu.Lock()
		s.n++
		s.mu.Unlock()
		f()
	}()
}

func (s *stopper) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks.Wait() // want `M: Wait on tasks blocks while holding s.mu`
}

// Negative cases.

// A partner that does not need the lock.
type feed struct {
	mu sync.Mutex
	ch chan int
}

func newFeed() *feed { return &feed{ch: make(chan int)} }

func (f *feed) push(v int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ch <- v
}

func (f *feed) pull() int { return <-f.ch }

// A buffered channel.
type buffered struct {
	mu sync.Mutex
	ch chan int
}

func newBuffered() *buffered { return &buffered{ch: make(chan int, 1)} }

func (b *buffered) push(v int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ch <- v
}

func (b *buffered) pull() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return <-b.ch
}

// A channel that leaves the package's sight.
type escaping struct {
	mu sync.Mutex
	ch chan int
}

func newEscaping(ch chan int) *escaping { return &escaping{ch: ch} }

func (e *escaping) push(v int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ch <- v
}

func (e *escaping) drain() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for range e.ch {
	}
}

// The blocking side selects, so it does not hold the lock forever.
type polled struct {
	mu   sync.Mutex
	ch   chan int
	done chan struct{}
}

func newPolled() *polled { return &polled{ch: make(chan int), done: make(chan struct{})} }

func (p *polled) push(v int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case p.ch <- v:
	case <-p.done:
	}
}

func (p *polled) pull() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return <-p.ch // want `M: receive from ch blocks while holding p.mu`
}
