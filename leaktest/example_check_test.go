package leaktest_test

import (
	"fmt"
	"testing"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/leaktest"
)

// testSquares is a test as it reads in a _test.go file of your package, where it starts
//
//	func TestSquares(t *testing.T) {
//
// Check comes first: it ignores what runs already, and checks once the test and its cleanups have
// finished, so a cleanup that stops the test's goroutines runs before the check.
func testSquares(t testing.TB) {
	leaktest.Check(t)
	done := make(chan struct{})
	nums, t1 := leaksafe.Generate(done, 1, 2, 3)
	squares, t2 := leaksafe.Map(done, nums, func(n int) int { return n * n })
	t.Cleanup(func() {
		close(done)
		<-leaksafe.All(t1, t2) // without this cleanup, Check fails the test
	})
	if got := <-squares; got != 1 {
		t.Errorf("got %d, want 1", got)
	}
}

// Check reports a leak in the test that caused it, for tests that do not run in parallel. Here
// runTest runs testSquares as go test runs TestSquares.
func ExampleCheck() {
	fmt.Println(runTest(testSquares))
	// Output: PASS
}
