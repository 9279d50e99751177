package bench

import (
	"time"

	"github.com/leaksafe/leaksafe"
	"github.com/samber/lo"
)

// batchMaxWait is Batch's maxWait in BenchmarkThroughput. Items arrive without pause, so every
// batch fills up long before it.
const batchMaxWait = 10 * time.Millisecond

func init() {
	throughputCases = append(throughputCases,
		throughputCase{"seed-batcher64", func(n int) {
			// A hand-written batching stage in the seed's style: items arrive one at a time
			// and leave in slices of 64.
			done := make(chan struct{})
			defer close(done)
			in := seedSource(done, n)
			out := make(chan []int)
			go func() {
				defer close(out)
				batch := make([]int, 0, batchSize)
				flush := func() bool {
					select {
					case out <- batch:
						batch = make([]int, 0, batchSize)
						return true
					case <-done:
						return false
					}
				}
				for {
					select {
					case v, ok := <-in:
						if !ok {
							if len(batch) > 0 {
								flush()
							}
							return
						}
						batch = append(batch, v)
						if len(batch) == batchSize && !flush() {
							return
						}
					case <-done:
						return
					}
				}
			}()
			consumeBatches(out)
		}},
		throughputCase{"leaksafe-Batch64", func(n int) {
			done := make(chan struct{})
			defer close(done)
			src, t1 := leaksafe.FromSeq(done, counter(n))
			out, t2 := leaksafe.Batch(done, src, batchSize, batchMaxWait)
			consumeBatches(out)
			<-t1
			<-t2
		}},
		throughputCase{"lo-BufferWithTimeout64", func(n int) {
			// lo's Batch: lo.BufferWithTimeout reads up to 64 values or until maxWait.
			src := bufferedSource(n)
			s := 0
			for {
				batch, _, _, ok := lo.BufferWithTimeout(src, batchSize, batchMaxWait)
				for _, v := range batch {
					s += v
				}
				if !ok {
					break
				}
			}
			sink += s
		}},
	)
}
