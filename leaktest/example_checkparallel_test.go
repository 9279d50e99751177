package leaktest_test

import (
	"fmt"
	"testing"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/leaktest"
)

// testFirstEven and testSum are parallel tests as they read in a _test.go file of your package,
// where each starts
//
//	func TestFirstEven(t *testing.T) {
//		t.Parallel()
//
// CheckParallel follows the goroutines that its test starts, so the tests running beside it do not
// disturb it.
func testFirstEven(t testing.TB) {
	leaktest.CheckParallel(t)
	for n := range leaksafe.Range(nil, leaksafe.NewRandStream) {
		if n%2 == 0 {
			break // Range stops the generator and waits for it: nothing is left for the check
		}
	}
}

func testSum(t testing.TB) {
	leaktest.CheckParallel(t)
	nums, terminated := leaksafe.Generate(nil, 1, 2, 3)
	sum := 0
	for n := range nums {
		sum += n
	}
	<-terminated // the generator has exited: nothing is left for the check
	if sum != 6 {
		t.Errorf("sum %d, want 6", sum)
	}
}

// CheckParallel checks tests that run at the same time. Here runTest runs testFirstEven and testSum
// at the same time, as go test runs parallel tests.
func ExampleCheckParallel() {
	fmt.Println(runTest(testFirstEven, testSum))
	// Output: PASS
}
