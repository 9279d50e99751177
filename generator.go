package leaksafe

import (
	"iter"
	"math/rand/v2"
	"slices"
)

// Generate starts one goroutine that sends values on out, in order, then ends. out holds up to 64
// values (as many as there are, at least one), so the consumer takes many per wake-up. Generate
// does not copy values: the caller must not change the slice until terminated closes. Ending,
// closing order and panics are as the package doc says.
func Generate[T any](done <-chan struct{}, values ...T) (out <-chan T, terminated <-chan struct{}) {
	ch := make(chan T, max(1, min(len(values), generateBuffer)))
	term := make(chan struct{})
	go labeled(func() {
		defer close(term)
		defer close(ch)
		for _, v := range values {
			if !send(done, ch, v) {
				return
			}
		}
	})()
	return ch, term
}

// generateBuffer is the most values that [Generate]'s output holds.
const generateBuffer = 64

// Repeat starts one goroutine that sends values on out in order, over and over, until done closes;
// it ends at once when values is empty. It never ends by itself: the owner must close done. Repeat
// keeps a copy of values, so the caller may reuse the slice. Ending, closing order and panics are
// as the package doc says.
func Repeat[T any](done <-chan struct{}, values ...T) (out <-chan T, terminated <-chan struct{}) {
	ch := make(chan T, 1)
	term := make(chan struct{})
	switch len(values) {
	case 0:
		go labeled(func() {
			close(ch)
			close(term)
		})()
	case 1:
		v := values[0] // one value needs no slice of its own
		go labeled(func() {
			defer close(term)
			defer close(ch)
			for send(done, ch, v) {
			}
		})()
	default:
		values := slices.Clone(values)
		go labeled(func() {
			defer close(term)
			defer close(ch)
			for {
				for _, v := range values {
					if !send(done, ch, v) {
						return
					}
				}
			}
		})()
	}
	return ch, term
}

// RepeatFunc starts one goroutine that calls fn and sends its result on out, over and over, until
// done closes; the owner must close done. fn runs at most one result ahead of the consumer (the
// one in out's slot) plus the call in progress. RepeatFunc panics if fn is nil. Ending, closing
// order and panics are as the package doc says.
func RepeatFunc[T any](
	done <-chan struct{}, fn func() T,
) (out <-chan T, terminated <-chan struct{}) {
	if fn == nil {
		panic("leaksafe: RepeatFunc: nil fn")
	}
	ch := make(chan T, 1)
	term := make(chan struct{})
	go labeled(func() {
		defer close(term)
		defer close(ch)
		for isOpen(done) {
			if !send(done, ch, fn()) {
				return
			}
		}
	})()
	return ch, term
}

// NewRandStream starts one goroutine that sends pseudo-random non-negative ints (math/rand/v2's
// top-level source, not for cryptography) on out until done closes. It never ends by itself: close
// done, or consume it with [Range], which closes a done of its own. Ending, closing order and
// panics are as the package doc says.
func NewRandStream(done <-chan struct{}) (out <-chan int, terminated <-chan struct{}) {
	return RepeatFunc(done, rand.Int)
}

// FromSeq starts one goroutine that ranges over seq and sends each value it yields on out. Once
// done is seen closed, yield returns false, and seq is not called at all if done is already
// closed. out holds one value. FromSeq panics if seq is nil. Ending, closing order and panics are
// as the package doc says.
func FromSeq[T any](
	done <-chan struct{}, seq iter.Seq[T],
) (out <-chan T, terminated <-chan struct{}) {
	if seq == nil {
		panic("leaksafe: FromSeq: nil seq")
	}
	ch := make(chan T, 1)
	term := make(chan struct{})
	go labeled(func() {
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
	})()
	return ch, term
}

// FromSeq2 is [FromSeq] for a sequence of values and errors: each pair goes on out as a [Result],
// so an error travels with the values and the consumer decides whether to stop; an error does not
// end the goroutine, since seq decides whether to go on. FromSeq2 panics if seq is nil. Ending,
// closing order and panics are as the package doc says.
func FromSeq2[T any](
	done <-chan struct{}, seq iter.Seq2[T, error],
) (out <-chan Result[T], terminated <-chan struct{}) {
	if seq == nil {
		panic("leaksafe: FromSeq2: nil seq")
	}
	ch := make(chan Result[T], 1)
	term := make(chan struct{})
	go labeled(func() {
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
	})()
	return ch, term
}
