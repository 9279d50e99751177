package leakwatch

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
