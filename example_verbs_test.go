package leaksafe_test

import (
	"bufio"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/leaksafe/leaksafe"
)

// FilterMap parses and skips in one stage: a line that is not a number is dropped.
func ExampleFilterMap() {
	lines, t1 := leaksafe.Generate(nil, "3", "four", "5", "", "6")
	nums, t2 := leaksafe.FilterMap(nil, lines, func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil
	})
	for n := range nums { // nums closes after lines does
		fmt.Println(n)
	}
	<-leaksafe.All(t1, t2)
	// Output:
	// 3
	// 5
	// 6
}

// FlatMap with slices.Values unbatches a stream of slices.
func ExampleFlatMap() {
	batches, t1 := leaksafe.Generate(nil, []string{"a", "b"}, []string{}, []string{"c"})
	items, t2 := leaksafe.FlatMap(nil, batches, slices.Values)
	for s := range items {
		fmt.Print(s, " ")
	}
	fmt.Println()
	<-leaksafe.All(t1, t2)
	// Output: a b c
}

// An endless inner sequence is stopped when done closes: its yield returns false.
func ExampleFlatMap_cancel() {
	done := make(chan struct{})
	words, t1 := leaksafe.Generate(done, "ho")
	echo, t2 := leaksafe.FlatMap(done, words, func(w string) iter.Seq[string] {
		return func(yield func(string) bool) {
			for yield(w) { // forever, until yield returns false
			}
			fmt.Println("echo stopped")
		}
	})
	fmt.Println(<-echo, <-echo, <-echo)
	close(done) // stops the echo and both goroutines
	<-leaksafe.All(t1, t2)
	// Output:
	// ho ho ho
	// echo stopped
}

// Partition splits a stream in two. Both outputs must be read (or done closed): an unread output
// stalls the other.
func ExamplePartition() {
	nums, t1 := leaksafe.Generate(nil, 1, 2, 3, 4, 5, 6)
	evens, odds, t2 := leaksafe.Partition(nil, nums, func(n int) bool { return n%2 == 0 })
	oddSum := make(chan int, 1)
	go func() { // reads odds while the loop below reads evens; ends when odds closes
		sum := 0
		for n := range odds {
			sum += n
		}
		oddSum <- sum
	}()
	for n := range evens {
		fmt.Println("even:", n)
	}
	fmt.Println("sum of odds:", <-oddSum)
	<-leaksafe.All(t1, t2)
	// Output:
	// even: 2
	// even: 4
	// even: 6
	// sum of odds: 9
}

// FromSeq2 carries a sequence's errors in the stream, here the error of a bufio.Scanner that met a
// line longer than its buffer.
func ExampleFromSeq2() {
	text := "short\n" + strings.Repeat("x", 100) + "\nnever read\n"
	lines := func(yield func(string, error) bool) {
		sc := bufio.NewScanner(strings.NewReader(text))
		sc.Buffer(nil, 16)
		for sc.Scan() {
			if !yield(sc.Text(), nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield("", err)
		}
	}
	out, terminated := leaksafe.FromSeq2(nil, lines)
	for r := range out {
		if r.Err != nil {
			fmt.Println("error:", r.Err)
			continue
		}
		fmt.Println("line:", r.Value)
	}
	<-terminated // the sequence returned, so the goroutine ended
	// Output:
	// line: short
	// error: bufio.Scanner: token too long
}

// Reduce folds a stream in the caller's goroutine; it starts nothing of its own.
func ExampleReduce() {
	nums, terminated := leaksafe.Generate(nil, 1, 2, 3, 4)
	sum, err := leaksafe.Reduce(nil, nums, 0, func(acc, n int) int { return acc + n })
	fmt.Println(sum, err)
	<-terminated
	// Output: 10 <nil>
}

// Reduce returns ErrStopped, with the accumulator so far, when done closes before the input does.
func ExampleReduce_stopped() {
	done := make(chan struct{})
	nums, terminated := leaksafe.Repeat(done, 1)
	count, err := leaksafe.Reduce(done, nums, 0, func(acc, n int) int {
		if acc == 2 {
			close(done) // enough: Repeat never ends by itself
		}
		return acc + n
	})
	fmt.Println(count, errors.Is(err, leaksafe.ErrStopped))
	<-terminated
	// Output: 3 true
}

// Collect gathers a stream of Results up to the first error. It does not drain the rest: closing
// done stops the stages before it.
func ExampleCollect() {
	done := make(chan struct{})
	words, t1 := leaksafe.Generate(done, "1", "2", "three", "4")
	nums, t2 := leaksafe.Map(done, words, func(s string) leaksafe.Result[int] { return leaksafe.Try(strconv.Atoi(s)) })
	got, err := leaksafe.Collect(done, nums)
	close(done) // "4" is never read: stop the stages instead
	<-leaksafe.All(t1, t2)
	fmt.Println(got, err)
	// Output: [1 2] strconv.Atoi: parsing "three": invalid syntax
}

// With no error, Collect returns every value.
func ExampleCollect_all() {
	words, t1 := leaksafe.Generate(nil, "1", "2", "3")
	nums, t2 := leaksafe.Map(nil, words, func(s string) leaksafe.Result[int] { return leaksafe.Try(strconv.Atoi(s)) })
	got, err := leaksafe.Collect(nil, nums)
	<-leaksafe.All(t1, t2)
	fmt.Println(got, err)
	// Output: [1 2 3] <nil>
}
