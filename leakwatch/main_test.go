package leakwatch

import (
	"os"
	"testing"
	"time"

	"github.com/leaksafe/leaksafe/leaktest"
)

// childEnv names the environment variable that makes the test binary a child process of a test that
// leaks goroutines on purpose: its value is the test the child runs.
const childEnv = "LEAKWATCH_CHILD"

// TestMain fails the test binary if any test or example leaves a goroutine behind, except in a
// child process, whose leaks are the point and die with it.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(m.Run())
	}
	leaktest.VerifyTestMain(m)
}

// deadline bounds every wait in a test, so that a bug fails the test instead of hanging it. It is
// never used to measure speed.
const deadline = 10 * time.Second
