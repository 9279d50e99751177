package leaksafe_test

import (
	"errors"
	"flag"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/leaktest"
)

// The fuzz targets read their input as a program: each decision (which source, which stage, how
// many workers, where the consumer stops, where done closes) takes the next byte, and past the end
// of the input every byte is zero. A short input is a short pipeline, so the seed corpus in
// testdata/fuzz runs in milliseconds as an ordinary test, and `go test -fuzz` explores from there.
//
// Each run checks the promises of the package: terminated closes (within a deadline), nothing is
// left running afterwards (see fuzzLeakCheck), no value is lost or duplicated before the consumer
// stops, and order is kept where a primitive promises it.

// fuzzLeakCheck makes t fail if a goroutine that it started is left running. For the seed corpus,
// run as ordinary tests, it is leaktest.Check: goleak's snapshot and, where the toolchain has it,
// the runtime's leak profile. While fuzzing it is goleak's snapshot alone: the profile costs two
// garbage collections per input, which the fuzzing engine's large heap makes slow.
func fuzzLeakCheck(t *testing.T) {
	t.Helper()
	if f := flag.Lookup("test.fuzzworker"); f == nil || f.Value.String() != "true" {
		leaktest.Check(t)
		return
	}
	snapshot := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		if err := goleak.Find(snapshot); err != nil {
			t.Errorf("goroutines left running: %v", err)
		}
	})
}

// fuzzProgram hands out the bytes of a fuzz input as decisions.
type fuzzProgram struct {
	data []byte
	pos  int
}

// next returns the next byte, or 0 past the end of the input.
func (p *fuzzProgram) next() int {
	if p.pos >= len(p.data) {
		return 0
	}
	b := p.data[p.pos]
	p.pos++
	return int(b)
}

// intn returns a decision in [0, n).
func (p *fuzzProgram) intn(n int) int { return p.next() % n }

const (
	fuzzMaxStages = 6
	fuzzMaxRead   = 64 // the consumer reads at most this many values before it stops
	// fuzzPrefixLen is how much of an endless source the model keeps. Each stage keeps all of a stream,
	// none of it, or at least a fifth of it, so a prefix outlasts anything the consumer reads.
	fuzzPrefixLen = 1000
)

// fuzzModel is what a stream may send. When it is ordered, vals are its values in order (a prefix of
// them if the stream is endless); otherwise vals are a multiset that bounds what arrives.
type fuzzModel struct {
	vals    []int
	ordered bool // values arrive in the order of vals
	closes  bool // read to the end, the stream closes by itself
	exact   bool // read to the end without cancellation, the stream sends exactly vals
	avail   int  // how many values the consumer can wait for without the risk of waiting forever
}

// fuzzPipeline is a built pipeline: its output, its model, the terminated signals of everything that
// was started, and checks to run once everything has stopped.
type fuzzPipeline struct {
	out    <-chan int
	m      fuzzModel
	terms  []<-chan struct{}
	checks []func(t *testing.T, complete bool)
}

// partial tells the checks of s that the stream may not be read to its end even when the consumer
// reads its own to the end: a Take after them stops reading early.
func (s *fuzzPipeline) partial() {
	for i, check := range s.checks {
		s.checks[i] = func(t *testing.T, _ bool) {
			t.Helper()
			check(t, false)
		}
	}
}

// fuzzBuilder starts stages on one done channel, as a program says.
type fuzzBuilder struct {
	p         *fuzzProgram
	done      <-chan struct{}
	cancel    func() // closes done, or what done listens to: a cancellation point inside a stage
	sources   int
	stageLog  []string
	cancelled *atomic.Bool
}

func (b *fuzzBuilder) log(format string, args ...any) {
	b.stageLog = append(b.stageLog, fmt.Sprintf(format, args...))
}

// source starts a finite or endless source.
func (b *fuzzBuilder) source(endlessOK bool) fuzzPipeline {
	b.sources++
	base := 100_000 * b.sources
	n := b.p.intn(40)
	finite := make([]int, n)
	for i := range finite {
		finite[i] = base + i
	}
	kinds := 2
	if endlessOK {
		kinds = 4
	}
	switch b.p.intn(kinds) {
	case 0:
		b.log("Generate(%d)", n)
		out, term := leaksafe.Generate(b.done, finite...)
		return fuzzPipeline{out: out, terms: []<-chan struct{}{term}, m: fuzzModel{vals: finite, ordered: true, closes: true, exact: true, avail: n}}
	case 1:
		b.log("FromSeq(%d)", n)
		out, term := leaksafe.FromSeq(b.done, slices.Values(finite))
		return fuzzPipeline{out: out, terms: []<-chan struct{}{term}, m: fuzzModel{vals: finite, ordered: true, closes: true, exact: true, avail: n}}
	case 2:
		k := n % 6
		b.log("Repeat(%d)", k)
		out, term := leaksafe.Repeat(b.done, finite[:k]...)
		if k == 0 {
			return fuzzPipeline{out: out, terms: []<-chan struct{}{term}, m: fuzzModel{ordered: true, closes: true, exact: true}}
		}
		prefix := make([]int, fuzzPrefixLen)
		for i := range prefix {
			prefix[i] = finite[i%k]
		}
		return fuzzPipeline{out: out, terms: []<-chan struct{}{term}, m: fuzzModel{vals: prefix, ordered: true, avail: fuzzPrefixLen}}
	default:
		b.log("RepeatFunc")
		next := base
		out, term := leaksafe.RepeatFunc(b.done, func() int { next++; return next - 1 })
		prefix := make([]int, fuzzPrefixLen)
		for i := range prefix {
			prefix[i] = base + i
		}
		return fuzzPipeline{out: out, terms: []<-chan struct{}{term}, m: fuzzModel{vals: prefix, ordered: true, avail: fuzzPrefixLen}}
	}
}

// fn returns the function a mapping stage applies, with a cancellation point at its cancelAt-th
// call when cancelAt > 0, and with a few yields of the processor that vary from value to value.
func (b *fuzzBuilder) fn(f func(int) int, cancelAt int64, yields int) func(int) int {
	var calls atomic.Int64
	return func(v int) int {
		if calls.Add(1) == cancelAt {
			b.cancelled.Store(true)
			b.cancel()
		}
		for range (v * 7919) % (yields + 1) {
			runtime.Gosched()
		}
		return f(v)
	}
}

// fuzzMapModel applies f to the values of m.
func fuzzMapModel(m fuzzModel, f func(int) int) fuzzModel {
	vals := make([]int, len(m.vals))
	for i, v := range m.vals {
		vals[i] = f(v)
	}
	m.vals = vals
	return m
}

func fuzzPlusSeven(v int) int { return v + 7 }
func fuzzDouble(v int) int    { return 2 * v }
func fuzzNotThird(v int) bool { return v%3 != 0 }

// stage adds one stage to s.
func (b *fuzzBuilder) stage(s fuzzPipeline) fuzzPipeline {
	p := b.p
	add := func(out <-chan int, term <-chan struct{}, m fuzzModel) fuzzPipeline {
		s.out, s.m = out, m
		s.terms = append(s.terms, term)
		return s
	}
	switch p.intn(15) {
	case 0:
		cancelAt := int64(p.intn(24)) // 0: no cancellation point
		b.log("Map(cancel at %d)", cancelAt)
		out, term := leaksafe.Map(b.done, s.out, b.fn(fuzzPlusSeven, cancelAt, p.intn(3)))
		return add(out, term, fuzzMapModel(s.m, fuzzPlusSeven))
	case 1:
		b.log("Filter")
		out, term := leaksafe.Filter(b.done, s.out, fuzzNotThird)
		m := s.m
		m.vals = slices.DeleteFunc(slices.Clone(m.vals), func(v int) bool { return !fuzzNotThird(v) })
		switch {
		case m.ordered:
			m.avail = len(slices.DeleteFunc(slices.Clone(s.m.vals[:s.m.avail]), func(v int) bool { return !fuzzNotThird(v) }))
		case m.exact:
			m.avail = len(m.vals)
		default:
			m.avail = 0 // which values of a bounding multiset will come is unknown
		}
		return add(out, term, m)
	case 2:
		n := p.intn(30)
		b.log("Take(%d)", n)
		out, term := leaksafe.Take(b.done, s.out, n)
		s.partial()
		m := s.m
		m.closes = s.m.closes || n <= s.m.avail
		if m.ordered {
			m.exact = s.m.exact || n <= s.m.avail
			m.vals = m.vals[:min(n, len(m.vals))]
		} else {
			m.exact = s.m.exact && n >= len(m.vals)
		}
		m.avail = min(n, s.m.avail)
		return add(out, term, m)
	case 3:
		b.log("OrDone")
		out, term := leaksafe.OrDone(b.done, s.out)
		return add(out, term, s.m)
	case 4:
		size := 1 + p.intn(4)
		b.log("Buffer(%d)", size)
		out, term := leaksafe.Buffer(b.done, s.out, size)
		return add(out, term, s.m)
	case 5:
		b.log("Tee, second branch collected")
		out1, out2, term := leaksafe.Tee(b.done, s.out)
		s.checks = append(s.checks, b.collect(out2, s.m, &s.terms, "Tee's second branch"))
		return add(out1, term, s.m)
	case 6:
		if !s.m.exact {
			return s
		}
		b.log("Tee, both branches into FanIn")
		out1, out2, t1 := leaksafe.Tee(b.done, s.out)
		out, t2 := leaksafe.FanIn(b.done, out1, out2)
		s.terms = append(s.terms, t1)
		m := s.m
		m.vals = append(slices.Clone(m.vals), m.vals...)
		m.ordered, m.avail = false, 2*m.avail
		return add(out, t2, m)
	case 7:
		if !s.m.exact {
			return s
		}
		extra := p.intn(3)
		b.log("FanIn(+%d sources)", extra)
		ins := []<-chan int{s.out}
		m := s.m
		for range extra {
			src := b.source(false)
			s.terms = append(s.terms, src.terms...)
			ins = append(ins, src.out)
			m.vals = append(slices.Clone(m.vals), src.m.vals...)
			m.avail += src.m.avail
		}
		m.ordered = m.ordered && extra == 0
		out, term := leaksafe.FanIn(b.done, ins...)
		return add(out, term, m)
	case 8:
		b.log("Bridge(before, stream, after)")
		before, after := b.source(false), b.source(false)
		s.terms = append(s.terms, before.terms...)
		s.terms = append(s.terms, after.terms...)
		chans := make(chan (<-chan int))
		fed := make(chan struct{})
		streams := []<-chan int{before.out, s.out, after.out}
		go func() { // the test owns this feeder; it stops when done closes
			defer close(fed)
			defer close(chans)
			for _, c := range streams {
				select {
				case chans <- c:
				case <-b.done:
					return
				}
			}
		}()
		s.terms = append(s.terms, fed)
		out, term := leaksafe.Bridge(b.done, chans)
		m := s.m
		m.vals = append(slices.Clone(before.m.vals), m.vals...)
		m.avail = len(before.m.vals) + s.m.avail
		if s.m.closes {
			m.vals = append(m.vals, after.m.vals...)
			m.avail += len(after.m.vals)
		}
		return add(out, term, m)
	case 9:
		workers := 1 + p.intn(6)
		cancelAt := int64(p.intn(24))
		b.log("ParallelMap(%d workers, cancel at %d)", workers, cancelAt)
		out, term := leaksafe.ParallelMap(b.done, s.out, workers, b.fn(fuzzDouble, cancelAt, p.intn(4)))
		m := fuzzMapModel(s.m, fuzzDouble)
		m.ordered = false
		return add(out, term, m)
	case 10:
		workers := 1 + p.intn(6)
		cancelAt := int64(p.intn(24))
		b.log("ParallelMapOrdered(%d workers, cancel at %d)", workers, cancelAt)
		out, term := leaksafe.ParallelMapOrdered(b.done, s.out, workers, b.fn(fuzzDouble, cancelAt, p.intn(4)))
		return add(out, term, fuzzMapModel(s.m, fuzzDouble))
	case 11:
		cancelAt := int64(p.intn(24))
		b.log("FilterMap(cancel at %d)", cancelAt)
		plusSeven := b.fn(fuzzPlusSeven, cancelAt, p.intn(3))
		out, term := leaksafe.FilterMap(b.done, s.out, func(v int) (int, bool) { return plusSeven(v), fuzzNotThird(v) })
		return add(out, term, fuzzExpandModel(s.m, func(v int) []int {
			if !fuzzNotThird(v) {
				return nil
			}
			return []int{fuzzPlusSeven(v)}
		}))
	case 12:
		cancelAt := int64(p.intn(24))
		b.log("FlatMap(cancel at inner value %d)", cancelAt)
		var yields atomic.Int64
		out, term := leaksafe.FlatMap(b.done, s.out, func(v int) iter.Seq[int] {
			return func(yield func(int) bool) {
				for _, u := range fuzzFlat(v) {
					if yields.Add(1) == cancelAt {
						b.cancelled.Store(true)
						b.cancel()
					}
					if !yield(u) {
						return
					}
				}
			}
		})
		return add(out, term, fuzzExpandModel(s.m, fuzzFlat))
	case 13:
		b.log("Partition, rest collected")
		kept, rest, term := leaksafe.Partition(b.done, s.out, fuzzNotThird)
		restModel := fuzzExpandModel(s.m, func(v int) []int { return fuzzKeep(v, !fuzzNotThird(v)) })
		s.checks = append(s.checks, b.collect(rest, restModel, &s.terms, "Partition's rest"))
		return add(kept, term, fuzzExpandModel(s.m, func(v int) []int { return fuzzKeep(v, fuzzNotThird(v)) }))
	default:
		b.log("FromSeq2 (every third an error), FilterMap drops the errors")
		in := s.out
		seq := func(yield func(int, error) bool) {
			for v := range leaksafe.Values(b.done, in) {
				var err error
				if !fuzzNotThird(v) {
					err = errFuzzThird
				}
				if !yield(v, err) {
					return
				}
			}
		}
		results, t1 := leaksafe.FromSeq2(b.done, seq)
		s.terms = append(s.terms, t1)
		out, term := leaksafe.FilterMap(b.done, results, func(r leaksafe.Result[int]) (int, bool) { return r.Value, r.Err == nil })
		return add(out, term, fuzzExpandModel(s.m, func(v int) []int { return fuzzKeep(v, fuzzNotThird(v)) }))
	}
}

// errFuzzThird is the error that FromSeq2's sequence carries in place of every value divisible by 3.
var errFuzzThird = errors.New("divisible by 3")

// fuzzFlat is what FlatMap makes of v: v%3 values, from 10v up.
func fuzzFlat(v int) []int {
	out := make([]int, v%3)
	for i := range out {
		out[i] = 10*v + i
	}
	return out
}

// fuzzKeep returns v alone if keep, else nothing.
func fuzzKeep(v int, keep bool) []int {
	if keep {
		return []int{v}
	}
	return nil
}

// fuzzExpandModel is the model of a stage that replaces each value v of m, in order, with the values
// of expand(v), none, one or several: FilterMap, FlatMap, one output of Partition.
func fuzzExpandModel(m fuzzModel, expand func(int) []int) fuzzModel {
	out := m
	out.vals = nil
	for _, v := range m.vals {
		out.vals = append(out.vals, expand(v)...)
	}
	switch {
	case m.ordered:
		out.avail = 0
		for _, v := range m.vals[:m.avail] {
			out.avail += len(expand(v))
		}
	case m.exact:
		out.avail = len(out.vals)
	default:
		out.avail = 0 // which values of a bounding multiset will come is unknown
	}
	return out
}

// collect starts a test-owned goroutine that reads out until it closes or done closes, and returns
// the check of what it read against m.
func (b *fuzzBuilder) collect(out <-chan int, m fuzzModel, terms *[]<-chan struct{}, what string) func(*testing.T, bool) {
	var got []int
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for {
			select {
			case v, ok := <-out:
				if !ok {
					return
				}
				got = append(got, v)
			case <-b.done:
				return
			}
		}
	}()
	*terms = append(*terms, collected)
	return func(t *testing.T, complete bool) {
		t.Helper()
		got := got
		if !m.closes {
			// Nothing bounds how far this branch runs before done closes when the other one is
			// discarded whole (a Filter or FlatMap that keeps nothing of it): check the part of it
			// that the model's prefix covers, with room for reordering near its end.
			covered := len(m.vals)
			if !m.ordered {
				covered /= 2
			}
			got = got[:min(len(got), covered)]
		}
		fuzzCheck(t, what, got, m, complete)
	}
}

// fuzzBuild reads a pipeline of up to fuzzMaxStages stages from p and starts it on done.
func fuzzBuild(p *fuzzProgram, done <-chan struct{}, cancel func(), cancelled *atomic.Bool) (fuzzPipeline, string) {
	b := &fuzzBuilder{p: p, done: done, cancel: cancel, cancelled: cancelled}
	s := b.source(true)
	for range p.intn(fuzzMaxStages + 1) {
		s = b.stage(s)
	}
	return s, strings.Join(b.stageLog, " → ")
}

// fuzzCheck checks what a consumer received against the model of its stream. complete says that
// it read the stream to its end and nothing cancelled it.
func fuzzCheck(t *testing.T, what string, got []int, m fuzzModel, complete bool) {
	t.Helper()
	if m.ordered {
		if len(got) > len(m.vals) || !slices.Equal(got, m.vals[:len(got)]) {
			t.Fatalf("%s: received %v, want a prefix of %v: a value lost, duplicated or out of order", what, got, m.vals)
		}
	} else if extra := fuzzNotIn(got, m.vals); len(extra) > 0 {
		t.Fatalf("%s: received %v, which the stream cannot send (duplicated or unknown); it may send %v", what, extra, m.vals)
	}
	if complete && m.exact && len(got) != len(m.vals) {
		t.Fatalf("%s: received %d values, want all %d: %v lost", what, len(got), len(m.vals), fuzzNotIn(m.vals, got))
	}
}

// fuzzNotIn returns the values of got that are left over once each value of want has been matched once.
func fuzzNotIn(got, want []int) []int {
	counts := map[int]int{}
	for _, v := range want {
		counts[v]++
	}
	var extra []int
	for _, v := range got {
		if counts[v] == 0 {
			extra = append(extra, v)
			continue
		}
		counts[v]--
	}
	return extra
}

// fuzzWaitAll fails t unless every signal closes within the deadline.
func fuzzWaitAll(t *testing.T, terms []<-chan struct{}, what string) {
	t.Helper()
	waitClosed(t, leaksafe.All(terms...), what)
}

// The ways a fuzz run consumes its pipeline.
const (
	consumeByHand      = iota // read up to a stop index, close done, drain, wait for terminated
	consumeDoneClosed         // done closed before the pipeline starts
	consumeRangeBreak         // for range over Range, break at a stop index
	consumeRangeOuter         // Range's outer done closed from the loop body
	consumeRangePanics        // the loop body panics
	consumeModes
)

// FuzzPipeline builds random pipelines from the sources and stages, consumes them in one of the
// ways a consumer can, and checks that they stop, leave nothing running and deliver what they
// promise.
func FuzzPipeline(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 10, 3, 0, 5, 0, 2, 64})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLeakCheck(t)
		p := &fuzzProgram{data: data}
		mode := p.intn(consumeModes)
		stop := p.intn(fuzzMaxRead + 1)
		readAll := p.intn(2) == 1
		switch mode {
		case consumeByHand, consumeDoneClosed:
			fuzzConsumeHand(t, p, mode == consumeDoneClosed, stop, readAll)
		default:
			fuzzConsumeRange(t, p, mode, stop)
		}
	})
}

// fuzzConsumeHand runs a pipeline whose done the test owns.
func fuzzConsumeHand(t *testing.T, p *fuzzProgram, closedFirst bool, stop int, readAll bool) {
	t.Helper()
	done := make(chan struct{})
	var once sync.Once
	closeDone := func() { once.Do(func() { close(done) }) }
	if closedFirst {
		closeDone()
	}
	var cancelled atomic.Bool
	s, desc := fuzzBuild(p, done, closeDone, &cancelled)
	limit := stop
	if s.m.closes && readAll {
		limit = -1 // read to the end
	} else if !s.m.closes {
		limit = min(limit, s.m.avail)
	}
	var got []int
	closedByItself := false
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for limit < 0 || len(got) < limit {
		select {
		case v, ok := <-s.out:
			if !ok {
				closedByItself = true
				limit = len(got)
				continue
			}
			got = append(got, v)
		case <-timer.C:
			t.Fatalf("%s: value %d not received within %v", desc, len(got), deadline)
		}
	}
	closeDone() // the consumer stops: whatever is still in flight may arrive, then out closes
	if !closedByItself {
		got = append(got, drain(t, s.out)...)
	}
	fuzzWaitAll(t, s.terms, desc+": terminated")
	if closedFirst {
		if len(got) > 0 {
			t.Fatalf("%s: done closed before the start, yet received %v", desc, got)
		}
		return
	}
	complete := readAll && s.m.closes && !cancelled.Load()
	if complete && !closedByItself {
		t.Fatalf("%s: read to the end without cancellation, yet out did not close by itself", desc)
	}
	fuzzCheck(t, desc, got, s.m, complete)
	for _, check := range s.checks {
		check(t, complete)
	}
}

// errFuzzLoopBody is what a loop body panics with.
var errFuzzLoopBody = errors.New("the loop body panics")

// fuzzConsumeRange runs a pipeline under Range.
func fuzzConsumeRange(t *testing.T, p *fuzzProgram, mode, stop int) {
	t.Helper()
	outer := make(chan struct{})
	cancelCh := make(chan struct{})
	var once sync.Once
	cancel := func() { once.Do(func() { close(cancelCh) }) }
	var (
		cancelled atomic.Bool
		s         fuzzPipeline
		desc      string
	)
	src := func(stop <-chan struct{}) (<-chan int, <-chan struct{}) {
		done := leaksafe.Or(stop, cancelCh)
		s, desc = fuzzBuild(p, done, cancel, &cancelled)
		out := s.out
		if !s.m.closes { // a loop cannot wait on a stream that may never send again: bound it
			n := s.m.avail
			var term <-chan struct{}
			out, term = leaksafe.Take(done, out, n)
			s.partial()
			s.terms = append(s.terms, term)
			s.m.closes, s.m.exact = true, s.m.ordered
			if s.m.ordered { // unordered, vals bound what may come: any n of them can be the first
				s.m.vals = s.m.vals[:min(n, len(s.m.vals))]
			}
		}
		return out, leaksafe.All(s.terms...)
	}
	var got []int
	type outcome struct{ panicked any }
	res := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			o.panicked = recover()
			res <- o
		}()
		for v := range leaksafe.Range(outer, src) {
			got = append(got, v)
			if len(got) <= stop {
				continue
			}
			switch mode {
			case consumeRangeBreak:
				return // the loop ends as a break does
			case consumeRangeOuter:
				close(outer) // the loop ends the next time it waits for a value
			default:
				panic(errFuzzLoopBody)
			}
		}
	}()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	var o outcome
	select {
	case o = <-res:
	case <-timer.C:
		t.Fatalf("%s: the loop did not end within %v", desc, deadline)
	}
	for i, term := range s.terms {
		if !isClosed(term) {
			t.Fatalf("%s: terminated %d not closed when the loop ended: Range must wait for it", desc, i)
		}
	}
	reached := len(got) > stop
	panicErr, _ := o.panicked.(error)
	switch {
	case mode == consumeRangePanics && reached && !errors.Is(panicErr, errFuzzLoopBody):
		t.Fatalf("%s: the loop body's panic came back as %v", desc, o.panicked)
	case mode != consumeRangePanics && o.panicked != nil:
		t.Fatalf("%s: unexpected panic %v", desc, o.panicked)
	case mode == consumeRangeOuter && len(got) > stop+1:
		t.Fatalf("%s: %d values received after the outer done closed", desc, len(got)-stop-1)
	}
	complete := !reached && !cancelled.Load()
	fuzzCheck(t, desc, got, s.m, complete)
	for _, check := range s.checks {
		check(t, complete)
	}
}

// FuzzParallelMap checks ParallelMap and ParallelMapOrdered with random worker counts, delays,
// buffered and one-value inputs, input sizes, consumer stops and cancellation points: every input
// is delivered exactly once when nothing cancels, in input order for the ordered form; the number
// of calls of fn running ahead of the consumer stays within the documented bound; and after done
// closes, at most one call per worker starts.
func FuzzParallelMap(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 3, 40, 64, 0, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLeakCheck(t)
		p := &fuzzProgram{data: data}
		ordered := p.intn(2) == 1
		workers := 1 + p.intn(8)
		n := p.intn(80)
		stop := p.intn(n + 2) // n+1: read to the end
		yields := p.intn(5)
		cancelAt := int64(p.intn(n + 2)) // 0 or past the end: no cancellation from inside fn

		done := make(chan struct{})
		var once sync.Once
		closeDone := func() { once.Do(func() { close(done) }) }
		var calls, afterDone atomic.Int64
		var cancelled atomic.Bool
		fn := func(v int) int {
			c := calls.Add(1)
			if !fuzzIsOpen(done) {
				afterDone.Add(1)
			}
			if c == cancelAt {
				cancelled.Store(true)
				closeDone()
			}
			for range (v * 7919) % (yields + 1) {
				runtime.Gosched()
			}
			return v * 3
		}
		// The input is Generate's buffered output, or FromSeq's one value.
		var in <-chan int
		var t1 <-chan struct{}
		if p.intn(2) == 0 {
			in, t1 = leaksafe.Generate(done, count(n)...)
		} else {
			in, t1 = leaksafe.FromSeq(done, slices.Values(count(n)))
		}
		var out <-chan int
		var t2 <-chan struct{}
		// ahead bounds how many calls of fn may have started beyond the values received. out holds
		// size values; the ordered form's window holds 2×size more, the unordered form one value
		// per worker.
		size := max(workers, cap(in))
		ahead := int64(workers + size)
		if ordered {
			out, t2 = leaksafe.ParallelMapOrdered(done, in, workers, fn)
			ahead = int64(2*size + size)
		} else {
			out, t2 = leaksafe.ParallelMap(done, in, workers, fn)
		}
		var got []int
		timer := time.NewTimer(deadline)
		defer timer.Stop()
	read:
		for len(got) < stop {
			select {
			case v, ok := <-out:
				if !ok {
					break read
				}
				got = append(got, v)
				if started := calls.Load(); !cancelled.Load() && started > int64(len(got))+ahead {
					t.Fatalf("%d calls of fn started with %d values received: more than %d ahead", started, len(got), ahead)
				}
			case <-timer.C:
				t.Fatalf("value %d not received within %v", len(got), deadline)
			}
		}
		closeDone()
		got = append(got, drain(t, out)...)
		fuzzWaitAll(t, []<-chan struct{}{t1, t2}, "terminated")

		want := make([]int, n)
		for i := range want {
			want[i] = 3 * i
		}
		m := fuzzModel{vals: want, ordered: ordered, closes: true, exact: true, avail: n}
		fuzzCheck(t, fmt.Sprintf("ParallelMap(ordered %v, %d workers)", ordered, workers), got, m,
			stop == n+1 && !cancelled.Load())
		if a := afterDone.Load(); a > int64(workers) {
			t.Fatalf("%d calls of fn started after done closed, want at most one per worker (%d)", a, workers)
		}
	})
}

// fuzzIsOpen reports, without waiting, whether the signal ch is still open.
func fuzzIsOpen(ch <-chan struct{}) bool { return !isClosed(ch) }

// FuzzGroup runs a Group of random functions: some return nil, some an error, some panic, some
// wait for the group's done, some stop the group or start another function. The parent done may be
// closed before, while or after the functions start, and a limit may be set. Wait must return (or
// re-raise the first panic as a *PanicError) within a deadline, with an error that a started
// function returned; Go must start nothing once the group is done; and nothing may be left running.
func FuzzGroup(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 0, 0, 1, 2, 3, 4, 5, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLeakCheck(t)
		p := &fuzzProgram{data: data}
		tasks := 1 + p.intn(12)
		limit := p.intn(4) // 0: no limit
		parentCloses := p.intn(tasks + 2)
		parent := make(chan struct{})
		var parentOnce sync.Once
		closeParent := func() { parentOnce.Do(func() { close(parent) }) }
		if parentCloses == 0 {
			closeParent()
		}
		g := leaksafe.NewGroup(parent)
		if limit > 0 {
			g.SetLimit(limit)
		}

		const (
			returnNil = iota
			returnErr
			panics
			waitsForDone
			stops
			startsAnother
			behaviours
		)
		var (
			mu       sync.Mutex
			ran      = map[int]bool{}   // functions that started
			errOf    = map[int]error{}  // the error each failing function returns
			panicOf  = map[int]string{} // the value each panicking function panics with
			blocking bool               // a function waits for the group's done
			late     atomic.Int64       // functions that ran although Go was called after done
			tried    = map[int]bool{}   // started by TryGo, which reported true
			refused  = map[int]bool{}   // offered to TryGo, which reported false
		)
		for i := 1; i <= tasks; i++ {
			raw := p.next()
			b := raw % behaviours
			useTryGo := raw >= 128 // the low bits choose the behaviour, as in inputs before TryGo
			if limit > 0 && (b == waitsForDone || b == startsAnother) {
				b = returnNil // with a limit, these can hold every slot: the owner's own deadlock
			}
			blocking = blocking || b == waitsForDone
			err := fmt.Errorf("function %d failed", i)
			panicValue := fmt.Sprintf("function %d panics", i)
			mu.Lock()
			switch b {
			case returnErr:
				errOf[i] = err
			case panics:
				panicOf[i] = panicValue
			}
			mu.Unlock()
			doneBefore := isClosed(g.Done())
			fn := func(done <-chan struct{}) error {
				mu.Lock()
				ran[i] = true
				mu.Unlock()
				if doneBefore {
					late.Add(1)
				}
				switch b {
				case returnErr:
					return err
				case panics:
					panic(panicValue)
				case waitsForDone:
					<-done
				case stops:
					g.Stop()
				case startsAnother:
					g.Go(func(<-chan struct{}) error { return nil })
				}
				return nil
			}
			switch {
			case !useTryGo:
				g.Go(fn)
			case g.TryGo(fn):
				mu.Lock()
				tried[i] = true
				mu.Unlock()
			default:
				mu.Lock()
				refused[i] = true
				mu.Unlock()
			}
			if i == parentCloses-1 {
				closeParent()
			}
		}
		if blocking {
			closeParent() // a function waits for done: something must close it
		}

		panicked, waitErr := waitFor(t, g)
		closeParent()
		if !isClosed(g.Done()) {
			t.Fatal("Done is open after Wait returned")
		}
		if n := late.Load(); n > 0 {
			t.Fatalf("%d functions ran although Go was called after the group was done", n)
		}
		mu.Lock()
		defer mu.Unlock()
		for i := range tried {
			if !ran[i] {
				t.Fatalf("TryGo reported function %d started, yet it never ran", i)
			}
		}
		for i := range refused {
			if ran[i] {
				t.Fatalf("TryGo reported function %d not started, yet it ran", i)
			}
		}
		var startedPanics []any
		var startedErrs []error
		for i := range ran {
			if v, ok := panicOf[i]; ok {
				startedPanics = append(startedPanics, v)
			}
			if err, ok := errOf[i]; ok {
				startedErrs = append(startedErrs, err)
			}
		}
		if panicked != nil {
			pe, ok := panicked.(*leaksafe.PanicError)
			if !ok {
				t.Fatalf("Wait panicked with %T %v, want a *leaksafe.PanicError", panicked, panicked)
			}
			if !slices.Contains(startedPanics, pe.Value) {
				t.Fatalf("Wait re-raised %v; the started functions panicked with %v", pe.Value, startedPanics)
			}
			if !strings.Contains(string(pe.Stack), "FuzzGroup") {
				t.Fatalf("the stack of the panic does not show the function that panicked:\n%s", pe.Stack)
			}
			return
		}
		if len(startedPanics) > 0 {
			t.Fatalf("started functions panicked with %v, yet Wait returned %v", startedPanics, waitErr)
		}
		switch {
		case len(startedErrs) == 0 && waitErr != nil:
			t.Fatalf("Wait returned %v, yet no function returned an error", waitErr)
		case len(startedErrs) > 0 && !slices.Contains(startedErrs, waitErr):
			t.Fatalf("Wait returned %v, want the first of %v", waitErr, startedErrs)
		}
	})
}

// FuzzForEach runs ForEach over a random input with random workers, where each call returns nil,
// fails, panics, or waits for its done, and the outer done may close at any point. It checks that
// ForEach returns, with the cause the contract gives; that no value is called twice and no call runs
// after it returns; that every value is called when nothing stops the work; and that nothing leaks.
func FuzzForEach(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{10, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{8, 2, 5, 3, 3, 0, 0, 2, 0, 0, 0})
	f.Add([]byte{6, 1, 0, 0, 0, 0, 3, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLeakCheck(t)
		p := &fuzzProgram{data: data}
		n := p.intn(32)
		workers := 1 + p.intn(5)
		closeAfter := p.intn(n + 2) // close the outer done once this many calls have started; 0: never

		const (
			returnNil = iota
			returnErr
			panics
			waitsForDone
			behaviours
		)
		behaviour := make([]int, n)
		for i := range behaviour {
			behaviour[i] = p.intn(behaviours + 3) // mostly returnNil
			if behaviour[i] >= behaviours {
				behaviour[i] = returnNil
			}
		}

		outer := make(chan struct{})
		var outerOnce sync.Once
		closeOuter := func() { outerOnce.Do(func() { close(outer) }) }
		in := make(chan int, n)
		for i := range n {
			in <- i
		}
		close(in)

		var (
			mu       sync.Mutex
			calls    = map[int]int{}
			started  atomic.Int64
			running  atomic.Int64
			returned atomic.Bool // ForEach has returned
			late     atomic.Int64
		)
		fn := func(done <-chan struct{}, v int) error {
			if returned.Load() {
				late.Add(1)
			}
			running.Add(1)
			defer running.Add(-1)
			mu.Lock()
			calls[v]++
			mu.Unlock()
			if started.Add(1) == int64(closeAfter) {
				closeOuter()
			}
			switch behaviour[v] {
			case returnErr:
				return fmt.Errorf("value %d failed", v)
			case panics:
				panic(fmt.Sprintf("value %d panics", v))
			case waitsForDone:
				closeOuter() // nothing else may close done: the owner's duty, not ForEach's
				<-done
			}
			return nil
		}

		panicked, err := forEach(t, outer, in, workers, fn)
		returned.Store(true)
		closeOuter()
		assert.Zero(t, running.Load(), "a call was still running when ForEach returned")

		mu.Lock()
		defer mu.Unlock()
		for v, c := range calls {
			assert.Equal(t, 1, c, "value %d called %d times", v, c)
		}
		calledWith := func(b int) bool {
			for v := range calls {
				if behaviour[v] == b {
					return true
				}
			}
			return false
		}
		switch {
		case panicked != nil:
			var pe *leaksafe.PanicError
			require.ErrorAs(t, panicked.(error), &pe)
			require.True(t, calledWith(panics), "panicked with %v, but no call panicked", pe.Value)
		case err == nil:
			assert.Len(t, calls, n, "every value is called when nothing stops the work")
			assert.False(t, calledWith(returnErr) || calledWith(panics))
		case errors.Is(err, leaksafe.ErrStopped):
			assert.False(t, calledWith(panics), "a panic is re-raised, whatever stopped the work")
		default:
			require.True(t, calledWith(returnErr), "returned %v, but no call failed", err)
			assert.Contains(t, err.Error(), "failed")
		}
		assert.Zero(t, late.Load(), "calls started after ForEach returned")
	})
}
