// Command seed runs the two programs that leaksafe grew from, doWork and newRandStream, written
// with leaksafe, and prints the number of goroutines before and after each to show that nothing is
// left running.
//
//	go run ./examples/seed
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/leaksafe/leaksafe"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run() error {
	if err := doWork(); err != nil {
		return err
	}
	fmt.Println()
	return randStream()
}

// doWork starts a worker on a nil input, which would block forever, and cancels it after a moment.
func doWork() error {
	before := runtime.NumGoroutine()
	fmt.Printf("doWork: %d goroutines before\n", before)

	done := make(chan struct{})
	terminated := leaksafe.DoWork(done, nil, func(s string) { fmt.Println(s) })
	go func() {
		defer close(done)
		time.Sleep(500 * time.Millisecond) // cancel the operation after a moment
		fmt.Println("Canceling doWork goroutine...")
	}()
	fmt.Printf("doWork: %d goroutines while it runs\n", runtime.NumGoroutine())
	<-terminated
	fmt.Println("doWork exited.")
	return settled("doWork", before)
}

// randStream reads three values from an endless generator, then stops it and waits for it.
func randStream() error {
	before := runtime.NumGoroutine()
	fmt.Printf("newRandStream: %d goroutines before\n", before)

	done := make(chan struct{})
	randStream, terminated := leaksafe.NewRandStream(done)
	fmt.Println("3 outputs here")
	for i := range 3 {
		fmt.Printf("%d: %d\n", i, <-randStream)
	}
	fmt.Printf("newRandStream: %d goroutines while it runs\n", runtime.NumGoroutine())
	close(done)
	<-terminated // no time.Sleep: when this returns, the generator has exited
	fmt.Println("newRandStream exited.")
	return settled("newRandStream", before)
}

// settled prints the goroutine count after a program and reports an error if it is higher than
// before. A goroutine that has closed terminated may still be on its way out of the scheduler, so
// the count is read a few times before it is judged.
func settled(name string, before int) error {
	after := runtime.NumGoroutine()
	for i := 0; after > before && i < 100; i++ {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
		after = runtime.NumGoroutine()
	}
	fmt.Printf("%s: %d goroutines after\n", name, after)
	if after > before {
		return fmt.Errorf("%s left %d goroutines running", name, after-before)
	}
	return nil
}
