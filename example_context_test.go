package leaksafe_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/leaksafe/leaksafe"
)

// lookup stands in for a request: it answers n*n at once, except for 3, which hangs until its
// context is cancelled.
func lookup(ctx context.Context, n int) (int, error) {
	if n == 3 {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return n * n, nil
}

// Inside a Source, WithDone turns the pipeline's done into a context for the work: breaking out of
// the loop cancels the lookup of 3, which would otherwise hang, and Range returns at once.
func ExampleWithDone() {
	squares := func(done <-chan struct{}) (<-chan leaksafe.Result[int], <-chan struct{}) {
		ctx := leaksafe.WithDone(context.Background(), done) // cancelled when the loop ends
		nums, t1 := leaksafe.Generate(done, 1, 2, 3, 4)
		out, t2 := leaksafe.ParallelMapOrdered(done, nums, 2, func(n int) leaksafe.Result[int] {
			return leaksafe.Try(lookup(ctx, n))
		})
		return out, leaksafe.All(t1, t2)
	}
	for r := range leaksafe.Range(nil, squares) {
		fmt.Println(r.Value)
		if r.Value == 4 {
			break // the lookup of 3 is still running: its context is cancelled, and Range waits for it
		}
	}
	fmt.Println("stopped")
	// Output:
	// 1
	// 4
	// stopped
}

func ExampleForEach() {
	lines, terminated := leaksafe.Generate(nil, "1", "2", "3", "4")
	var sum atomic.Int64
	err := leaksafe.ForEach(nil, lines, 2, func(done <-chan struct{}, s string) error {
		n, err := strconv.Atoi(s)
		sum.Add(int64(n))
		return err
	})
	<-terminated // ForEach has returned: every call of fn has too
	fmt.Println(sum.Load(), err)
	// Output: 10 <nil>
}

// The first error closes the done channel of the calls still running, and ForEach returns it once
// they have returned. The lookup of 3 hangs until then.
func ExampleForEach_error() {
	done := make(chan struct{})
	defer close(done) // stops the generator, whose values ForEach does not drain
	nums, _ := leaksafe.Generate(done, 3, 1, 2, -1, 5, 6)
	err := leaksafe.ForEach(done, nums, 2, func(done <-chan struct{}, n int) error {
		if n < 0 {
			return fmt.Errorf("negative: %d", n)
		}
		_, err := lookup(leaksafe.WithDone(context.Background(), done), n)
		return err
	})
	fmt.Println(err)
	// Output: negative: -1
}

func ExampleNewGroupContext() {
	g, ctx := leaksafe.NewGroupContext(context.Background())
	for _, n := range []int{2, 3, -1} {
		g.Go(func(<-chan struct{}) error {
			if n < 0 {
				return errors.New("bad input")
			}
			_, err := lookup(ctx, n) // cancelled by the first error: 3 stops hanging
			return err
		})
	}
	fmt.Println(g.Wait())
	fmt.Println(ctx.Err()) // the context ends with the group
	// Output:
	// bad input
	// context canceled
}

func ExampleGroup_TryGo() {
	g := leaksafe.NewGroup(nil)
	g.SetLimit(1)
	release := make(chan struct{})
	fmt.Println(g.TryGo(func(<-chan struct{}) error { <-release; return nil }))
	fmt.Println(g.TryGo(func(<-chan struct{}) error { return nil })) // at the limit: not started
	close(release)
	fmt.Println(g.Wait())
	// Output:
	// true
	// false
	// <nil>
}

// Hedged requests: a replica that fails fast does not win over a healthy one; the slow one is told
// to stop, and FirstOK waits for it.
func ExampleFirstOK() {
	replica := func(answer int, err error) func(done <-chan struct{}) (int, error) {
		return func(done <-chan struct{}) (int, error) {
			if err != nil {
				return 0, err
			}
			return lookup(leaksafe.WithDone(context.Background(), done), answer)
		}
	}
	v, err := leaksafe.FirstOK(nil, replica(0, errors.New("unavailable")), replica(3, nil), replica(2, nil))
	fmt.Println(v, err)

	_, err = leaksafe.FirstOK(nil, replica(0, errors.New("a down")), replica(0, errors.New("b down")))
	fmt.Println(err)
	// Output:
	// 4 <nil>
	// a down
	// b down
}

// A blocking call that done cut short returns an error that matches ErrStopped.
func ExampleForEach_stopped() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := leaksafe.ForEach(ctx.Done(), make(chan int), 1, func(<-chan struct{}, int) error { return nil })
	fmt.Println(errors.Is(err, leaksafe.ErrStopped))
	// Output: true
}
