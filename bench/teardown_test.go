package bench

import (
	"sync"
	"testing"
	"time"

	"github.com/leaksafe/leaksafe"
)

func inc(v int) int { return v + 1 }

// fiveStages is a 5-stage leaksafe pipeline as a Source: Repeat → Map → Filter → Map → OrDone.
func fiveStages(done <-chan struct{}) (<-chan int, <-chan struct{}) {
	s, t1 := leaksafe.Repeat(done, 1)
	m1, t2 := leaksafe.Map(done, s, inc)
	f, t3 := leaksafe.Filter(done, m1, keepAll)
	m2, t4 := leaksafe.Map(done, f, inc)
	out, t5 := leaksafe.OrDone(done, m2)
	return out, leaksafe.All(t1, t2, t3, t4, t5)
}

// fiveStagesJoinLast is fiveStages joined on its last stage's terminated alone, without All. It is
// not leak-safe (Range returns before the other stages may have ended) and is measured only to show
// what All costs a cycle (impl=leaksafe-join-last).
func fiveStagesJoinLast(done <-chan struct{}) (<-chan int, <-chan struct{}) {
	s, _ := leaksafe.Repeat(done, 1)
	m1, _ := leaksafe.Map(done, s, inc)
	f, _ := leaksafe.Filter(done, m1, keepAll)
	m2, _ := leaksafe.Map(done, f, inc)
	return leaksafe.OrDone(done, m2)
}

// seedFiveStages is the same pipeline in the seed's style, joined by a WaitGroup.
func seedFiveStages(done <-chan struct{}, wg *sync.WaitGroup) <-chan int {
	joined := func(start func() <-chan int) <-chan int {
		wg.Add(1)
		return start()
	}
	s := joined(func() <-chan int {
		out := make(chan int)
		go func() {
			defer wg.Done()
			defer close(out)
			for {
				select {
				case out <- 1:
				case <-done:
					return
				}
			}
		}()
		return out
	})
	stage := func(in <-chan int, fn func(int) int, keep func(int) bool) <-chan int {
		return joined(func() <-chan int {
			out := make(chan int)
			go func() {
				defer wg.Done()
				defer close(out)
				for {
					select {
					case <-done:
						return
					case v, ok := <-in:
						if !ok {
							return
						}
						if !keep(v) {
							continue
						}
						select {
						case out <- fn(v):
						case <-done:
							return
						}
					}
				}
			}()
			return out
		})
	}
	m1 := stage(s, inc, keepAll)
	f := stage(m1, noop.fn, keepAll)
	m2 := stage(f, inc, keepAll)
	return stage(m2, noop.fn, keepAll)
}

// BenchmarkRangeBreak starts a 5-stage pipeline, takes its first value and breaks out of the loop.
// ns/op is the whole cycle; ns/teardown is from the break to the loop's exit, which for leaksafe is
// Range closing its done and waiting for terminated, and for the seed's style close(done) and
// wg.Wait().
func BenchmarkRangeBreak(b *testing.B) {
	b.Run("impl=seed", func(b *testing.B) {
		b.ReportAllocs()
		var teardown time.Duration
		for b.Loop() {
			done := make(chan struct{})
			var wg sync.WaitGroup
			var t0 time.Time
			for v := range seedFiveStages(done, &wg) {
				sink += v
				t0 = time.Now()
				break
			}
			close(done)
			wg.Wait()
			teardown += time.Since(t0)
		}
		b.ReportMetric(float64(teardown.Nanoseconds())/float64(b.N), "ns/teardown")
	})
	for _, impl := range []struct {
		name string
		src  leaksafe.Source[int]
	}{
		{"leaksafe", fiveStages},
		{"leaksafe-join-last", fiveStagesJoinLast},
	} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			var teardown time.Duration
			for b.Loop() {
				var t0 time.Time
				for v := range leaksafe.Range(nil, impl.src) {
					sink += v
					t0 = time.Now()
					break
				}
				teardown += time.Since(t0)
			}
			b.ReportMetric(float64(teardown.Nanoseconds())/float64(b.N), "ns/teardown")
		})
	}
}
