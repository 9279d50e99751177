package stacks_test

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leaksafe/leaksafe/internal/stacks"
)

// TestMain fails the test binary if a test leaves a goroutine running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// deadline bounds every wait in a test, so that a bug fails the test instead of hanging it.
const deadline = 10 * time.Second

// here returns the location of the line after the call: where a goroutine blocks, or what it starts.
func here() stacks.Frame {
	pc, file, line, _ := runtime.Caller(1)
	return stacks.Frame{Func: runtime.FuncForPC(pc).Name(), File: file, Line: line + 1}
}

// blockOnChan blocks until release closes; blocked tells where.
func blockOnChan(release <-chan struct{}, blocked chan<- stacks.Frame) {
	blocked <- here()
	<-release
}

// blockOnMutex blocks until mu is unlocked; blocked tells where.
func blockOnMutex(mu *sync.Mutex, blocked chan<- stacks.Frame) {
	blocked <- here()
	mu.Lock()
	defer mu.Unlock() // leave it as it was for the test to unlock
}

// waitFor returns the goroutine of dump whose stack holds fn, after waiting under the deadline for it
// to block in state.
func waitFor(t *testing.T, fn, state string) stacks.Goroutine {
	t.Helper()
	for start := time.Now(); time.Since(start) < deadline; time.Sleep(time.Millisecond) {
		for _, g := range stacks.Parse(stacks.Dump()) {
			if g.State == state && slices.ContainsFunc(g.Frames, func(f stacks.Frame) bool { return f.Func == fn }) {
				return g
			}
		}
	}
	t.Fatalf("no goroutine blocked in %s in state %q within %v", fn, state, deadline)
	return stacks.Goroutine{}
}

func TestParseRealDump(t *testing.T) {
	// Labels appear in headers under tracebacklabels=1; Go 1.25 does not know the setting.
	t.Setenv("GODEBUG", os.Getenv("GODEBUG")+",tracebacklabels=1")
	withLabels := !strings.HasPrefix(runtime.Version(), "go1.25")

	release := make(chan struct{})
	var mu sync.Mutex
	mu.Lock()
	blocked := make(chan stacks.Frame, 2)
	var chanStart, mutexStart stacks.Frame
	var wg sync.WaitGroup
	pprof.Do(context.Background(), pprof.Labels("check", "7", "a key", `a "value"`), func(context.Context) {
		wg.Add(2)
		chanStart = here()
		go func() { defer wg.Done(); blockOnChan(release, blocked) }()
		mutexStart = here()
		go func() { defer wg.Done(); blockOnMutex(&mu, blocked) }()
	})
	defer func() {
		close(release)
		mu.Unlock()
		wg.Wait()
	}()
	chanAt, mutexAt := <-blocked, <-blocked
	if chanAt.Func != "github.com/leaksafe/leaksafe/internal/stacks_test.blockOnChan" {
		chanAt, mutexAt = mutexAt, chanAt
	}

	for _, tc := range []struct {
		name, state string
		at, start   stacks.Frame
	}{
		{"blocked on a channel", "chan receive", chanAt, chanStart},
		{"blocked on a mutex", "sync.Mutex.Lock", mutexAt, mutexStart},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := waitFor(t, tc.at.Func, tc.state)
			assert.Positive(t, g.ID, "the goroutine's id")
			assert.False(t, g.Leaked, "nothing proved it leaked")
			i := slices.IndexFunc(g.Frames, func(f stacks.Frame) bool { return f.Func == tc.at.Func })
			assert.Equal(t, tc.at, g.Frames[i], "the function and file:line where it blocks")
			assert.Equal(t, tc.start.Func, g.CreatedBy.Func, "created by the closure that ran the go statement")
			assert.Equal(t, tc.start.Location(), g.CreatedBy.Location(), "the go statement's file:line")
			assert.NotZero(t, g.CreatorID, "the goroutine that ran the go statement")
			assert.True(t, strings.HasPrefix(g.Text, "goroutine "), "the text as printed")
			if withLabels {
				assert.Equal(t, map[string]string{"check": "7", "a key": `a "value"`}, g.Labels,
					"the labels of the goroutine that started it, unquoted")
			}
		})
	}
}

func TestParseRecordsRealProfile(t *testing.T) {
	release := make(chan struct{})
	blocked := make(chan stacks.Frame, 3)
	var wg sync.WaitGroup
	pprof.Do(context.Background(), pprof.Labels("check", "8"), func(context.Context) {
		for range 3 {
			wg.Go(func() { blockOnChan(release, blocked) })
		}
	})
	defer func() {
		close(release)
		wg.Wait()
	}()
	at := <-blocked
	<-blocked
	<-blocked
	waitFor(t, at.Func, "chan receive")
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		var b strings.Builder
		require.NoError(t, pprof.Lookup("goroutine").WriteTo(&b, 1))
		for _, r := range stacks.ParseRecords(b.String()) {
			if r.Labels["check"] != "8" || len(r.Frames) == 0 || r.Frames[0].Func != at.Func {
				continue
			}
			if r.Count < 3 && time.Since(start) < deadline {
				break // one of them has not blocked yet
			}
			assert.Equal(t, 3, r.Count, "the three goroutines share the record")
			assert.Equal(t, at, r.Frames[0], "every column read, however many tabs pad it")
			for _, f := range r.Frames {
				assert.NotEmpty(t, f.Location(), "frame %s has its file:line", f.Func)
			}
			return
		}
		require.Less(t, time.Since(start), deadline, "no record of the three blocked goroutines")
	}
}

// leakEnv makes the test binary, run by TestLeakDump, leak a goroutine and print the leak dump.
const leakEnv = "STACKS_LEAK_DUMP"

func leakForever(blocked chan<- stacks.Frame) {
	ch := make(chan struct{})
	blocked <- here()
	<-ch //leakvet:ignore blocks forever on purpose: the stack under test
}

func TestLeakDump(t *testing.T) {
	if os.Getenv(leakEnv) != "" {
		blocked := make(chan stacks.Frame)
		go leakForever(blocked)
		at := <-blocked
		time.Sleep(10 * time.Millisecond) // let it block: the parent retries if it has not
		dump, ok := stacks.LeakDump()
		if !ok {
			os.Exit(3)
		}
		os.Stdout.WriteString(at.String() + "\n\n" + dump)
		os.Exit(0)
	}
	if stacks.LeakProfile() == nil {
		t.Skip("no goroutine leak profile: Go 1.27, or Go 1.26 with GOEXPERIMENT=goroutineleakprofile")
	}
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLeakDump$")
		cmd.Env = append(os.Environ(), leakEnv+"=1")
		out, err := cmd.Output()
		cancel()
		require.NoError(t, err, "the subprocess: %s", out)
		at, dump, _ := strings.Cut(string(out), "\n\n")
		var leaked []stacks.Goroutine
		for _, g := range stacks.Parse(dump) {
			if g.Leaked {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 && try < 20 {
			continue // the goroutine had not blocked yet when the profile ran
		}
		require.Len(t, leaked, 1, "the one goroutine blocked forever; dump:\n%s", dump)
		assert.Equal(t, "chan receive", leaked[0].State, "the state without the mark")
		assert.Equal(t, at, leaked[0].Top().String(), "where it blocks")
		assert.Equal(t, "github.com/leaksafe/leaksafe/internal/stacks_test.TestLeakDump",
			leaked[0].CreatedBy.Func, "who started it")
		return
	}
}

func TestLeakProfile(t *testing.T) {
	assert.Equal(t, pprof.Lookup("goroutineleak") != nil, stacks.LeakProfile() != nil,
		"the profile where the runtime has it")
	_, ok := stacks.LeakDump()
	assert.Equal(t, stacks.LeakProfile() != nil, ok, "a leak dump where the profile is")
}

func TestDumpGrows(t *testing.T) {
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 2000 { // more than the first buffer holds
		wg.Go(func() { <-release })
	}
	defer func() {
		close(release)
		wg.Wait()
	}()
	assert.GreaterOrEqual(t, len(stacks.Parse(stacks.Dump())), 2000, "every goroutine, not a cut dump")
}
