package leaksafe_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
)

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
