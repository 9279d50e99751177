package leaksafe_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leaksafe/leaksafe"
)

// The two seed programs, doWork and newRandStream, written with leaksafe. doWork runs on a nil input
// until it is cancelled; newRandStream is read three times, then stopped and waited for instead of
// slept on.
func Example() {
	// doWork: a worker with nothing to read runs until its owner closes done.
	done := make(chan struct{})
	terminated := leaksafe.DoWork(done, nil, func(s string) { fmt.Println(s) })
	time.AfterFunc(10*time.Millisecond, func() {
		fmt.Println("Canceling doWork goroutine...")
		close(done)
	})
	<-terminated // the owner waits until the worker has exited
	fmt.Println("doWork exited.")

	// newRandStream: read three values, then stop the generator and wait for it.
	done = make(chan struct{})
	randStream, terminated := leaksafe.NewRandStream(done)
	fmt.Println("3 outputs here")
	for i := range 3 {
		n := <-randStream
		fmt.Printf("%d: a random int, non-negative: %v\n", i, n >= 0)
	}
	close(done)
	<-terminated // no time.Sleep: the generator has exited when this returns
	fmt.Println("newRandStream exited.")
	// Output:
	// Canceling doWork goroutine...
	// doWork exited.
	// 3 outputs here
	// 0: a random int, non-negative: true
	// 1: a random int, non-negative: true
	// 2: a random int, non-negative: true
	// newRandStream exited.
}

// Range consumes a pipeline and lets the loop walk away: break stops the generator, and the loop
// statement completes only after it has exited.
func Example_break() {
	for n := range leaksafe.Range(nil, leaksafe.NewRandStream) {
		if n >= 0 {
			fmt.Println("got one")
			break // the generator is stopped and has exited before this line completes
		}
	}
	// Output: got one
}

// A context works wherever a done channel does: pass ctx.Done().
func Example_context() {
	ctx, cancel := context.WithCancel(context.Background())
	nums, terminated := leaksafe.Repeat(ctx.Done(), 1, 2, 3)
	fmt.Println(<-nums, <-nums, <-nums, <-nums)
	cancel()
	<-terminated // cancelling the context stopped the generator
	// Output: 1 2 3 1
}

func ExampleGenerate() {
	out, terminated := leaksafe.Generate(nil, "a", "b", "c")
	for s := range out { // out closes after the last value
		fmt.Println(s)
	}
	<-terminated
	// Output:
	// a
	// b
	// c
}

func ExampleRepeat() {
	done := make(chan struct{})
	out, terminated := leaksafe.Repeat(done, "tick", "tock")
	for range 3 {
		fmt.Println(<-out)
	}
	close(done) // Repeat never ends by itself
	<-terminated
	// Output:
	// tick
	// tock
	// tick
}

func ExampleRepeatFunc() {
	done := make(chan struct{})
	n := 0
	out, terminated := leaksafe.RepeatFunc(done, func() int { n += 10; return n })
	fmt.Println(<-out, <-out, <-out)
	close(done) // RepeatFunc never ends by itself
	<-terminated
	// Output: 10 20 30
}

func ExampleNewRandStream() {
	done := make(chan struct{})
	out, terminated := leaksafe.NewRandStream(done)
	n := <-out
	close(done) // the stream never ends by itself
	<-terminated
	fmt.Println(n >= 0)
	// Output: true
}

func ExampleFromSeq() {
	out, terminated := leaksafe.FromSeq(nil, slices.Values([]string{"x", "y"}))
	for s := range out {
		fmt.Println(s)
	}
	<-terminated // the iterator returned, so the goroutine ended
	// Output:
	// x
	// y
}

func ExampleOrDone() {
	done := make(chan struct{})
	defer close(done)
	in := make(chan int)
	go func() {
		defer close(in)
		for i := range 3 {
			in <- i
		}
	}()
	out, terminated := leaksafe.OrDone(done, in)
	for v := range out { // a plain range loop, and still stoppable through done
		fmt.Println(v)
	}
	<-terminated
	// Output:
	// 0
	// 1
	// 2
}

func ExampleTake() {
	done := make(chan struct{})
	nums, t1 := leaksafe.Repeat(done, 1, 2, 3)
	first, t2 := leaksafe.Take(done, nums, 5)
	for v := range first {
		fmt.Print(v, " ")
	}
	fmt.Println()
	close(done) // releases Repeat, which Take stopped reading
	<-leaksafe.All(t1, t2)
	// Output: 1 2 3 1 2
}

func ExampleMap() {
	words, t1 := leaksafe.Generate(nil, "go", "chan")
	upper, t2 := leaksafe.Map(nil, words, strings.ToUpper)
	for w := range upper {
		fmt.Println(w)
	}
	<-leaksafe.All(t1, t2) // both stages ended when their input closed
	// Output:
	// GO
	// CHAN
}

func ExampleFilter() {
	nums, t1 := leaksafe.Generate(nil, 1, 2, 3, 4, 5, 6)
	even, t2 := leaksafe.Filter(nil, nums, func(n int) bool { return n%2 == 0 })
	for n := range even {
		fmt.Println(n)
	}
	<-leaksafe.All(t1, t2)
	// Output:
	// 2
	// 4
	// 6
}

func ExampleTee() {
	nums, t1 := leaksafe.Generate(nil, 1, 2, 3)
	a, b, t2 := leaksafe.Tee(nil, nums)
	for range 3 { // read both branches: an unread branch stalls the other
		fmt.Println(<-a, <-b)
	}
	<-leaksafe.All(t1, t2)
	// Output:
	// 1 1
	// 2 2
	// 3 3
}

func ExampleFanIn() {
	a, t1 := leaksafe.Generate(nil, 1, 2)
	b, t2 := leaksafe.Generate(nil, 10, 20)
	all, t3 := leaksafe.FanIn(nil, a, b)
	var got []int
	for v := range all {
		got = append(got, v)
	}
	<-leaksafe.All(t1, t2, t3)
	slices.Sort(got) // FanIn interleaves in no fixed order
	fmt.Println(got)
	// Output: [1 2 10 20]
}

func ExampleBridge() {
	chans := make(chan (<-chan int))
	go func() {
		defer close(chans)
		for i := range 3 {
			inner, _ := leaksafe.Generate(nil, i, i*10) // each ends once drained
			chans <- inner
		}
	}()
	out, terminated := leaksafe.Bridge(nil, chans)
	for v := range out {
		fmt.Print(v, " ")
	}
	fmt.Println()
	<-terminated
	// Output: 0 0 1 10 2 20
}

func ExampleBuffer() {
	nums, t1 := leaksafe.Generate(nil, 1, 2, 3)
	buffered, t2 := leaksafe.Buffer(nil, nums, 3)
	<-t1 // the producer finished without waiting for the consumer
	for v := range buffered {
		fmt.Println(v)
	}
	<-t2
	// Output:
	// 1
	// 2
	// 3
}

func ExampleOr() {
	userStop := make(chan struct{})
	timeout := make(chan struct{})
	either := leaksafe.Or(userStop, timeout)
	close(timeout)
	<-either // closed because one signal closed; Or's goroutine has ended
	fmt.Println("stopped")
	// Output: stopped
}

func ExampleAll() {
	done := make(chan struct{})
	_, t1 := leaksafe.NewRandStream(done)
	_, t2 := leaksafe.Repeat(done, "x")
	close(done)
	<-leaksafe.All(t1, t2) // waits for both generators to exit
	fmt.Println("both exited")
	// Output: both exited
}

func ExampleValues() {
	done := make(chan struct{})
	nums, terminated := leaksafe.Repeat(done, 1, 2, 3)
	sum := 0
	for v := range leaksafe.Values(done, nums) {
		sum += v
		if sum > 10 {
			break // Values does not stop the producer: its owner, this function, does
		}
	}
	close(done)
	<-terminated
	fmt.Println(sum)
	// Output: 12
}

func ExampleSource() {
	var squares leaksafe.Source[int] = func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
		nums, t1 := leaksafe.Repeat(done, 1, 2, 3)
		sq, t2 := leaksafe.Map(done, nums, func(n int) int { return n * n })
		return sq, leaksafe.All(t1, t2)
	}
	for v := range leaksafe.Range(nil, squares) {
		fmt.Println(v)
		if v == 9 {
			break // stops both stages and waits for them
		}
	}
	// Output:
	// 1
	// 4
	// 9
}

func ExampleRange() {
	for n := range leaksafe.Range(nil, func(done <-chan struct{}) (<-chan int, <-chan struct{}) {
		return leaksafe.Repeat(done, 5, 6, 7)
	}) {
		fmt.Println(n)
		if n == 7 {
			break // Repeat is stopped and has exited before the loop statement completes
		}
	}
	// Output:
	// 5
	// 6
	// 7
}

func ExampleDoWork() {
	words, t1 := leaksafe.Generate(nil, "alpha", "beta")
	t2 := leaksafe.DoWork(nil, words, func(s string) { fmt.Println(len(s), s) })
	<-leaksafe.All(t1, t2) // DoWork ends when its input closes
	// Output:
	// 5 alpha
	// 4 beta
}

func ExampleDoWork_cancel() {
	ctx, cancel := context.WithCancel(context.Background())
	seen := make(chan string)
	words, t1 := leaksafe.Repeat(ctx.Done(), "ping")
	t2 := leaksafe.DoWork(ctx.Done(), words, func(s string) {
		select {
		case seen <- s:
		case <-ctx.Done():
		}
	})
	fmt.Println(<-seen, <-seen)
	cancel()               // stops both the generator and the worker
	<-leaksafe.All(t1, t2) // and waits for them
	// Output: ping ping
}

func ExampleBatch() {
	nums, t1 := leaksafe.Generate(nil, 1, 2, 3, 4, 5, 6, 7)
	batches, t2 := leaksafe.Batch(nil, nums, 3, time.Hour)
	for b := range batches { // the last, partial batch is sent when nums closes
		fmt.Println(b)
	}
	<-leaksafe.All(t1, t2)
	// Output:
	// [1 2 3]
	// [4 5 6]
	// [7]
}

func ExampleBatch_maxWait() {
	done := make(chan struct{})
	in := make(chan string, 2)
	in <- "a"
	in <- "b" // and then nothing for a while
	batches, terminated := leaksafe.Batch(done, in, 10, 100*time.Millisecond)
	fmt.Println(<-batches) // not full, but sent 100ms after "a" arrived
	close(done)            // in never closes: done stops the batcher
	<-terminated
	// Output: [a b]
}

func ExampleThrottle() {
	nums, t1 := leaksafe.Generate(nil, 1, 2, 3, 4, 5)
	start := time.Now()
	limited, t2 := leaksafe.Throttle(nil, nums, 20*time.Millisecond, 2)
	var got []int
	for n := range limited { // 1 and 2 at once, then one every 20ms
		got = append(got, n)
	}
	<-leaksafe.All(t1, t2)
	fmt.Println(got)
	fmt.Println("took at least 60ms:", time.Since(start) >= 60*time.Millisecond)
	// Output:
	// [1 2 3 4 5]
	// took at least 60ms: true
}
