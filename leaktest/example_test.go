package leaktest_test

import (
	"fmt"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/leaktest"
)

// VerifyTestMain goes in TestMain, in one _test.go file of each package:
//
//	func TestMain(m *testing.M) {
//		leaktest.VerifyTestMain(m)
//	}
//
// Once every test has passed, it runs what Find runs here, and fails the test binary if Find reports
// a goroutine.
func ExampleVerifyTestMain() {
	ignore := leaktest.IgnoreCurrent() // here only: the goroutines of the running example
	done := make(chan struct{})
	nums, terminated := leaksafe.Repeat(done, 1, 2, 3)
	fmt.Println(<-nums)
	close(done)
	<-terminated // stopped and waited for: nothing is left behind
	fmt.Println(leaktest.Find(ignore))
	// Output:
	// 1
	// <nil>
}

// Find gives the verdict of VerifyTestMain as an error: nil once a pipeline has been stopped and
// waited for.
func ExampleFind() {
	ignore := leaktest.IgnoreCurrent() // what runs already, such as the goroutine that reads the output
	done := make(chan struct{})
	nums, t1 := leaksafe.Repeat(done, 1, 2, 3)
	squares, t2 := leaksafe.Map(done, nums, func(n int) int { return n * n })
	fmt.Println(<-squares, <-squares, <-squares)
	close(done)
	<-leaksafe.All(t1, t2) // the owner stops both stages and waits until they have exited
	fmt.Println(leaktest.Find(ignore))
	// Output:
	// 1 4 9
	// <nil>
}

// A goroutine that is still running is reported with its stack and the line that started it.
func ExampleFind_leak() {
	ignore := leaktest.IgnoreCurrent()
	release := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		<-release
	}()
	err := leaktest.Find(ignore) // waits while goleak retries, then reports the goroutine
	fmt.Println(strings.Contains(err.Error(),
		"created by go ExampleFind_leak.func1() in ExampleFind_leak at example_test.go:"))
	close(release)
	<-exited // released: the example leaves nothing behind
	// Output: true
}

// A report names each site in a line and says where its goroutines block; FullStacks (or go test
// -v) adds their stacks. A Map stage left running is named by the line that called Map.
func ExampleFullStacks() {
	ignore := leaktest.IgnoreCurrent()
	done := make(chan struct{})
	_, terminated := leaksafe.Map(done, make(chan int), func(v int) int { return v })
	short := leaktest.Find(ignore).Error()
	full := leaktest.Find(ignore, leaktest.FullStacks()).Error()
	close(done)
	<-terminated // stopped and waited for: the example leaves nothing behind
	fmt.Println(strings.Contains(short, "created by your code at example_test.go:"))
	fmt.Println(strings.Contains(full, "\ngoroutine ")) // without the option, only under -v
	// Output:
	// true
	// true
}

// ProfileAvailable tells whether this test binary can use the runtime's goroutine leak profile: Go
// 1.27, or Go 1.26 built with GOEXPERIMENT=goroutineleakprofile. Without it, leaktest checks with
// goleak alone and says so in the test log.
func ExampleProfileAvailable() {
	fmt.Println(leaktest.ProfileAvailable() == (pprof.Lookup("goroutineleak") != nil))
	// Output: true
}

// IgnoreTopFunction leaves out goroutines whose stack starts in a function that is known to run
// for the life of the process, such as a library's background worker.
func ExampleIgnoreTopFunction() {
	ignore := leaktest.IgnoreCurrent()
	release := make(chan struct{})
	exited := make(chan struct{})
	go backgroundWorker(release, exited)
	// The fully qualified name, as in a stack trace: "<your package's import path>.backgroundWorker".
	worker := runtime.FuncForPC(reflect.ValueOf(backgroundWorker).Pointer()).Name()
	err := leaktest.Find(ignore, leaktest.IgnoreTopFunction(worker))
	fmt.Println(err)
	close(release)
	<-exited
	// Output: <nil>
}

// IgnoreAnyFunction leaves out goroutines with the function anywhere on their stack.
func ExampleIgnoreAnyFunction() {
	ignore := leaktest.IgnoreCurrent()
	release := make(chan struct{})
	exited := make(chan struct{})
	go func() { backgroundWorker(release, exited) }()
	worker := runtime.FuncForPC(reflect.ValueOf(backgroundWorker).Pointer()).Name()
	err := leaktest.Find(ignore, leaktest.IgnoreAnyFunction(worker))
	fmt.Println(err)
	close(release)
	<-exited
	// Output: <nil>
}

// IgnoreCurrent leaves out every goroutine that is running when it is called, so that a check sees
// only what starts after it.
func ExampleIgnoreCurrent() {
	release := make(chan struct{})
	exited := make(chan struct{})
	go backgroundWorker(release, exited) // started before IgnoreCurrent: not reported
	ignore := leaktest.IgnoreCurrent()
	fmt.Println(leaktest.Find(ignore))
	close(release)
	<-exited
	// Output: <nil>
}

// backgroundWorker stands for a goroutine that runs until release is closed.
//
//go:noinline
func backgroundWorker(release <-chan struct{}, exited chan<- struct{}) {
	defer close(exited)
	<-release
}
