// Package leaksafe provides goroutine primitives that cannot leak when used as documented:
// sources, stream stages, workers and owners that take a done channel and report when they stop.
//
// # Ownership and termination
//
// The rule the package is built on: if a goroutine is responsible for creating a goroutine, it
// is also responsible for ensuring it can stop the goroutine. A goroutine ends in one of three
// ways: its work is complete, it cannot continue, or it is told to stop. Every function here
// that starts goroutines makes all three explicit.
//
// The owner of a goroutine is the code that called the function that started it. The owner holds
// two channels:
//
//   - done, the first parameter of every constructor. Closing done tells every goroutine started
//     with it to stop. A goroutine never closes done; its owner does.
//   - terminated, the last result of every constructor. It is closed as the last action of the
//     last goroutine that the call started. Receiving from terminated is how an owner waits for
//     its goroutines to have exited; [All] joins several.
//
// Every constructor keeps the same contract, which its own doc does not repeat:
//
//   - Ending. A source ends when it has sent what it has, a stage when its input closes and it
//     has sent its last result, and both when done closes. A parallel stage's workers, one
//     goroutine each, end in the same way. [Repeat], [RepeatFunc] and [NewRandStream] never end
//     by themselves, nor does [FromSeq] over an endless sequence or a stage whose input never
//     closes: their owner must close done.
//   - Closing order. The last goroutine to end closes the outputs, then terminated.
//   - Channel ownership. A primitive never closes a channel it receives from; its sender does.
//     It always closes the channels it returns.
//   - Nil input, nil done. A nil input channel never delivers, so a stage over it runs until
//     done closes. A nil done never closes: its goroutines end only when their input closes or
//     their work completes. A nil done with a nil input never ends.
//   - Done already closed. It is valid: the call starts, its goroutines end at once, and its
//     outputs and terminated are closed.
//   - Blocking. Every send and receive that can block waits in a select with done, so a
//     goroutine that is told to stop never stays blocked. Once a goroutine has seen done closed
//     it sends nothing more and starts no new call of a function it was given, not even with a
//     value it received as done closed; a call that is running is not interrupted, and
//     terminated closes after it returns. A value held when done closes is dropped, never closed
//     or released: see [Result]. The joins wait for what they
//     join: [All], [Or], [Group.Wait], and [Range], [First], [FirstOK] and [ForEach]
//     waiting for what they started. A closed input ends a stage at once; a stage never spins on
//     it.
//   - Capacity flows downstream: a stage's output holds as many values as its input can, and at
//     least one: max(1, cap(in)); a parallel stage max(workers, cap(in)). So by default a
//     producer runs one value ahead, and one [Buffer] near the source lets every stage after it
//     hand over many values per wake-up. [Generate] holds up to 64 of its values. [Tee],
//     [Partition] and [Throttle] are unbuffered, and [Batch] holds one batch.
//
// # Cancellation with done or a context
//
// done has the type <-chan struct{}, which is the type of [context.Context.Done]: a context
// works unchanged, as in Map(ctx.Done(), in, f).
//
// Stopping the goroutines is not enough when the work inside them goes on, such as an HTTP
// request. A function that the package may need to stop while it runs receives the done channel
// that says so ([Group.Go], [ForEach], [First], [FirstOK]), which closes at the latest when the
// call that owns it returns; [WithDone] turns a done channel into a [context.Context] for the
// work: inside a [Source], ctx := WithDone(ctx, done) makes a break out of [Range] cancel the
// requests in flight. The blocking calls that read or run work to its end, [ForEach], [FirstOK],
// [Reduce] and [Collect], return an error that matches [ErrStopped] when done cut them short;
// [First] reports false. [Group.Wait] returns what the group's functions returned, as errgroup's
// Wait does: a function that returns nil when its done closes adds no error.
//
// [Range] is the consumer's side of the contract. It gives a pipeline a done channel of its own,
// closes it when the for loop ends for any reason (the source is exhausted, break, return, a
// panic in the loop body, or the outer done closing), and waits for the pipeline's terminated
// before the loop statement completes. A consumer can walk away from a pipeline and leave
// nothing running, without draining it.
//
// # Errors and panics
//
// Errors are values that travel in the stream: a stage produces a [Result] (often with [Try])
// and the consumer, who has the full picture, decides to stop by closing done or breaking out of
// [Range].
//
// A panic in a function passed to a stream primitive is not recovered, exactly as with a
// goroutine started by the go statement: the program crashes with the panicking goroutine's
// stack. The primitive's outputs and terminated stay open meanwhile, so no consumer takes the
// stream cut short for a whole one, and the program cannot exit normally first. [Group] and
// [ForEach] are the owners that catch: they re-raise a panic in the goroutine that waits, as a
// [*PanicError].
//
// A function that calls runtime.Goexit (as testing.T.FailNow does) is treated as one that
// panicked, since otherwise its goroutine would end as if its work were done: a stream would end
// early or lose a value, and [First] would wait forever. So everywhere but in [Group] and
// [ForEach] the program crashes with "leaksafe: Map: a function it was given called
// runtime.Goexit", naming the primitive; Group.Wait and ForEach return [ErrGoexit].
//
// Misuse is a programmer error and panics at call time, before any goroutine starts, with a
// message that names the package and the function, such as "leaksafe: Map: nil fn" or "leaksafe:
// Take: n must be at least 0, got -1".
//
// # Goroutine labels
//
// Every goroutine a primitive starts carries two runtime/pprof labels, added to those it inherits
// and set once, when it begins to run (until then it has only the inherited ones): leaksafe, the
// primitive ("Map", "ParallelMap", "Group.Go"), and leaksafe.site, the file.go:line of the call
// outside this module that led to it. Profiles show them, the leaktest and leakwatch subpackages
// name leaks by them, and Go 1.27 prints them in the goroutine dumps of a program whose main
// module's go line says 1.27 or later (with an older go line, run it with
// GODEBUG=tracebacklabels=1):
//
//	goroutine 42 [select] {leaksafe: ParallelMap, leaksafe.site: "crawl.go:42"}:
//
// # Leak testing
//
// Every test and example of this package runs under the leaktest subpackage's VerifyTestMain,
// which fails the test binary if a goroutine is still running at its end (go.uber.org/goleak) or
// if the runtime's goroutine leak profile, where the toolchain has it, proves one leaked. For
// each primitive the tests cover every way it can end: input drained to the end, done closed
// before any value, done closed mid-stream, a consumer that stops reading and closes done, a nil
// input and a closed input. The leaktest subpackage gives the same checks to users' own tests,
// and the leakwatch subpackage reports leaks in a running program.
package leaksafe
