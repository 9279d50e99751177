package leaksafe

import (
	"iter"
	"math/rand/v2"
	"slices"
)

// Generate starts one goroutine that sends each of values on out, in order, then closes out.
//
// The goroutine ends when every value has been sent or when done closes, whichever comes first. It
// closes out, then terminated. The owner either receives every value or closes done.
//
// out holds up to 64 values (as many as there are values, at least one): the values already exist, so
// Generate hands them over many per wake-up of the consumer, and the stages after it keep that
// capacity. Sends wait for room and give up when done closes; once done is seen closed, no further
// value is sent. Generate with no values closes out at once.
//
// Generate does not copy values (a slice of a million values is not copied): its goroutine reads the
// slice while it runs, so the caller must not change it until terminated closes.
func Generate[T any](done <-chan struct{}, values ...T) (out <-chan T, terminated <-chan struct{}) {
	ch := make(chan T, max(1, min(len(values), generateBuffer)))
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(ch)
		for _, v := range values {
			if !send(done, ch, v) {
				return
			}
		}
	}()
	return ch, term
}

// generateBuffer is the most values that [Generate]'s output holds.
const generateBuffer = 64

// Repeat starts one goroutine that sends values on out in order, over and over, until done closes.
//
// The goroutine ends only when done closes (or at once when values is empty). It then closes out,
// then terminated. The owner must close done: with a nil done and at least one value, the goroutine
// never ends.
//
// out holds at most one value. Sends wait for the consumer and give up when done closes. Repeat
// keeps a copy of values, so the caller may change or reuse the slice once Repeat returns.
func Repeat[T any](done <-chan struct{}, values ...T) (out <-chan T, terminated <-chan struct{}) {
	ch := make(chan T, 1)
	term := make(chan struct{})
	switch len(values) {
	case 0:
		go func() {
			close(ch)
			close(term)
		}()
	case 1:
		v := values[0] // one value needs no slice of its own
		go func() {
			defer close(term)
			defer close(ch)
			for send(done, ch, v) {
			}
		}()
	default:
		values := slices.Clone(values)
		go func() {
			defer close(term)
			defer close(ch)
			for {
				for _, v := range values {
					if !send(done, ch, v) {
						return
					}
				}
			}
		}()
	}
	return ch, term
}

// RepeatFunc starts one goroutine that calls fn and sends its result on out, over and over, until
// done closes.
//
// The goroutine ends only when done closes. It then closes out, then terminated. The owner must close
// done: with a nil done, the goroutine never ends. fn is called again only after its previous result
// has been sent on out, whose one slot holds it until the consumer takes it: so fn runs at most one
// result ahead of the consumer, plus the call in progress. fn is never called after done is seen
// closed.
//
// RepeatFunc panics if fn is nil. fn must not panic: a panic in fn is not recovered and crashes the
// program.
func RepeatFunc[T any](done <-chan struct{}, fn func() T) (out <-chan T, terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: RepeatFunc: nil fn")
	}
	ch := make(chan T, 1)
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(ch)
		for isOpen(done) {
			if !send(done, ch, fn()) {
				return
			}
		}
	}()
	return ch, term
}

// NewRandStream starts one goroutine that sends pseudo-random non-negative ints on out until done
// closes.
//
// The goroutine ends only when done closes. It then closes out, then terminated. The owner must close
// done, or consume it with [Range], which closes a done of its own. The numbers come from the
// top-level source of math/rand/v2, which is safe for concurrent use and not for cryptography.
func NewRandStream(done <-chan struct{}) (out <-chan int, terminated <-chan struct{}) {
	return RepeatFunc(done, rand.Int)
}

// FromSeq starts one goroutine that ranges over seq and sends each value it yields on out.
//
// The goroutine ends when seq returns or when done closes. Once done is seen closed, yield returns
// false, so a well-behaved iterator stops at once; seq is not called at all if done is already
// closed. The goroutine then closes out, then terminated.
//
// out holds at most one value. FromSeq panics if seq is nil. seq must not panic and must stop when
// yield returns false, as every iterator must.
func FromSeq[T any](done <-chan struct{}, seq iter.Seq[T]) (out <-chan T, terminated <-chan struct{}) {
	if seq == nil {
		panic("leaksafe: FromSeq: nil seq")
	}
	ch := make(chan T, 1)
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(ch)
		if !isOpen(done) {
			return
		}
		for v := range seq {
			if !send(done, ch, v) {
				return
			}
		}
	}()
	return ch, term
}

// FromSeq2 starts one goroutine that ranges over seq and sends each pair it yields on out as a
// [Result]: the value as Value, the error as Err. An error travels in the stream with the values,
// so the consumer sees where it came and decides whether to stop.
//
// The goroutine ends when seq returns or when done closes; an error does not end it, since seq
// decides whether to go on after one. Once done is seen closed, yield returns false, so a
// well-behaved iterator stops at once; seq is not called at all if done is already closed. The
// goroutine then closes out, then terminated.
//
// out holds one value. FromSeq2 panics if seq is nil. seq must not panic and must stop when yield
// returns false, as every iterator must.
func FromSeq2[T any](done <-chan struct{}, seq iter.Seq2[T, error]) (out <-chan Result[T], terminated <-chan struct{}) {
	if seq == nil {
		panic("leaksafe: FromSeq2: nil seq")
	}
	ch := make(chan Result[T], 1)
	term := make(chan struct{})
	go func() {
		defer close(term)
		defer close(ch)
		if !isOpen(done) {
			return
		}
		for v, err := range seq {
			if !send(done, ch, Result[T]{Value: v, Err: err}) {
				return
			}
		}
	}()
	return ch, term
}
