package bench

import (
	"testing"

	"github.com/leaksafe/leaksafe"
)

// keepAll is Filter's predicate: every item passes, so every stage moves every item.
func keepAll(v int) bool { return v >= 0 }

// A stageCase is one single-goroutine stage written three ways. n is the number of items, which
// Take takes.
type stageCase struct {
	stage    string
	works    []workload
	leaksafe func(done <-chan struct{}, in <-chan int, n int, fn func(int) int) (<-chan int, <-chan struct{})
	seed     func(done <-chan struct{}, in <-chan int, n int, fn func(int) int) <-chan int
	plain    func(in <-chan int, n int, fn func(int) int) <-chan int
}

var stageCases = []stageCase{
	{
		stage: "Map",
		works: workloads,
		leaksafe: func(done <-chan struct{}, in <-chan int, _ int, fn func(int) int) (<-chan int, <-chan struct{}) {
			return leaksafe.Map(done, in, fn)
		},
		seed: func(done <-chan struct{}, in <-chan int, _ int, fn func(int) int) <-chan int {
			return seedMap(done, in, fn)
		},
		plain: func(in <-chan int, _ int, fn func(int) int) <-chan int { return plainMap(in, fn) },
	},
	{
		stage: "Filter",
		works: []workload{noop},
		leaksafe: func(done <-chan struct{}, in <-chan int, _ int, _ func(int) int) (<-chan int, <-chan struct{}) {
			return leaksafe.Filter(done, in, keepAll)
		},
		seed: func(done <-chan struct{}, in <-chan int, _ int, _ func(int) int) <-chan int {
			return seedFilter(done, in, keepAll)
		},
		plain: func(in <-chan int, _ int, _ func(int) int) <-chan int {
			out := make(chan int)
			go func() {
				defer close(out)
				for v := range in {
					if keepAll(v) {
						out <- v
					}
				}
			}()
			return out
		},
	},
	{
		stage: "OrDone",
		works: []workload{noop},
		leaksafe: func(done <-chan struct{}, in <-chan int, _ int, _ func(int) int) (<-chan int, <-chan struct{}) {
			return leaksafe.OrDone(done, in)
		},
		seed: func(done <-chan struct{}, in <-chan int, _ int, _ func(int) int) <-chan int {
			return seedOrDone(done, in)
		},
		plain: func(in <-chan int, _ int, _ func(int) int) <-chan int {
			out := make(chan int)
			go func() {
				defer close(out)
				for v := range in {
					out <- v
				}
			}()
			return out
		},
	},
	{
		stage: "Take",
		works: []workload{noop},
		leaksafe: func(done <-chan struct{}, in <-chan int, n int, _ func(int) int) (<-chan int, <-chan struct{}) {
			return leaksafe.Take(done, in, n)
		},
		seed: func(done <-chan struct{}, in <-chan int, n int, _ func(int) int) <-chan int {
			return seedTake(done, in, n)
		},
		plain: func(in <-chan int, n int, _ func(int) int) <-chan int {
			out := make(chan int)
			go func() {
				defer close(out)
				for range n {
					v, ok := <-in
					if !ok {
						return
					}
					out <- v
				}
			}()
			return out
		},
	},
}

// BenchmarkStage moves b.N items through source → stage → consumer, each pipeline written in one
// style from end to end:
//
//   - leaksafe: FromSeq, the stage, and a for range over its output, then a receive from each
//     terminated;
//   - seed: the book's style, every receive and send a select with done, unbuffered channels;
//   - plain: bare sends and receives and no way to cancel, which is how destel/rill's stages work.
//
// Every pipeline is given a done channel that is open, not nil, as a caller's would be.
func BenchmarkStage(b *testing.B) {
	for _, c := range stageCases {
		for _, w := range c.works {
			b.Run(name("stage", c.stage, "work", w.name, "impl", "seed"), func(b *testing.B) {
				done := make(chan struct{})
				defer close(done)
				m := startMeter(b)
				consume(c.seed(done, seedSource(done, b.N), b.N, w.fn))
				m.stop(b.N)
			})
			b.Run(name("stage", c.stage, "work", w.name, "impl", "leaksafe"), func(b *testing.B) {
				done := make(chan struct{})
				defer close(done)
				m := startMeter(b)
				src, t1 := leaksafe.FromSeq(done, counter(b.N))
				out, t2 := c.leaksafe(done, src, b.N, w.fn)
				consume(out)
				<-t1
				<-t2
				m.stop(b.N)
			})
			b.Run(name("stage", c.stage, "work", w.name, "impl", "plain"), func(b *testing.B) {
				m := startMeter(b)
				consume(c.plain(plainSource(b.N), b.N, w.fn))
				m.stop(b.N)
			})
		}
	}
}
