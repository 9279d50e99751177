package leaktest_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/leaksafe/leaksafe/leaktest"
)

// BenchmarkParallelChecks measures n checks of CheckParallel that end at the same time, each after
// a test that leaves nothing behind, beside m goroutines parked on a channel that the benchmark
// holds (reachable: not leaks). An iteration is the n checks; its time is what the slowest waits.
func BenchmarkParallelChecks(b *testing.B) {
	for _, m := range []int{0, 10_000} {
		for _, n := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("checks=%d/parked=%d", n, m), func(b *testing.B) {
				release := make(chan struct{})
				var parked sync.WaitGroup
				for range m {
					parked.Go(func() { <-release })
				}
				defer func() {
					close(release)
					parked.Wait()
				}()
				for b.Loop() {
					var checks sync.WaitGroup
					reports := make([]string, n)
					for i := range n {
						checks.Go(func() {
							rec := &recorder{}
							leaktest.CheckParallel(rec)
							done := make(chan struct{})
							exited := make(chan struct{})
							go func() { defer close(exited); <-done }()
							close(done)
							<-exited
							reports[i] = rec.finish()
						})
					}
					checks.Wait()
					for _, r := range reports {
						if r != "" {
							b.Fatalf("a clean test was reported:\n%s", r)
						}
					}
				}
			})
		}
	}
}
