package leaksafe_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/leaksafe/leaksafe"
)

func ExampleParallelMap() {
	nums, t1 := leaksafe.Generate(nil, 1, 2, 3, 4, 5)
	squares, t2 := leaksafe.ParallelMap(nil, nums, 3, func(n int) int { return n * n })
	var got []int
	for v := range squares {
		got = append(got, v)
	}
	<-leaksafe.All(t1, t2) // the workers ended when nums closed
	slices.Sort(got)       // ParallelMap delivers in no fixed order
	fmt.Println(got)
	// Output: [1 4 9 16 25]
}

func ExampleParallelMapOrdered() {
	words, t1 := leaksafe.Generate(nil, "one", "two", "three", "four")
	lengths, t2 := leaksafe.ParallelMapOrdered(nil, words, 4, func(s string) int { return len(s) })
	for n := range lengths { // in the order of words, whatever order the workers finish in
		fmt.Print(n, " ")
	}
	fmt.Println()
	<-leaksafe.All(t1, t2)
	// Output: 3 3 5 4
}

// Errors travel as values; the consumer stops at the first one by breaking out of Range, which stops
// the generator and the workers and waits for them.
func ExampleResult() {
	parse := func(done <-chan struct{}) (<-chan leaksafe.Result[int], <-chan struct{}) {
		texts, t1 := leaksafe.Generate(done, "1", "2", "x", "4")
		nums, t2 := leaksafe.ParallelMapOrdered(done, texts, 2, func(s string) leaksafe.Result[int] {
			return leaksafe.Try(strconv.Atoi(s))
		})
		return nums, leaksafe.All(t1, t2)
	}
	for r := range leaksafe.Range(nil, parse) {
		if r.Err != nil {
			fmt.Println("error:", r.Err)
			break
		}
		fmt.Println(r.Value)
	}
	// Output:
	// 1
	// 2
	// error: strconv.Atoi: parsing "x": invalid syntax
}

func ExampleTry() {
	r := leaksafe.Try(strconv.Atoi("42"))
	fmt.Println(r.Value, r.Err)
	r = leaksafe.Try(strconv.Atoi("forty-two"))
	fmt.Println(r.Value, r.Err != nil)
	// Output:
	// 42 <nil>
	// 0 true
}

func ExampleGroup() {
	g := leaksafe.NewGroup(nil)
	g.Go(func(done <-chan struct{}) error {
		<-done // runs until the group is stopped
		return nil
	})
	g.Go(func(<-chan struct{}) error {
		return errors.New("disk full") // the first error stops the group
	})
	fmt.Println(g.Wait()) // waits for both
	// Output: disk full
}

func ExampleNewGroup() {
	parent := make(chan struct{})
	g := leaksafe.NewGroup(parent)
	g.Go(func(done <-chan struct{}) error {
		<-done
		return nil
	})
	close(parent) // closing the parent closes the group's done
	fmt.Println(g.Wait())
	// Output: <nil>
}

func ExampleGroup_SetLimit() {
	g := leaksafe.NewGroup(nil)
	g.SetLimit(2) // before the first Go
	var running, peak atomic.Int64
	for range 10 {
		g.Go(func(<-chan struct{}) error {
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			running.Add(-1)
			return nil
		})
	}
	_ = g.Wait()
	fmt.Println(peak.Load() <= 2)
	// Output: true
}

func ExampleGroup_Go() {
	g := leaksafe.NewGroup(nil)
	results := make([]int, 3)
	for i := range results {
		g.Go(func(<-chan struct{}) error {
			results[i] = i * i // each function writes its own element
			return nil
		})
	}
	if err := g.Wait(); err != nil { // Wait synchronizes: results is complete
		fmt.Println(err)
	}
	fmt.Println(results)
	// Output: [0 1 4]
}

func ExampleGroup_Done() {
	g := leaksafe.NewGroup(nil)
	nums, terminated := leaksafe.Repeat(g.Done(), 1) // a stage owned by the group
	g.Go(func(done <-chan struct{}) error {
		<-terminated // the stage ends when the group is done
		return nil
	})
	fmt.Println(<-nums)
	g.Stop()
	fmt.Println(g.Wait())
	// Output:
	// 1
	// <nil>
}

func ExampleGroup_Stop() {
	g := leaksafe.NewGroup(nil)
	g.Go(func(done <-chan struct{}) error {
		<-done
		fmt.Println("told to stop")
		return nil
	})
	g.Stop() // does not wait
	_ = g.Wait()
	// Output: told to stop
}

func ExampleGroup_Wait() {
	g := leaksafe.NewGroup(nil)
	g.Go(func(<-chan struct{}) error { panic("bad index") })
	defer func() {
		pe := recover().(*leaksafe.PanicError) // Wait re-raised the panic in this goroutine
		fmt.Println("recovered:", pe.Value)
	}()
	_ = g.Wait()
	// Output: recovered: bad index
}

// A function that calls runtime.Goexit, as t.FailNow does, neither returns nor panics: Wait does not
// hang on it, and returns ErrGoexit.
func ExampleGroup_Wait_goexit() {
	g := leaksafe.NewGroup(nil)
	g.Go(func(done <-chan struct{}) error {
		<-done // stopped by the Goexit below, as by an error
		return nil
	})
	g.Go(func(<-chan struct{}) error {
		runtime.Goexit()
		return nil
	})
	err := g.Wait()
	fmt.Println(errors.Is(err, leaksafe.ErrGoexit))
	fmt.Println(err)
	// Output:
	// true
	// leaksafe: a function called runtime.Goexit
}

func ExamplePanicError() {
	errCorrupt := errors.New("corrupt block")
	g := leaksafe.NewGroup(nil)
	g.Go(func(<-chan struct{}) error { panic(errCorrupt) })
	defer func() {
		err := recover().(error)
		var pe *leaksafe.PanicError
		fmt.Println(errors.As(err, &pe), errors.Is(err, errCorrupt), len(pe.Stack) > 0)
	}()
	_ = g.Wait()
	// Output: true true true
}

func ExamplePanicError_Error() {
	g := leaksafe.NewGroup(nil)
	g.Go(func(<-chan struct{}) error { panic("bad index") })
	defer func() {
		pe := recover().(*leaksafe.PanicError)
		first, _, _ := strings.Cut(pe.Error(), "\n") // then a blank line and the goroutine's stack
		fmt.Println(first)
	}()
	_ = g.Wait()
	// Output: panic: bad index
}

func ExamplePanicError_Unwrap() {
	g := leaksafe.NewGroup(nil)
	g.Go(func(<-chan struct{}) error { panic(io.ErrUnexpectedEOF) })
	defer func() {
		pe := recover().(*leaksafe.PanicError)
		fmt.Println(pe.Unwrap()) // the panic value, which was an error
	}()
	_ = g.Wait()
	// Output: unexpected EOF
}

func ExampleFirst() {
	replica := func(name string, latency time.Duration) func(done <-chan struct{}) string {
		return func(done <-chan struct{}) string {
			timer := time.NewTimer(latency)
			defer timer.Stop()
			select {
			case <-timer.C:
				return name
			case <-done:
				return "" // abandoned: another replica answered first
			}
		}
	}
	answer, ok := leaksafe.First(nil,
		replica("replica a", time.Hour),
		replica("replica b", time.Millisecond),
		replica("replica c", time.Hour),
	)
	fmt.Println(answer, ok) // every replica has returned by now
	// Output: replica b true
}

func ExampleFirst_cancel() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	wait := func(done <-chan struct{}) int {
		<-done // never answers, but stops when told to
		return 1
	}
	n, ok := leaksafe.First(ctx.Done(), wait, wait)
	fmt.Println(n, ok) // the context ended first: the zero value and false
	// Output: 0 false
}
