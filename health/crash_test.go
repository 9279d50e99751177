package health_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/leaksafe/leaksafe/health"
)

// crashEnv names the case a child process runs in TestCrashChild.
const crashEnv = "HEALTH_CRASH_CASE"

// closedInts returns a closed channel that holds 1, 2 and 3.
func closedInts() <-chan int {
	in := make(chan int, 3)
	in <- 1
	in <- 2
	in <- 3
	close(in)
	return in
}

// boom is a function given to a worker that panics.
func boom(int) { panic("boom") }

// crashCases start a worker whose function panics and read its heartbeat until it closes, then
// wait for terminated.
var crashCases = map[string]func() (<-chan struct{}, <-chan struct{}){
	"DoWorkWithPulse": func() (<-chan struct{}, <-chan struct{}) {
		return health.DoWorkWithPulse(nil, closedInts(), time.Hour, boom)
	},
	"DoWorkWithHeartbeat": func() (<-chan struct{}, <-chan struct{}) {
		return health.DoWorkWithHeartbeat(nil, closedInts(), boom)
	},
	"Steward": func() (<-chan struct{}, <-chan struct{}) {
		ward := func(<-chan struct{}, time.Duration) (<-chan struct{}, <-chan struct{}) {
			panic("boom")
		}
		return health.Steward(time.Hour, ward, nil)(nil, time.Hour)
	},
}

// TestCrashChild runs one of crashCases when TestPanicCrashesWithOutputsOpen asks for it, and
// exits with status 0 as soon as the heartbeat and terminated close, as a program that trusts them
// would: the worker must crash the process first.
func TestCrashChild(t *testing.T) {
	name := os.Getenv(crashEnv)
	if name == "" {
		t.Skip("runs only as the child of TestPanicCrashesWithOutputsOpen")
	}
	time.AfterFunc(deadline, func() { os.Exit(0) }) // a hang is no crash either
	heartbeat, terminated := crashCases[name]()
	for range heartbeat {
	}
	<-terminated
	os.Exit(0)
}

// TestPanicCrashesWithOutputsOpen proves that a panic in a function given to a worker crashes the
// program with the worker's heartbeat and terminated still open, so that no consumer can take the
// worker for one that ended and exit normally first.
func TestPanicCrashesWithOutputsOpen(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process per worker")
	}
	for name := range crashCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*deadline)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashEnv+"="+name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("child ended with %v, want a crash; output:\n%s", err, out)
			}
			if !strings.Contains(string(out), "panic: boom") {
				t.Fatalf("child output lacks the panic:\n%s", out)
			}
		})
	}
}
