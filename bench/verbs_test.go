package bench

import (
	"iter"
	"slices"
	"testing"

	"github.com/leaksafe/leaksafe"
)

// counter2 yields (0, nil), (1, nil), …, (n-1, nil): counter with the error of FromSeq2.
func counter2(n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

// consumeResults is consume for a stream of Results.
func consumeResults(out <-chan leaksafe.Result[int]) {
	s := 0
	for r := range out {
		s += r.Value
	}
	sink += s
}

// justOne returns a sequence of v alone. The sequence is a closure over v, so each call allocates
// it: the one allocation per item of the verb=FlatMap-one row.
func justOne(v int) iter.Seq[int] {
	return func(yield func(int) bool) { yield(v) }
}

// oneSeq is a sequence of one value, v, built once and reused: with it FlatMap's fn allocates
// nothing, so the verb=FlatMap-shared row measures FlatMap's own cost per item. Reusing it is safe
// because FlatMap has finished with one sequence before it calls fn for the next value.
type oneSeq struct {
	v   int
	seq iter.Seq[int]
}

func newOneSeq() *oneSeq {
	o := &oneSeq{}
	o.seq = func(yield func(int) bool) { yield(o.v) }
	return o
}

func (o *oneSeq) of(v int) iter.Seq[int] {
	o.v = v
	return o.seq
}

// keepPair is FilterMap's fn: every item passes, unchanged.
func keepPair(v int) (int, bool) { return v, true }

// A verbCase moves n items from a source, through the verb, to the benchmark goroutine, and returns
// once every goroutine it started has stopped.
type verbCase struct {
	verb string
	run  func(done <-chan struct{}, n int)
}

var verbCases = []verbCase{
	// The baselines, measured the same way: Map is the stage every new stage is held against;
	// FromSeq alone is the source FromSeq2 and the consumers Reduce and Collect are held against.
	{"Map", func(done <-chan struct{}, n int) {
		src, t1 := leaksafe.FromSeq(done, counter(n))
		out, t2 := leaksafe.Map(done, src, noop.fn)
		consume(out)
		<-t1
		<-t2
	}},
	{"FromSeq", func(done <-chan struct{}, n int) {
		out, t1 := leaksafe.FromSeq(done, counter(n))
		consume(out)
		<-t1
	}},
	{"FilterMap", func(done <-chan struct{}, n int) {
		src, t1 := leaksafe.FromSeq(done, counter(n))
		out, t2 := leaksafe.FilterMap(done, src, keepPair)
		consume(out)
		<-t1
		<-t2
	}},
	{"FlatMap-one", func(done <-chan struct{}, n int) {
		src, t1 := leaksafe.FromSeq(done, counter(n))
		out, t2 := leaksafe.FlatMap(done, src, justOne)
		consume(out)
		<-t1
		<-t2
	}},
	{"FlatMap-shared", func(done <-chan struct{}, n int) {
		src, t1 := leaksafe.FromSeq(done, counter(n))
		out, t2 := leaksafe.FlatMap(done, src, newOneSeq().of)
		consume(out)
		<-t1
		<-t2
	}},
	{"Partition", func(done <-chan struct{}, n int) {
		// Every item is kept; rest is read (it carries nothing) so that it cannot stall kept.
		src, t1 := leaksafe.FromSeq(done, counter(n))
		kept, rest, t2 := leaksafe.Partition(done, src, keepAll)
		go func() {
			for range rest { // ends when rest closes, before t2
			}
		}()
		consume(kept)
		<-t1
		<-t2
	}},
	{"Partition-half", func(done <-chan struct{}, n int) {
		// Every other item goes to each output, each read by its own goroutine.
		src, t1 := leaksafe.FromSeq(done, counter(n))
		kept, rest, t2 := leaksafe.Partition(done, src, func(v int) bool { return v%2 == 0 })
		restSum := make(chan int)
		go func() {
			s := 0
			for v := range rest {
				s += v
			}
			restSum <- s
		}()
		consume(kept)
		sink += <-restSum
		<-t1
		<-t2
	}},
	{"FromSeq2", func(done <-chan struct{}, n int) {
		out, t1 := leaksafe.FromSeq2(done, counter2(n))
		consumeResults(out)
		<-t1
	}},
	{"Reduce", func(done <-chan struct{}, n int) {
		src, t1 := leaksafe.FromSeq(done, counter(n))
		s, _ := leaksafe.Reduce(done, src, 0, func(a, v int) int { return a + v })
		sink += s
		<-t1
	}},
	{"Collect", func(done <-chan struct{}, n int) {
		src, t1 := leaksafe.FromSeq2(done, counter2(n))
		all, _ := leaksafe.Collect(done, src)
		sink += len(all)
		<-t1
	}},
}

// BenchmarkVerbs moves b.N items through each of FilterMap, FlatMap, Partition, FromSeq2, Reduce and
// Collect, and through the baselines they are held against (Map, and FromSeq alone), each given an
// open done channel as a caller's would be. FlatMap-unbatch64 is FlatMap(done, batches,
// slices.Values) over batches of 64 items: its ns/item is per item unbatched, not per batch.
func BenchmarkVerbs(b *testing.B) {
	for _, c := range verbCases {
		b.Run(name("verb", c.verb, "impl", "leaksafe"), func(b *testing.B) {
			done := make(chan struct{})
			defer close(done)
			m := startMeter(b)
			c.run(done, b.N)
			m.stop(b.N)
		})
	}
	b.Run(name("verb", "FlatMap-unbatch64", "impl", "leaksafe"), func(b *testing.B) {
		items := make([]int, b.N)
		for i := range items {
			items[i] = i
		}
		done := make(chan struct{})
		defer close(done)
		m := startMeter(b)
		batches, t1 := leaksafe.FromSeq(done, slices.Chunk(items, 64))
		out, t2 := leaksafe.FlatMap(done, batches, slices.Values)
		consume(out)
		<-t1
		<-t2
		m.stop(b.N)
	})
}
