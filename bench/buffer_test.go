package bench

import (
	"iter"
	"testing"

	"github.com/leaksafe/leaksafe"
	"github.com/samber/lo"
)

// batchSize is the batch and buffer size of BenchmarkThroughput.
const batchSize = 64

// chunks yields 0, 1, …, n-1 in slices of up to size values, a new slice each time.
func chunks(n, size int) iter.Seq[[]int] {
	return func(yield func([]int) bool) {
		for i := 0; i < n; i += size {
			c := make([]int, 0, size)
			for j := i; j < min(n, i+size); j++ {
				c = append(c, j)
			}
			if !yield(c) {
				return
			}
		}
	}
}

// bufferedSource sends 0, 1, …, n-1 with bare sends on a channel that holds batchSize values.
func bufferedSource(n int) <-chan int {
	out := make(chan int, batchSize)
	go func() {
		defer close(out)
		for i := range n {
			out <- i
		}
	}()
	return out
}

// consumeBatches sums every value of every slice received from out, until out closes.
func consumeBatches(out <-chan []int) {
	s := 0
	for batch := range out {
		for _, v := range batch {
			s += v
		}
	}
	sink += s
}

// A throughputCase moves n items from one goroutine to the benchmark goroutine.
type throughputCase struct {
	name string
	run  func(n int)
}

// throughputCases are the cases of BenchmarkThroughput; batch_test.go adds Batch's.
var throughputCases = []throughputCase{
	{"unbuffered", func(n int) {
		consume(plainSource(n))
	}},
	{"buffered64", func(n int) {
		consume(bufferedSource(n))
	}},
	{"batched64", func(n int) {
		// The hand-written batched loop: the producer fills a slice and sends it when it is full,
		// with a select on done, as the seed's style would.
		done := make(chan struct{})
		defer close(done)
		out := make(chan []int)
		go func() {
			defer close(out)
			batch := make([]int, 0, batchSize)
			for i := range n {
				batch = append(batch, i)
				if len(batch) == batchSize || i == n-1 {
					select {
					case out <- batch:
					case <-done:
						return
					}
					batch = make([]int, 0, batchSize)
				}
			}
		}()
		consumeBatches(out)
	}},
	{"leaksafe-Buffer64", func(n int) {
		done := make(chan struct{})
		defer close(done)
		src, t1 := leaksafe.FromSeq(done, counter(n))
		out, t2 := leaksafe.Buffer(done, src, batchSize)
		consume(out)
		<-t1
		<-t2
	}},
	{"leaksafe-chunks64", func(n int) {
		// A leaksafe pipeline whose values are slices: FromSeq over chunks, then a Map stage that
		// works on a whole chunk.
		done := make(chan struct{})
		defer close(done)
		src, t1 := leaksafe.FromSeq(done, chunks(n, batchSize))
		out, t2 := leaksafe.Map(done, src, func(c []int) []int { return c })
		consumeBatches(out)
		<-t1
		<-t2
	}},
	{"lo-Buffer64", func(n int) {
		// lo.Buffer reads a channel that holds 64 values, 64 at a time.
		src := bufferedSource(n)
		s := 0
		for {
			batch, _, _, ok := lo.Buffer(src, batchSize)
			for _, v := range batch {
				s += v
			}
			if !ok {
				break
			}
		}
		sink += s
	}},
}

// BenchmarkThroughput moves b.N items from one goroutine to another as fast as it can. The limits
// of a channel handoff come first: impl=unbuffered and impl=buffered64 send each value with a bare
// send, impl=batched64 is the hand-written batched loop. Then the ways to approach them with
// leaksafe and with lo. Batched impls hand over slices of 64 values, one new slice per batch.
func BenchmarkThroughput(b *testing.B) {
	for _, c := range throughputCases {
		b.Run("impl="+c.name, func(b *testing.B) {
			m := startMeter(b)
			c.run(b.N)
			m.stop(b.N)
		})
	}
}
