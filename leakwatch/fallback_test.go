package leakwatch

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe"
)

// TestFallback runs real checks without the leak profile, on goroutines blocked in a synctest
// bubble, whose clock the test moves: they are suspected once blocked for the threshold.
func TestFallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New(Threshold(time.Minute))
		w.profile = nil
		release := make(chan struct{})
		for range 3 {
			go func() { <-release }()
		}
		go func() { time.Sleep(time.Hour) }() // asleep, not blocked: never suspected
		synctest.Wait()

		ours := func(r Report) []Site {
			var sites []Site
			for _, s := range r.Sites {
				if strings.Contains(s.Creator, "TestFallback") {
					sites = append(sites, s)
				}
			}
			return sites
		}
		check := func() Report {
			r, err := w.Snapshot()
			require.NoError(t, err)
			assert.Equal(t, ModeFallback, r.Mode)
			return r
		}

		assert.Empty(t, ours(check()), "at once")
		time.Sleep(59 * time.Second)
		assert.Empty(t, ours(check()), "after 59s")
		time.Sleep(time.Second)
		r := check()
		sites := ours(r)
		require.Len(t, sites, 1, "after a minute:\n%v", r)
		s := sites[0]
		assert.Equal(t, 3, s.Count)
		assert.False(t, s.Proven)
		assert.True(t, s.New)
		assert.Equal(t, "chan receive", s.State)
		assert.Equal(t, time.Minute, s.BlockedFor)
		assert.Contains(t, s.Created, "/fallback_test.go:")
		assert.Contains(t, r.String(), "suspected go TestFallback.func1.1() in TestFallback.func1 at "+
			"fallback_test.go:")
		assert.Contains(t, r.String(), "no leak profile in")

		close(release)
		time.Sleep(time.Hour) // the sleeper ends too
		synctest.Wait()
		assert.Empty(t, ours(check()), "once released")
	})
}

// TestIgnorePrimitive checks that Ignore names a goroutine a leaksafe primitive started by the
// primitive, whose goroutines' stacks hold only leaksafe's internals: a pipeline that runs as long
// as the program is left out of the suspicions, and one not named is still suspected.
func TestIgnorePrimitive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := make(chan struct{})
		_, repeated := leaksafe.Repeat(done, 1) // its output unread: it waits to send until done
		defer func() {
			close(done)
			<-repeated
		}()
		g := leaksafe.NewGroup(nil) // no parent to watch: no goroutine but the task's
		g.Go(func(done <-chan struct{}) error { <-done; return nil })
		defer func() {
			g.Stop()
			require.NoError(t, g.Wait())
		}()
		synctest.Wait()

		names := func(opts ...Option) []string { // the sites a watcher suspects an hour on
			w := New(append(opts, Threshold(time.Minute))...)
			w.profile = nil
			_, err := w.Snapshot()
			require.NoError(t, err)
			time.Sleep(time.Hour)
			r, err := w.Snapshot()
			require.NoError(t, err)
			var names []string
			for _, s := range r.Sites {
				if strings.HasPrefix(s.Name, "leaksafe.") { // not the test's own goroutine
					names = append(names, s.Name)
				}
			}
			return names
		}
		assert.ElementsMatch(t, []string{"leaksafe.Repeat generator", "leaksafe.Group.Go goroutine"},
			names(), "both suspected")
		assert.Equal(t, []string{"leaksafe.Group.Go goroutine"},
			names(Ignore("github.com/leaksafe/leaksafe.Repeat")))
		assert.Equal(t, []string{"leaksafe.Repeat generator"},
			names(Ignore("github.com/leaksafe/leaksafe.(*Group).Go")))
		assert.Equal(t, []string{"leaksafe.Repeat generator"},
			names(Ignore("github.com/leaksafe/leaksafe.Group.Go")))
		assert.Len(t, names(Ignore("github.com/leaksafe/leaksafe.Map")), 2, "another primitive")
	})
}
