package leaktest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"testing/synctest"

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
	<-ch
}

// startLeak starts a goroutine that blocks forever; it is the "created by" line a report must show.
func startLeak() { go blockForever() }

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
	}{
		{
			name:    "goleak finds a goroutine still running after Check's test",
			control: "goleak",
			want: []string{
				"--- FAIL: TestControl",
				"leaktest: goleak: found unexpected goroutines",
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
				"leaktest: the runtime's goroutine leak profile found 1 goroutine(s) blocked forever",
				"[chan receive (leaked)",
				"leaktest_test.blockForever",
				"created by github.com/leaksafe/leaksafe/leaktest_test.startLeak",
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
				"leaktest: goleak: found unexpected goroutines",
				"leaktest_test.blockOnHeld",
				"leaktest_test.blockForever",
			},
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
			if profile && control == "parallel" {
				assert.Contains(t, out, "(leaked)", "the profile proves the parallel test's leak")
			}
			if profile && control == "testmain" {
				assert.Contains(t, out, "goroutine leak profile found 1 goroutine(s)",
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
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestControl$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), controlEnv+"="+control)
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("the control %q did not end within %v; output:\n%s", control, deadline, out)
	}
	return string(out), err
}
