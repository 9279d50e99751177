package leaktest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe/leaktest"
)

// controlEnv names the negative control that a subprocess of this test binary runs.
const controlEnv = "LEAKTEST_NEGATIVE_CONTROL"

// held keeps the channel of a goroutine that a control leaks reachable, so that only goleak, not the
// leak profile, can find it.
var held = make(chan struct{})

// blockOnHeld blocks on a channel that a global holds.
func blockOnHeld() { <-held }

// startHeld starts a goroutine that blocks on held.
func startHeld() { go blockOnHeld() }

// blockForever blocks on a channel that nothing else can reach once it is blocked.
func blockForever() {
	ch := make(chan struct{})
	<-ch //leakvet:ignore the leak a negative control needs
}

// startLeak starts a goroutine that blocks forever; it is the "created by" line a report must show.
func startLeak() { go blockForever() }

// lateGate holds back the goroutine of startLateLeak until it closes; a global keeps it reachable.
var lateGate = make(chan struct{})

// startLateLeak starts a goroutine that waits on lateGate, which closes 100ms later, and then blocks
// forever: the collection Check takes when the test ends finds it waiting on a reachable channel,
// so only a collection taken after goleak's retries can prove that it leaked.
func startLateLeak() {
	go func() {
		<-lateGate
		blockForever()
	}()
	time.AfterFunc(100*time.Millisecond, func() { close(lateGate) })
}

// startMutexLeaks starts n goroutines that block forever on a mutex that nothing else can reach.
func startMutexLeaks(n int) {
	mu := new(sync.Mutex)
	mu.Lock()
	for range n {
		go lockForever(mu)
	}
}

// lockForever locks mu, which stays locked.
func lockForever(mu *sync.Mutex) { mu.Lock() }

// leakAlongside is a test of the "shared" control: it leaks n goroutines through startLeak, the
// code that the other test leaks through too, while the other test's goroutines exist, and checks
// that CheckParallel reports its own n goroutines, no more.
func leakAlongside(t *testing.T, n int, mine chan<- struct{}, theirs <-chan struct{}) {
	t.Helper()
	t.Parallel()
	rec := &recorder{}
	leaktest.CheckParallel(rec)
	for range n {
		startLeak()
	}
	close(mine)
	waitClosed(t, theirs, "the other test's leaks started")
	report := rec.finish()
	t.Log(report)
	assert.Equal(t, n, strings.Count(report, "\ngoroutine "), "the goroutines this test leaked, each once")
	assert.Contains(t, report, fmt.Sprintf("leaktest: %d goroutine(s) left behind", n), "this test's count")
}

// controls are tests that leak on purpose. Each runs only in a subprocess started by
// TestNegativeControls, which checks that the oracle it targets fails the subprocess. They are
// helpers of TestControl, so a failure names the line of TestControl that ran them.
var controls = []struct {
	name string
	run  func(t *testing.T)
}{
	{"goleak", func(t *testing.T) {
		t.Helper()
		leaktest.Check(t)
		startHeld()
	}},
	{"profile", func(t *testing.T) {
		t.Helper()
		leaktest.Check(t)
		startLeak()
	}},
	{"parallel", func(t *testing.T) {
		t.Helper()
		t.Run("leaks", func(t *testing.T) {
			t.Parallel()
			leaktest.CheckParallel(t)
			startLeak()
		})
		t.Run("clean", func(t *testing.T) {
			t.Parallel()
			leaktest.CheckParallel(t)
			done := make(chan struct{})
			go func() { <-done }()
			close(done)
		})
	}},
	{"late", func(t *testing.T) {
		t.Helper()
		leaktest.Check(t)
		startLateLeak()
	}},
	{"mutex", func(t *testing.T) {
		t.Helper()
		leaktest.Check(t)
		startMutexLeaks(3)
	}},
	{"once", func(t *testing.T) {
		t.Helper()
		leaktest.Check(t)
		startLeak()
		startHeld()
	}},
	{"shared", func(t *testing.T) {
		t.Helper()
		one, two := make(chan struct{}), make(chan struct{})
		t.Run("one", func(t *testing.T) { leakAlongside(t, 1, one, two) })
		t.Run("two", func(t *testing.T) { leakAlongside(t, 2, two, one) })
	}},
	{"synctest", func(t *testing.T) {
		t.Helper()
		synctest.Test(t, func(*testing.T) {
			go blockForever() // left blocked when the bubble's main goroutine returns
		})
	}},
	{"testmain", func(*testing.T) {
		startLeak() // the test passes: VerifyTestMain fails the binary afterwards
		startHeld()
	}},
}

// TestControl runs the negative control that controlEnv names. It is skipped in an ordinary run.
func TestControl(t *testing.T) {
	name := os.Getenv(controlEnv)
	if name == "" {
		t.Skip("a negative control leaks on purpose: TestNegativeControls runs it in a subprocess")
	}
	for _, c := range controls {
		if c.name == name {
			c.run(t)
			return
		}
	}
	t.Fatalf("no negative control named %q", name)
}

// TestNegativeControls proves that each oracle fires: it runs each control in a subprocess of this
// test binary and checks that the subprocess fails and says why.
func TestNegativeControls(t *testing.T) {
	if os.Getenv(controlEnv) != "" {
		t.Skip("already in a subprocess")
	}
	profile := leaktest.ProfileAvailable()
	for _, tc := range []struct {
		name        string
		control     string
		needProfile bool
		want        []string
		wantNot     []string
		count       map[string]int // how many times the output says each
	}{
		{
			name:    "goleak finds a goroutine still running after Check's test",
			control: "goleak",
			want: []string{
				"--- FAIL: TestControl",
				"leaktest: 1 goroutine(s) left behind",
				"1 still there after goleak's retries",
				"[goleak: still there]",
				"leaktest_test.blockOnHeld",
				"created by github.com/leaksafe/leaksafe/leaktest_test.startHeld",
			},
			wantNot: []string{"(leaked)"},
		},
		{
			name:        "the leak profile proves Check's test leaked a goroutine",
			control:     "profile",
			needProfile: true,
			want: []string{
				"--- FAIL: TestControl",
				"leaktest: 1 goroutine(s) left behind",
				"1 proven blocked forever by the runtime's goroutine leak profile",
				"[leak profile: blocked forever]",
				"[chan receive (leaked)",
				"leaktest_test.blockForever",
				"created by github.com/leaksafe/leaksafe/leaktest_test.startLeak",
			},
		},
		{
			name:        "Check proves a leak that blocked for good during goleak's retries",
			control:     "late",
			needProfile: true,
			want: []string{
				"--- FAIL: TestControl",
				"1 proven blocked forever by the runtime's goroutine leak profile",
				"[leak profile: blocked forever; goleak: still there]",
				"leaktest_test.blockForever",
			},
		},
		{
			name:    "Check counts goroutines leaked on a mutex once each, with their creator",
			control: "mutex",
			want: []string{
				"--- FAIL: TestControl",
				"leaktest: 3 goroutine(s) left behind, created at 1 site(s)",
				"3 goroutine(s) created by go lockForever() in startMutexLeaks at control_test.go:",
			},
			wantNot: []string{"unknown"},
			count:   map[string]int{"created by github.com/leaksafe/leaksafe/leaktest_test.startMutexLeaks in goroutine": 3},
		},
		{
			name:        "Check lists a proven leak once, and what else runs without goleak's retries",
			control:     "once",
			needProfile: true,
			want: []string{
				"--- FAIL: TestControl",
				"leaktest: 2 goroutine(s) left behind, created at 2 site(s)",
				"[leak profile: blocked forever]",
				"[there, not retried]",
				"leaktest_test.blockOnHeld",
			},
			wantNot: []string{"goleak"},
			count:   map[string]int{"leaktest_test.blockForever()": 1},
		},
		{
			name:    "CheckParallel tells apart two parallel tests that leak through the same code",
			control: "shared",
			want: []string{
				"--- PASS: TestControl/one",
				"--- PASS: TestControl/two",
				"leaktest: 1 goroutine(s) left behind",
				"leaktest: 2 goroutine(s) left behind",
			},
		},
		{
			name:    "CheckParallel blames only the parallel test that leaked",
			control: "parallel",
			want: []string{
				"--- FAIL: TestControl/leaks",
				"--- PASS: TestControl/clean",
				"leaktest_test.blockForever",
			},
		},
		{
			name:    "a synctest bubble reports a goroutine left blocked",
			control: "synctest",
			want:    []string{"deadlock", "leaktest_test.blockForever"},
		},
		{
			name:    "VerifyTestMain fails the binary after the tests pass",
			control: "testmain",
			want: []string{
				"--- PASS: TestControl",
				"leaktest: 2 goroutine(s) left behind",
				"leaktest_test.blockOnHeld",
				"leaktest_test.blockForever",
			},
		},
		{
			name:        "VerifyTestMain reports a proven leak without goleak's retries",
			control:     "testmain",
			needProfile: true,
			want: []string{
				"leaktest: 2 goroutine(s) left behind",
				"[leak profile: blocked forever]",
				"[there, not retried]",
			},
			wantNot: []string{"goleak"},
			count:   map[string]int{"leaktest_test.blockForever()": 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.needProfile && !profile {
				t.Skip(`the goroutine leak profile is not in this Go: run with Go 1.27, or with ` +
					`GOEXPERIMENT=goroutineleakprofile on Go 1.26`)
			}
			control := tc.control
			out, err := runControl(t, control)
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "the control %q must fail its subprocess; output:\n%s", control, out)
			for _, w := range tc.want {
				assert.Contains(t, out, w, "the subprocess's output")
			}
			for _, w := range tc.wantNot {
				assert.NotContains(t, out, w, "the subprocess's output")
			}
			for w, n := range tc.count {
				assert.Equal(t, n, strings.Count(out, w), "how many times the output says %q:\n%s", w, out)
			}
			if profile && control == "parallel" {
				assert.Contains(t, out, "(leaked)", "the profile proves the parallel test's leak")
			}
			if profile && control == "testmain" {
				assert.Contains(t, out, "1 proven blocked forever by the runtime's goroutine leak profile",
					"the profile proves the unreachable goroutine leaked, not the one on a global")
			}
		})
	}
}

// runControl runs this test binary again, running only the control, and returns its output.
func runControl(t *testing.T, control string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestControl$", "-test.v", "-test.count=1",
		"-test.parallel=4")
	cmd.Env = append(os.Environ(), controlEnv+"="+control)
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("the control %q did not end within %v; output:\n%s", control, deadline, out)
	}
	return string(out), err
}
