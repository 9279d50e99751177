package health_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/health"
)

func ExampleDoWorkWithPulse() {
	jobs := make(chan string)
	heartbeat, terminated := health.DoWorkWithPulse(nil, jobs, 10*time.Millisecond, func(job string) {
		fmt.Println("working on", job)
	})
	<-heartbeat // no work yet, and still a pulse: the worker is alive
	fmt.Println("alive while idle")
	jobs <- "report"
	close(jobs) // the worker finishes the job it holds, then ends
	<-terminated
	// Output:
	// alive while idle
	// working on report
}

func ExampleDoWorkWithHeartbeat() {
	words, t1 := leaksafe.Generate(nil, "a", "b", "c")
	results := make(chan string)
	heartbeat, t2 := health.DoWorkWithHeartbeat(nil, words, func(s string) {
		results <- strings.ToUpper(s)
	})
	for range 3 {
		<-heartbeat // one pulse as each unit of work begins
		fmt.Println("began, then got", <-results)
	}
	<-leaksafe.All(t1, t2) // both ended when the words ran out
	// Output:
	// began, then got A
	// began, then got B
	// began, then got C
}

// A Ward is a goroutine that can be started afresh with its own done: here, a worker that pulses
// while it waits for jobs.
func ExampleWard() {
	jobs := make(chan int)
	var worker health.Ward = func(done <-chan struct{}, pulseInterval time.Duration) (<-chan struct{}, <-chan struct{}) {
		return health.DoWorkWithPulse(done, jobs, pulseInterval, func(n int) { fmt.Println("job", n) })
	}
	done := make(chan struct{})
	heartbeat, terminated := worker(done, 10*time.Millisecond)
	<-heartbeat
	fmt.Println("healthy")
	close(done) // the ward stops when its done closes
	<-terminated
	// Output: healthy
}

// The first start of the ward hangs on its job and falls silent; the steward gives up on it after
// timeout and starts a fresh ward, which takes the next job.
func ExampleSteward() {
	jobs := make(chan string)
	results := make(chan string)
	starts := 0 // ward is only ever called from the steward's goroutine
	ward := func(done <-chan struct{}, pulseInterval time.Duration) (<-chan struct{}, <-chan struct{}) {
		starts++
		start := starts
		return health.DoWorkWithPulse(done, jobs, pulseInterval, func(job string) {
			if start == 1 {
				<-done // hangs, and so stops pulsing, until the steward closes its done
				return
			}
			results <- fmt.Sprintf("%s done by start %d", job, start)
		})
	}
	steward := health.Steward(250*time.Millisecond, ward, func(n int) { fmt.Println("restart", n) })

	done := make(chan struct{})
	_, terminated := steward(done, time.Second) // the steward's own heartbeat is not read here
	jobs <- "job 1"                             // taken by the first start, which hangs on it
	jobs <- "job 2"                             // taken by the fresh start, after the restart
	fmt.Println(<-results)
	close(done) // stops the steward and its ward
	<-terminated
	// Output:
	// restart 1
	// job 2 done by start 2
}

// A steward is itself a ward, so stewards stack: the outer one restarts the inner one if it ever
// falls silent, and closing the outer done stops them all.
func ExampleSteward_stack() {
	jobs := make(chan int)
	squares := make(chan int)
	ward := func(done <-chan struct{}, pulseInterval time.Duration) (<-chan struct{}, <-chan struct{}) {
		return health.DoWorkWithPulse(done, jobs, pulseInterval, func(n int) { squares <- n * n })
	}
	inner := health.Steward(time.Second, ward, nil)
	outer := health.Steward(time.Minute, inner, nil)
	done := make(chan struct{})
	_, terminated := outer(done, time.Hour)
	for n := range 3 {
		jobs <- n
		fmt.Println(<-squares)
	}
	close(done)
	<-terminated // both stewards and the ward have ended
	// Output:
	// 0
	// 1
	// 4
}
