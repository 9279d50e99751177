package leaktest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Profiles as Go 1.26 with GOEXPERIMENT=goroutineleakprofile writes them for a program that leaked
// two goroutines through startLeak: one from main's goroutine (labelled 3) and one from a goroutine
// labelled 4. Goroutine 8 is blocked on a channel that a global still holds: not leaked.
const (
	debug1 = `goroutineleak profile: total 2
1 @ 0x47e0ce 0x4158ee 0x415432 0x4dcdd9 0x484641
# labels: {"leaktest.check":"3"}
#	0x4dcdd8	main.leakRecv+0x18	/src/main.go:15

1 @ 0x47e0ce 0x4158ee 0x415432 0x4dcdd9 0x484641
# labels: {"a":"b", "leaktest.check":"4"}
#	0x4dcdd8	main.leakRecv+0x18	/src/main.go:15
`
	debug2 = `goroutine 1 [running]:
runtime/pprof.writeGoroutineStacks({0x51a2a8, 0x2769b4986000})
	/usr/local/go/src/runtime/pprof/pprof.go:819 +0x6b
main.main()
	/src/main.go:50 +0x39e

goroutine 7 [chan receive (leaked)]:
main.leakRecv(...)
	/src/main.go:15
created by main.startLeak in goroutine 1
	/src/main.go:19 +0x5f

goroutine 8 [chan receive]:
main.leakRecv(...)
	/src/main.go:15
created by main.startReachable in goroutine 1
	/src/main.go:24 +0x89

goroutine 11 [chan receive (leaked)]:
internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
	/usr/local/go/src/runtime/sema.go:95 +0x25
main.(*T).wait(0x1c3629786008)
	/src/main.go:30 +0x1f
main.waitAll[...](0x1c3629786008)
	/src/main.go:35 +0x1f
created by main.startLeak in goroutine 9
	/src/main.go:19 +0x5f
`
	// Go 1.27 prints labels after the state when GODEBUG=tracebacklabels=1 (its default for
	// modules that say go 1.27); Go 1.26 prints them inside the brackets.
	debug2Labels127 = `goroutine 19 [chan receive (leaked)] {a: b, leaktest.check: 3}:
main.leak.func1()
	/src/main.go:10 +0x19
created by main.leak in goroutine 1
	/src/main.go:10 +0x67

goroutine 20 [chan receive (leaked)] {leaktest.check: 4}:
main.leak.func1()
	/src/main.go:10 +0x19
created by main.leak in goroutine 1
	/src/main.go:10 +0x67
`
	debug2Labels126 = `goroutine 21 [chan receive (leaked) labels:{"a": "b", "leaktest.check": "3"}]:
main.leak.func1()
	/src/main.go:10 +0x19
created by main.leak in goroutine 1
	/src/main.go:10 +0x67
`
)

func TestParseGoroutines(t *testing.T) {
	gs := parseGoroutines(debug2)
	require.Len(t, gs, 4, "one goroutine per block")

	assert.Equal(t, 7, gs[1].id, "the id from the header")
	assert.True(t, gs[1].leaked, "the state says leaked")
	assert.False(t, gs[2].leaked, "goroutine 8 is only blocked")
	assert.Equal(t, "main.leakRecv", gs[1].top(), "the function on top, without its arguments")
	assert.True(t, gs[1].has("main.startLeak"), "the function that created it")
	assert.Equal(t, "main.leakRecv /src/main.go:15\n", gs[1].key, "the key: frames outside the runtime")

	assert.Equal(t, "internal/sync.runtime_SemacquireMutex", gs[3].top(), "internal/sync is not the runtime")
	assert.True(t, gs[3].has("main.(*T).wait"), "a method, without its arguments")
	assert.True(t, gs[3].has("main.waitAll[...]"), "a generic function, without its arguments")
	assert.Contains(t, gs[3].text, "created by main.startLeak in goroutine 9", "the text as printed")
}

func TestParseRecords(t *testing.T) {
	rs := parseRecords(debug1)
	require.Len(t, rs, 2, "one record per stack and labels")
	assert.Equal(t, 1, rs[0].count, "how many goroutines have the stack")
	assert.Equal(t, "main.leakRecv /src/main.go:15\n", rs[0].key, "the same key as the goroutine's")
	assert.True(t, carries(rs[1].labels, "4"), "labels among others")
	assert.False(t, carries(rs[1].labels, "3"), "another check's label")
}

func TestCarries(t *testing.T) {
	for _, tc := range []struct {
		name, labels string
		want         bool
	}{
		{"debug=1 record", `{"leaktest.check":"12"}`, true},
		{"Go 1.26 header", `"a": "b", "leaktest.check": "12"}]:`, true},
		{"Go 1.27 header", `a: b, leaktest.check: 12}:`, true},
		{"a longer number", `{"leaktest.check":"123"}`, false},
		{"no check label", `{"a":"12"}`, false},
		{"no labels", ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, carries(tc.labels, "12"))
		})
	}
}

func TestMatch(t *testing.T) {
	leaked := func(gs []*goroutine) []*goroutine {
		var l []*goroutine
		for _, g := range gs {
			if g.leaked {
				l = append(l, g)
			}
		}
		return l
	}
	t.Run("by stack when headers have no labels", func(t *testing.T) {
		gs := leaked(parseGoroutines(debug2))
		found := match(parseRecords(debug1), gs, "3")
		require.Len(t, found, 1, "the goroutine whose stack the labelled record has")
		assert.Equal(t, 7, found[0].id, "the leaked goroutine with that stack")
	})
	t.Run("a record with no goroutine keeps its own stack", func(t *testing.T) {
		found := match(parseRecords(debug1), nil, "4")
		require.Len(t, found, 1, "the record itself")
		assert.Equal(t, -1, found[0].id, "no id is known")
		assert.Contains(t, found[0].text, "main.leakRecv+0x18", "the record's stack")
	})
	t.Run("by Go 1.27 header labels", func(t *testing.T) {
		found := match(nil, parseGoroutines(debug2Labels127), "4")
		require.Len(t, found, 1, "the goroutine labelled 4")
		assert.Equal(t, 20, found[0].id)
	})
	t.Run("by Go 1.26 header labels", func(t *testing.T) {
		found := match(nil, parseGoroutines(debug2Labels126), "3")
		require.Len(t, found, 1, "the goroutine labelled 3")
		assert.Equal(t, 21, found[0].id)
	})
	t.Run("another label matches nothing", func(t *testing.T) {
		assert.Empty(t, match(parseRecords(debug1), parseGoroutines(debug2), "5"))
	})
}
