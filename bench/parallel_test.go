package bench

import (
	"sync"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/gammazero/workerpool"
	"github.com/leaksafe/leaksafe"
	"github.com/panjf2000/ants/v2"
	lop "github.com/samber/lo/parallel"
	"github.com/sourcegraph/conc/pool"
	"github.com/sourcegraph/conc/stream"
	"golang.org/x/sync/errgroup"
)

// A poolImpl maps n items through fn on workers goroutines and delivers every result to the
// calling goroutine, which ranges over them. Channel-based implementations read their items from a
// source goroutine; task-based ones (errgroup, conc, pond, ants, workerpool) are fed by a loop that
// submits one task per item, the way they are used, and each task sends its result on a channel.
type poolImpl struct {
	name    string
	ordered bool
	run     func(n, workers int, fn func(int) int)
}

var poolImpls = []poolImpl{
	{name: "hand", run: func(n, workers int, fn func(int) int) {
		done := make(chan struct{})
		defer close(done)
		consume(handPool(done, seedSource(done, n), workers, fn))
	}},
	{name: "seed", run: func(n, workers int, fn func(int) int) {
		done := make(chan struct{})
		defer close(done)
		consume(seedPool(done, seedSource(done, n), workers, fn))
	}},
	{name: "leaksafe", run: func(n, workers int, fn func(int) int) {
		done := make(chan struct{})
		defer close(done)
		src, t1 := leaksafe.FromSeq(done, counter(n))
		out, t2 := leaksafe.ParallelMap(done, src, workers, fn)
		consume(out)
		<-t1
		<-t2
	}},
	{name: "leaksafe-ordered", ordered: true, run: func(n, workers int, fn func(int) int) {
		done := make(chan struct{})
		defer close(done)
		src, t1 := leaksafe.FromSeq(done, counter(n))
		out, t2 := leaksafe.ParallelMapOrdered(done, src, workers, fn)
		consume(out)
		<-t1
		<-t2
	}},
	{name: "plain", run: func(n, workers int, fn func(int) int) {
		consume(plainPool(plainSource(n), workers, fn))
	}},
	{name: "errgroup", run: func(n, workers int, fn func(int) int) {
		out := make(chan int)
		go func() {
			var g errgroup.Group
			g.SetLimit(workers)
			for i := range n {
				g.Go(func() error {
					out <- fn(i)
					return nil
				})
			}
			_ = g.Wait()
			close(out)
		}()
		consume(out)
	}},
	{name: "conc-pool", run: func(n, workers int, fn func(int) int) {
		out := make(chan int)
		go func() {
			p := pool.New().WithMaxGoroutines(workers)
			for i := range n {
				p.Go(func() { out <- fn(i) })
			}
			p.Wait()
			close(out)
		}()
		consume(out)
	}},
	{name: "conc-stream", ordered: true, run: func(n, workers int, fn func(int) int) {
		out := make(chan int)
		go func() {
			s := stream.New().WithMaxGoroutines(workers)
			for i := range n {
				s.Go(func() stream.Callback {
					r := fn(i)
					return func() { out <- r }
				})
			}
			s.Wait()
			close(out)
		}()
		consume(out)
	}},
	{name: "pond", run: func(n, workers int, fn func(int) int) {
		out := make(chan int)
		go func() {
			p := pond.NewPool(workers)
			for i := range n {
				_ = p.Go(func() { out <- fn(i) })
			}
			p.StopAndWait()
			close(out)
		}()
		consume(out)
	}},
	{name: "ants", run: func(n, workers int, fn func(int) int) {
		out := make(chan int)
		go func() {
			var wg sync.WaitGroup
			p, err := ants.NewPoolWithFuncGeneric(workers, func(i int) {
				out <- fn(i)
				wg.Done()
			})
			if err != nil {
				panic(err)
			}
			for i := range n {
				wg.Add(1)
				_ = p.Invoke(i)
			}
			wg.Wait()
			p.Release()
			close(out)
		}()
		consume(out)
	}},
	{name: "workerpool", run: func(n, workers int, fn func(int) int) {
		out := make(chan int)
		go func() {
			wp := workerpool.New(workers)
			for i := range n {
				wp.Submit(func() { out <- fn(i) })
			}
			wp.StopWait()
			close(out)
		}()
		consume(out)
	}},
}

// loChunk is how many items lo's parallel Map gets at a time: it starts one goroutine per item and
// has no limit, so it runs over a slice in chunks.
const loChunk = 256

func runLo(n int, fn func(int) int) {
	chunk := make([]int, 0, loChunk)
	s := 0
	for i := 0; i < n; i += loChunk {
		chunk = chunk[:0]
		for j := i; j < min(n, i+loChunk); j++ {
			chunk = append(chunk, j)
		}
		for _, r := range lop.Map(chunk, func(v, _ int) int { return fn(v) }) {
			s += r
		}
	}
	sink += s
}

// BenchmarkParallelMap maps b.N items through fn at 1, 2, 4 and 8 workers and delivers the results
// to the benchmark goroutine. impl=hand is the hand-written pool (workers range over the input, each
// send a select with done); impl=seed selects with done on the receive too; impl=plain has no
// cancellation, like destel/rill. impl=leaksafe-ordered and impl=conc-stream deliver the results in
// input order; the others in any order. work=cpu20us is the CPU-bound case, at 2 workers (the machine's
// core count). workers=all is lo's parallel Map, which has no limit.
func BenchmarkParallelMap(b *testing.B) {
	type row struct {
		w       workload
		workers []int
	}
	rows := []row{
		{noop, workerCounts},
		{cpu1us, workerCounts},
		{sleep50us, workerCounts},
		{cpu20us, []int{2}},
	}
	for _, r := range rows {
		for _, workers := range r.workers {
			for _, impl := range poolImpls {
				b.Run(name("work", r.w.name, "workers", workers, "impl", impl.name), func(b *testing.B) {
					m := startMeter(b)
					impl.run(b.N, workers, r.w.fn)
					m.stop(b.N)
				})
			}
		}
		b.Run(name("work", r.w.name, "workers", "all", "impl", "lo"), func(b *testing.B) {
			m := startMeter(b)
			runLo(b.N, r.w.fn)
			m.stop(b.N)
		})
	}
}
