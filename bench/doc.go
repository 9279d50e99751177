// Package bench holds the benchmarks of leaksafe against hand-written Go and against the libraries
// people reach for instead: golang.org/x/sync/errgroup, sourcegraph/conc, alitto/pond,
// panjf2000/ants, gammazero/workerpool and samber/lo.
//
// It is a module of its own, so that the leaksafe module keeps no dependencies. It has no code of
// its own: everything is in the _test.go files. Every benchmark names its cases key=value, so
// benchstat can lay the implementations side by side:
//
//	go test -run '^$' -bench . -count 10 | tee new.txt
//	benchstat -col /impl new.txt
//
// Benchmarks that move items report ns/item, allocs/item and B/item, where b.N is the number of
// items, so ns/op and ns/item agree. The workloads are "noop" (fn returns its argument), "cpu1us"
// and "cpu20us" (a xorshift loop that takes about 1 µs and 20 µs on the machine the figures were
// taken on; BenchmarkWorkload measures them) and "sleep50us" (time.Sleep of 50 µs, which the
// runtime's timer resolution can make longer).
package bench
