package bench

import (
	"sync"
	"testing"

	"github.com/leaksafe/leaksafe"
)

// The flow rows measure capacity flowing downstream: a buffer near the source, then stages whose
// outputs hold what their input holds. Each pipeline is written four ways: leaksafe, the plain
// no-cancel style of destel/rill on unbuffered channels (impl=plain), the same on channels that
// hold 64 values (impl=plain-buffered64: one hand-off per value, the limit for a channel pipeline),
// and, for the pool, the hand-written select pool on unbuffered channels (impl=hand).

// plainBufferedMap is plainMap on a channel that holds batchSize values.
func plainBufferedMap(in <-chan int, fn func(int) int) <-chan int {
	out := make(chan int, batchSize)
	go func() {
		defer close(out)
		for v := range in {
			out <- fn(v)
		}
	}()
	return out
}

// plainFilter forwards the values of in for which keep is true, on a channel that holds size values.
func plainFilter(in <-chan int, keep func(int) bool, size int) <-chan int {
	out := make(chan int, size)
	go func() {
		defer close(out)
		for v := range in {
			if keep(v) {
				out <- v
			}
		}
	}()
	return out
}

// plainBufferedPool is plainPool on channels that hold batchSize values.
func plainBufferedPool(in <-chan int, workers int, fn func(int) int) <-chan int {
	out := make(chan int, batchSize)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for v := range in {
				out <- fn(v)
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// items returns 0, 1, …, n-1: the slice that Generate sends in the flow rows, built before the timer
// starts.
func items(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// A flowSource is how a leaksafe flow row starts.
type flowSource int

const (
	// generateBuffer is Buffer(64) after Generate over the items, which holds 64 of them itself.
	generateBuffer flowSource = iota
	// fromSeqBuffer is Buffer(64) after FromSeq, which holds one value, so that the Buffer waits
	// for it one value at a time (impl=leaksafe-FromSeq).
	fromSeqBuffer
	// generateOnly is Generate with no Buffer: the shape of impl=plain-buffered64, whose source
	// sends on a 64-value channel of its own (impl=leaksafe-Generate).
	generateOnly
)

func (f flowSource) start(done <-chan struct{}, n int, vals []int) (<-chan int, <-chan struct{}) {
	if f == generateOnly {
		return leaksafe.Generate(done, vals...)
	}
	var src <-chan int
	var t1 <-chan struct{}
	if f == fromSeqBuffer {
		src, t1 = leaksafe.FromSeq(done, counter(n))
	} else {
		src, t1 = leaksafe.Generate(done, vals...)
	}
	buf, t2 := leaksafe.Buffer(done, src, batchSize)
	return buf, leaksafe.All(t1, t2)
}

// flowSources names the leaksafe flow rows.
var flowSources = []struct {
	impl string
	src  flowSource
}{
	{"leaksafe", generateBuffer},
	{"leaksafe-FromSeq", fromSeqBuffer},
	{"leaksafe-Generate", generateOnly},
}

// BenchmarkFlow moves b.N items through source → Buffer(64) → Map → Filter → consumer. The plain
// rows have no Buffer stage: their source sends on its own channel, unbuffered or of 64 values;
// impl=leaksafe-Generate has that shape too. impl=plain-buffered64-stage keeps the buffer stage, to
// compare the same stages.
func BenchmarkFlow(b *testing.B) {
	b.Run("impl=plain", func(b *testing.B) {
		m := startMeter(b)
		consume(plainFilter(plainMap(plainSource(b.N), inc), keepAll, 0))
		m.stop(b.N)
	})
	b.Run("impl=plain-buffered64", func(b *testing.B) {
		m := startMeter(b)
		consume(plainFilter(plainBufferedMap(bufferedSource(b.N), inc), keepAll, batchSize))
		m.stop(b.N)
	})
	b.Run("impl=plain-buffered64-stage", func(b *testing.B) {
		// The same stages as impl=leaksafe: a buffer stage of its own after the source.
		m := startMeter(b)
		buf := plainBufferedMap(bufferedSource(b.N), noop.fn)
		consume(plainFilter(plainBufferedMap(buf, inc), keepAll, batchSize))
		m.stop(b.N)
	})
	for _, f := range flowSources {
		b.Run("impl="+f.impl, func(b *testing.B) {
			done := make(chan struct{})
			defer close(done)
			vals := items(b.N)
			m := startMeter(b)
			buf, t1 := f.src.start(done, b.N, vals)
			mapped, t2 := leaksafe.Map(done, buf, inc)
			out, t3 := leaksafe.Filter(done, mapped, keepAll)
			consume(out)
			<-leaksafe.All(t1, t2, t3)
			m.stop(b.N)
		})
	}
}

// BenchmarkFlowParallelMap moves b.N items through source → Buffer(64) → ParallelMap(4) with the
// noop workload → consumer. impl=hand is the hand-written select pool on unbuffered channels,
// impl=plain-buffered64 a plain 4-goroutine pool on channels that hold 64 values, and
// impl=leaksafe-ordered ParallelMapOrdered on the same buffered input as impl=leaksafe.
func BenchmarkFlowParallelMap(b *testing.B) {
	const workers = 4
	b.Run("impl=hand", func(b *testing.B) {
		done := make(chan struct{})
		defer close(done)
		m := startMeter(b)
		consume(handPool(done, seedSource(done, b.N), workers, noop.fn))
		m.stop(b.N)
	})
	b.Run("impl=plain-buffered64", func(b *testing.B) {
		m := startMeter(b)
		consume(plainBufferedPool(bufferedSource(b.N), workers, noop.fn))
		m.stop(b.N)
	})
	b.Run("impl=plain-buffered64-stage", func(b *testing.B) {
		// The same stages as impl=leaksafe: a buffer stage of its own after the source.
		m := startMeter(b)
		consume(plainBufferedPool(plainBufferedMap(bufferedSource(b.N), noop.fn), workers, noop.fn))
		m.stop(b.N)
	})
	impls := []struct {
		name  string
		src   flowSource
		start func(done <-chan struct{}, in <-chan int, workers int, fn func(int) int) (<-chan int, <-chan struct{})
	}{
		{"leaksafe", generateBuffer, leaksafe.ParallelMap[int, int]},
		{"leaksafe-ordered", generateBuffer, leaksafe.ParallelMapOrdered[int, int]},
		{"leaksafe-FromSeq", fromSeqBuffer, leaksafe.ParallelMap[int, int]},
		{"leaksafe-Generate", generateOnly, leaksafe.ParallelMap[int, int]},
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			done := make(chan struct{})
			defer close(done)
			vals := items(b.N)
			m := startMeter(b)
			buf, t1 := impl.src.start(done, b.N, vals)
			out, t2 := impl.start(done, buf, workers, noop.fn)
			consume(out)
			<-leaksafe.All(t1, t2)
			m.stop(b.N)
		})
	}
}
