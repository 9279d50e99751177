package unguarded

import "context"

type runner struct{ results chan int }

// C: watches ctx, but sends on results bare.
func (r *runner) run(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	default:
	}
	r.results <- 1 // want `the send on r.results blocks forever if nobody receives any more`
}

// No C: the send is in the select.
func (r *runner) runGuarded(ctx context.Context) {
	select {
	case <-ctx.Done():
	case r.results <- 1:
	}
}
