package site

import (
	"context"
	"maps"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrimitiveOf(t *testing.T) {
	tests := []struct {
		fn        string
		name      string
		isClosure bool
		exported  bool
	}{
		{"github.com/leaksafe/leaksafe.Map[...]", "Map", false, true},
		{"github.com/leaksafe/leaksafe.Map[...].func1", "Map", true, true},
		{"github.com/leaksafe/leaksafe.(*Group).Go", "Group.Go", false, true},
		{"github.com/leaksafe/leaksafe.(*Group).start", "Group.start", false, false},
		{"github.com/leaksafe/leaksafe.goWorkers.gowrap1", "goWorkers", true, false},
		{"github.com/leaksafe/leaksafe.Range[...].func1", "Range", true, true},
		{"github.com/leaksafe/leaksafe/health.Steward.func1.1", "health.Steward", true, true},
	}
	for _, tt := range tests {
		name, isClosure, exported := primitiveOf(tt.fn)
		assert.Equal(t, tt.name, name, tt.fn)
		assert.Equal(t, tt.isClosure, isClosure, "%s: a function literal", tt.fn)
		assert.Equal(t, tt.exported, exported, "%s: exported", tt.fn)
	}
}

func TestModulePath(t *testing.T) {
	assert.Equal(t, "github.com/leaksafe/leaksafe", modulePath)
}

// currentLabels returns the calling goroutine's profiler labels.
func currentLabels() map[string]string {
	m := map[string]string{}
	for k, v := range labelPairs(goroutineLabels()) {
		m[k] = v
	}
	return m
}

// startLabeled starts a goroutine that calls Run, from a function of this file, which the site names as the caller since it
// is a test file, and returns the labels the goroutine had and the line of the call.
func startLabeled() (map[string]string, int) {
	got := make(chan map[string]string)
	_, _, line, _ := runtime.Caller(0)
	line++
	at := Here()
	go Run(at, false, func(got chan map[string]string) { got <- currentLabels() }, got)
	return <-got, line + 1
}

func TestRunAddsToInheritedLabels(t *testing.T) {
	if !canKeepLabels {
		t.Skipf("%s: leaksafe cannot read goroutine labels here", runtime.Version())
	}
	defer pprof.SetGoroutineLabels(context.Background())
	pprof.SetGoroutineLabels(context.Background())

	got, line := startLabeled()
	site := "site_test.go:" + strconv.Itoa(line)
	assert.Equal(t, site, got[labelSite], "the go statement's line in the caller")
	assert.Contains(t, got, labelPrimitive)

	for _, request := range []string{"1", "2", "2"} { // the same parent twice: the kept labels
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(),
			pprof.Labels("request", request, labelSite, "stale")))
		got, _ := startLabeled()
		want := map[string]string{"request": request, labelSite: site, labelPrimitive: got[labelPrimitive]}
		assert.True(t, maps.Equal(want, got), "want %v, got %v", want, got)
	}
	pprof.SetGoroutineLabels(context.Background())
	got, _ = startLabeled()
	require.NotContains(t, got, "request", "a goroutine with no labels inherits none")
}

func TestHereIsCached(t *testing.T) {
	if !canKeepLabels {
		t.Skipf("%s: leaksafe cannot read goroutine labels here", runtime.Version())
	}
	var seen []*Site
	for range 3 {
		seen = append(seen, Here())
	}
	assert.Same(t, seen[0], seen[1])
	assert.Same(t, seen[1], seen[2])
	assert.NotSame(t, seen[0], Here(), "another line, another site")
}

func signal(done chan struct{}) { done <- struct{}{} }

func BenchmarkRun(b *testing.B) {
	done := make(chan struct{})
	b.ReportAllocs()
	for b.Loop() {
		at := Here()
		go func() { Run(at, false, signal, done) }()
		<-done
	}
}

func BenchmarkUnlabeled(b *testing.B) {
	done := make(chan struct{})
	b.ReportAllocs()
	for b.Loop() {
		go func() { done <- struct{}{} }()
		<-done
	}
}

func BenchmarkHere(b *testing.B) {
	for b.Loop() {
		Here()
	}
}
