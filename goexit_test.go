package leaksafe_test

import (
	"context"
	"errors"
	"iter"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/leaksafe/leaksafe"
)

// goexitEnv names the case a child process runs in TestGoexitChild, and quitEnv how its function
// quits: "goexit" or "panic".
const (
	goexitEnv = "LEAKSAFE_GOEXIT_CASE"
	quitEnv   = "LEAKSAFE_QUIT"
)

// quit is what the functions of goexitCases call: runtime.Goexit (as testing.T.FailNow does) or,
// in a child whose quitEnv says "panic", a panic.
var quit = runtime.Goexit

// goexitCases quit in a function given to each primitive that does not catch panics. Each one
// starts the primitive and reads what it can, until its outputs close or it returns.
var goexitCases = map[string]func(){
	"Map": func() {
		out, _ := leaksafe.Map(nil, feed(nil, 3), func(int) int { quit(); return 0 })
		for range out {
		}
	},
	"Filter": func() {
		out, _ := leaksafe.Filter(nil, feed(nil, 3), func(int) bool { quit(); return true })
		for range out {
		}
	},
	"FilterMap": func() {
		out, _ := leaksafe.FilterMap(nil, feed(nil, 3), func(int) (int, bool) {
			quit()
			return 0, true
		})
		for range out {
		}
	},
	"FlatMap": func() {
		out, _ := leaksafe.FlatMap(nil, feed(nil, 3), func(int) iter.Seq[int] {
			quit()
			return nil
		})
		for range out {
		}
	},
	"Partition": func() {
		kept, rest, _ := leaksafe.Partition(nil, feed(nil, 3), func(int) bool {
			quit()
			return true
		})
		for kept != nil || rest != nil {
			select {
			case _, ok := <-kept:
				if !ok {
					kept = nil
				}
			case _, ok := <-rest:
				if !ok {
					rest = nil
				}
			}
		}
	},
	"RepeatFunc": func() {
		out, _ := leaksafe.RepeatFunc(nil, func() int { quit(); return 0 })
		<-out
	},
	"FromSeq": func() {
		out, _ := leaksafe.FromSeq(nil, func(func(int) bool) { quit() })
		for range out {
		}
	},
	"FromSeq2": func() {
		out, _ := leaksafe.FromSeq2(nil, func(func(int, error) bool) { quit() })
		for range out {
		}
	},
	"DoWork": func() {
		<-leaksafe.DoWork(nil, feed(nil, 3), func(int) { quit() })
	},
	"ParallelMap": func() {
		out, _ := leaksafe.ParallelMap(nil, feed(nil, 3), 2, func(int) int {
			quit()
			return 0
		})
		for range out {
		}
	},
	"ParallelMapOrdered": func() {
		out, _ := leaksafe.ParallelMapOrdered(nil, feed(nil, 3), 2, func(int) int {
			quit()
			return 0
		})
		for range out {
		}
	},
	"First": func() {
		leaksafe.First(nil, func(<-chan struct{}) int { quit(); return 0 })
	},
	"FirstOK": func() {
		_, _ = leaksafe.FirstOK(nil, func(<-chan struct{}) (int, error) {
			quit()
			return 0, nil
		})
	},
}

// TestGoexitChild runs one of goexitCases when a parent test asks for it. Once the case ends (the
// outputs closed, or the primitive returned) it exits at once with status 0, as a program that
// trusts them would: the primitive must crash the process before that.
func TestGoexitChild(t *testing.T) {
	name := os.Getenv(goexitEnv)
	if name == "" {
		t.Skip("runs only as the child of TestGoexitCrashesLikeAPanic")
	}
	if os.Getenv(quitEnv) == "panic" {
		quit = func() { panic("boom") }
	}
	time.AfterFunc(deadline, func() { os.Exit(0) }) // a hang is no crash either
	goexitCases[name]()
	os.Exit(0)
}

// TestGoexitCrashesLikeAPanic proves the package's rule for runtime.Goexit in a function given to
// a primitive that does not catch panics: the program crashes, with a message that names the
// primitive, instead of a stream that ends as if its input had ended, a dropped value, or a hang.
// It proves for a panic and a Goexit alike that the outputs stay open while the program crashes:
// a consumer that exits once they close must not get the chance.
func TestGoexitCrashesLikeAPanic(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process per primitive")
	}
	for name := range goexitCases {
		for _, mode := range []string{"goexit", "panic"} {
			t.Run(name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 4*deadline)
				defer cancel()
				cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestGoexitChild$",
					"-test.v", "-test.count=1")
				cmd.Env = append(os.Environ(), goexitEnv+"="+name, quitEnv+"="+mode)
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatalf("child ended with %v, want a crash; output:\n%s", err, out)
				}
				want := "panic: leaksafe: " + name + ": a function it was given called runtime.Goexit"
				if mode == "panic" {
					want = "panic: boom"
				}
				if !strings.Contains(string(out), want) {
					t.Fatalf("child output lacks %q:\n%s", want, out)
				}
			})
		}
	}
}

// TestPanicStillCrashesWithItsValue checks that the guard for runtime.Goexit leaves a panic as it
// was: the crash shows the value and the function that panicked, and says nothing of Goexit.
func TestPanicStillCrashesWithItsValue(t *testing.T) {
	if os.Getenv(goexitEnv) == "panic" {
		out, _ := leaksafe.Map(nil, feed(nil, 1), panicsWithBoom)
		for range out {
		}
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPanicStillCrashesWithItsValue$",
		"-test.count=1")
	cmd.Env = append(os.Environ(), goexitEnv+"=panic")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child ended with %v, want a crash; output:\n%s", err, out)
	}
	for _, want := range []string{"panic: boom", "panicsWithBoom"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "Goexit") {
		t.Errorf("a panic is reported as a Goexit:\n%s", out)
	}
}

//go:noinline
func panicsWithBoom(int) int { panic("boom") }
