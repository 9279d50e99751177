package chans

import (
	"context"
	"errors"
	"sync"
	"time"
)

// A: early return leaves the sender blocked.
func earlyReturn(err error) {
	ch := make(chan int)
	go func() {
		ch <- 1 // want `the goroutine started at line 13 blocks forever sending on ch`
	}()
	if err != nil {
		return
	}
	<-ch
}

// A: a timeout case leaves the sender blocked.
func timeout(ctx context.Context) {
	ch := make(chan int)
	go func() { ch <- 1 }() // want `blocks forever sending on ch: the function can return at line 30 without receiving`
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// No A: the buffer holds the one send.
func timeoutBuffered(ctx context.Context) {
	ch := make(chan int, 1)
	go func() { ch <- 1 }()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// No A: the timeout path drains.
func timeoutDrained(ctx context.Context) {
	ch := make(chan int)
	go func() { ch <- 1 }()
	select {
	case <-ch:
	case <-ctx.Done():
		<-ch
	}
}

// No A: the sender watches ctx.
func guardedSender(ctx context.Context) error {
	errc := make(chan error)
	go func() {
		select {
		case errc <- errors.New("x"):
		case <-ctx.Done():
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(time.Second):
		return nil
	}
}

// No A: a panic is no return.
func panics(err error) {
	ch := make(chan int)
	go func() { ch <- 1 }()
	if err != nil {
		panic(err)
	}
	<-ch
}

// N: one receive for many senders.
func nCast(items []int) int {
	ch := make(chan int)
	for _, it := range items {
		go func() { ch <- it }() // want `each goroutine started in the loop at line 84 sends on ch, but the function receives from it only 1 time`
	}
	return <-ch
}

// No N: one receive per goroutine.
func nCastAll(items []int) (sum int) {
	ch := make(chan int)
	for _, it := range items {
		go func() { ch <- it }()
	}
	for range items {
		sum += <-ch
	}
	return sum
}

// No N: the buffer is sized to the work.
func nCastSized(items []int) int {
	ch := make(chan int, len(items))
	for _, it := range items {
		go func() { ch <- it }()
	}
	return <-ch
}

// R: nothing closes the ranged channel.
func noCloseRange(list []int) {
	ch := make(chan int)
	go func() {
		for v := range ch { // want `the goroutine started at line 113 ranges over ch, which nothing closes`
			_ = v
		}
	}()
	for _, v := range list {
		ch <- v
	}
}

// No R: the sender closes it.
func closedRange(list []int) {
	ch := make(chan int)
	go func() {
		for v := range ch {
			_ = v
		}
	}()
	for _, v := range list {
		ch <- v
	}
	close(ch)
}

// R: returning from the receive loop while the producer streams.
func consumerQuits(ctx context.Context) int {
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i := 0; i < 10; i++ {
			ch <- i
		}
	}()
	for v := range ch {
		if v > 3 {
			return v // want `leaving the loop that receives from ch here leaves the goroutine started at line 140 blocked`
		}
	}
	return 0
}

// No R: the producer selects on done, which the consumer closes.
func consumerQuitsSafely() int {
	ch := make(chan int)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(ch)
		for i := 0; i < 10; i++ {
			select {
			case ch <- i:
			case <-done:
				return
			}
		}
	}()
	for v := range ch {
		if v > 3 {
			return v
		}
	}
	return 0
}

// Z: nothing sends or closes.
func waitOnNothing() {
	ch := make(chan struct{})
	<-ch // want `receive from ch blocks forever: nothing sends on it or closes it`
}

// Z: a nil channel.
func nilChan() {
	var ch chan int
	ch <- 1 // want `ch is a nil channel that nothing assigns`
}

// No Z: a goroutine closes it.
func waitOnClose() {
	ch := make(chan struct{})
	go func() { close(ch) }()
	<-ch
}

// D: the error path sends twice.
func doubleSend(ch chan error, err error) {
	if err != nil {
		ch <- err
	}
	ch <- nil // want `when the if at line 198 sends on ch, this second send runs too`
}

// No D: the error path returns.
func singleSend(ch chan error, err error) {
	if err != nil {
		ch <- err
		return
	}
	ch <- nil
}

// W: Wait in the spawning loop.
func waitInLoop(items []int) {
	var wg sync.WaitGroup
	wg.Add(len(items))
	for range items {
		go func() { defer wg.Done() }()
		wg.Wait() // want `wg.Wait inside the loop that starts the goroutines`
	}
}

// No W: Add per batch in the loop.
func waitPerBatch(batches [][]int) {
	var wg sync.WaitGroup
	wg.Add(0)
	for _, b := range batches {
		wg.Add(len(b))
		for range b {
			go func() { defer wg.Done() }()
		}
		wg.Wait()
	}
}

type stopper struct {
	stop   chan struct{}
	events chan int
	mu     sync.Mutex
	cond   *sync.Cond
	ready  bool
}

// B: poll stop, then block on events.
func (s *stopper) pollThenSend() {
	for {
		select {
		case <-s.stop:
			return
		default:
			s.events <- 1 // want `the send on s.events blocks without watching s.stop`
		}
	}
}

// No B: the send watches stop.
func (s *stopper) watchWhileSending() {
	for {
		select {
		case <-s.stop:
			return
		case s.events <- 1:
		}
	}
}

// B: poll, then Cond.Wait that nothing wakes on stop.
func (s *stopper) pollThenWait(stopCh <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.ready {
		select {
		case <-stopCh:
			return
		default:
		}
		s.cond.Wait() // want `s.cond.Wait blocks without watching stopCh`
	}
}

// No B: whoever closes stop also wakes the waiters.
func (s *stopper) pollThenWaitWoken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.ready {
		select {
		case <-s.stop:
			return
		default:
		}
		s.cond.Wait()
	}
}

func (s *stopper) Close() {
	s.mu.Lock()
	close(s.stop)
	s.cond.Broadcast()
	s.mu.Unlock()
}

// The directive silences a report it sits above, given a reason.
func ignored() {
	ch := make(chan struct{})
	//leakvet:ignore blocks until the process exits, on purpose
	<-ch
}

// Without a reason, it does not.
func ignoredNoReason() {
	ch := make(chan struct{})
	//leakvet:ignore
	<-ch // want `needs a reason`
}

// No report: the channel escapes to unknown code.
func escapes(register func(chan int)) {
	ch := make(chan int)
	register(ch)
	go func() { ch <- 1 }()
}

// A through a same-package callee: send in a goroutine started with go f(ch).
func produce(ch chan<- int) { ch <- 1 }

func viaCallee(err error) {
	ch := make(chan int)
	go produce(ch) // want `the goroutine started at line 328 blocks forever sending on ch`
	if err != nil {
		return
	}
	<-ch
}
