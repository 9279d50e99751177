package orphancases

import "sync"

// A field channel nothing sends on or closes, read through a receive-only getter.
type stopper struct {
	quiesce chan struct{}
}

func newStopper() *stopper { return &stopper{quiesce: make(chan struct{})} }

func (s *stopper) shouldQuiesce() <-chan struct{} {
	if s == nil {
		return nil
	}
	return s.quiesce
}

func process(s *stopper) {
	<-s.shouldQuiesce() // want `O: this receive from stopper.quiesce blocks forever`
}

func direct(s *stopper) {
	select {
	case <-s.quiesce: // want `O: this receive from stopper.quiesce blocks forever`
	}
}

// A Cond nothing signals.
type plugin struct {
	activate *sync.Cond
	ready    bool
}

func newPlugin() *plugin { return &plugin{activate: sync.NewCond(&sync.Mutex{})} }

func (p *plugin) waitActive() {
	p.activate.L.Lock()
	for !p.ready {
		p.activate.Wait() // want `O: plugin.activate.Wait blocks forever`
	}
	p.activate.L.Unlock()
}

// A WaitGroup added to and never Done.
type tasks struct {
	drain sync.WaitGroup
}

func (t *tasks) start() { t.drain.Add(1) }

func (t *tasks) stop() {
	t.drain.Wait() // want `O: tasks.drain.Wait blocks forever once Add has run`
}

func localGroup(f func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go f()
	wg.Wait() // want `O: this Wait blocks forever once Add has run`
}

// A local channel handed to a function that never touches it.
func watcher(done chan bool) {}

func dial() {
	done := make(chan bool)
	go watcher(done)
	<-done // want `O: this receive blocks forever: nothing sends on or closes the channel`
}

// Negative cases.

// Closed somewhere.
type closer struct {
	done chan struct{}
}

func newCloser() *closer { return &closer{done: make(chan struct{})} }

func (c *closer) wait()  { <-c.done }
func (c *closer) close() { close(c.done) }

// Exported: other packages may send.
type Exported struct {
	Ch chan int
}

func (e *Exported) Wait() { <-e.Ch }

// Set from outside.
type injected struct {
	ch chan int
}

func newInjected(ch chan int) *injected { return &injected{ch: ch} }

func (i *injected) wait() { <-i.ch }

// Returned as a bidirectional channel: the caller may send.
type leaky struct {
	ch chan int
}

func newLeaky() *leaky       { return &leaky{ch: make(chan int)} }
func (l *leaky) C() chan int { return l.ch }
func (l *leaky) wait() int   { return <-l.ch }

// Signalled.
type signalled struct {
	cond *sync.Cond
	ok   bool
}

func newSignalled() *signalled { return &signalled{cond: sync.NewCond(&sync.Mutex{})} }

func (s *signalled) wait() {
	s.cond.L.Lock()
	for !s.ok {
		s.cond.Wait()
	}
	s.cond.L.Unlock()
}

func (s *signalled) set() {
	s.cond.L.Lock()
	s.ok = true
	s.cond.L.Unlock()
	s.cond.Broadcast()
}

// Done in the goroutine.
func group(f func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f()
	}()
	wg.Wait()
}

// A WaitGroup passed on: the callee may call Done.
func passed(f func(*sync.WaitGroup)) {
	var wg sync.WaitGroup
	wg.Add(1)
	go f(&wg)
	wg.Wait()
}

// A local channel the callee closes.
func closes(done chan bool) { close(done) }

func handed() {
	done := make(chan bool)
	go closes(done)
	<-done
}

// A local channel a goroutine sends on.
func sent() int {
	ch := make(chan int)
	go func() { ch <- 1 }()
	return <-ch
}

// A local channel handed to another package.
func external(f func(chan bool)) {
	done := make(chan bool)
	go f(done)
	<-done
}

func ignored() {
	done := make(chan bool)
	<-done //leakvet:ignore parks the goroutine on purpose
}

// Sent on through a copy of the struct.
type copied struct {
	ch chan int
}

func newCopied() *copied { return &copied{ch: make(chan int)} }

func (c *copied) wait() int { return <-c.ch }

func (c *copied) value() copied { return *c }

func (c *copied) send() { c.value().ch <- 1 }
