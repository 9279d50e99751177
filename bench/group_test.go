package bench

import (
	"sync"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/gammazero/workerpool"
	"github.com/leaksafe/leaksafe"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// A groupImpl runs one task per item, at most workers at once, and waits for them all. Each task
// stores fn(i) in results[i], the usual way to collect results with errgroup.
type groupImpl struct {
	name string
	run  func(results []int, workers int, fn func(int) int)
}

var groupImpls = []groupImpl{
	{"hand", func(results []int, workers int, fn func(int) int) {
		// A semaphore channel and a WaitGroup: errgroup.SetLimit written out.
		sem := make(chan struct{}, workers)
		var wg sync.WaitGroup
		for i := range results {
			sem <- struct{}{}
			wg.Go(func() {
				results[i] = fn(i)
				<-sem
			})
		}
		wg.Wait()
	}},
	{"leaksafe", func(results []int, workers int, fn func(int) int) {
		g := leaksafe.NewGroup(nil)
		g.SetLimit(workers)
		for i := range results {
			g.Go(func(<-chan struct{}) error {
				results[i] = fn(i)
				return nil
			})
		}
		_ = g.Wait()
	}},
	{"errgroup", func(results []int, workers int, fn func(int) int) {
		var g errgroup.Group
		g.SetLimit(workers)
		for i := range results {
			g.Go(func() error {
				results[i] = fn(i)
				return nil
			})
		}
		_ = g.Wait()
	}},
	{"conc-pool", func(results []int, workers int, fn func(int) int) {
		p := pool.New().WithMaxGoroutines(workers)
		for i := range results {
			p.Go(func() { results[i] = fn(i) })
		}
		p.Wait()
	}},
	{"pond", func(results []int, workers int, fn func(int) int) {
		p := pond.NewPool(workers)
		for i := range results {
			_ = p.Go(func() { results[i] = fn(i) })
		}
		p.StopAndWait()
	}},
	{"ants", func(results []int, workers int, fn func(int) int) {
		p, err := ants.NewPool(workers)
		if err != nil {
			panic(err)
		}
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			_ = p.Submit(func() {
				results[i] = fn(i)
				wg.Done()
			})
		}
		wg.Wait()
		p.Release()
	}},
	{"workerpool", func(results []int, workers int, fn func(int) int) {
		wp := workerpool.New(workers)
		for i := range results {
			wp.Submit(func() { results[i] = fn(i) })
		}
		wp.StopWait()
	}},
}

// BenchmarkGroup runs b.N tasks, at most workers at once, through leaksafe's Group and the task
// pools, each task storing its result in a slice: the errgroup way of collecting results.
func BenchmarkGroup(b *testing.B) {
	for _, w := range workloads {
		for _, workers := range workerCounts {
			for _, impl := range groupImpls {
				b.Run(name("work", w.name, "workers", workers, "impl", impl.name), func(b *testing.B) {
					results := make([]int, b.N)
					m := startMeter(b)
					impl.run(results, workers, w.fn)
					m.stop(b.N)
					for _, r := range results {
						sink += r
					}
				})
			}
		}
	}
}
