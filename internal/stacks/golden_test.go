package stacks_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaksafe/leaksafe/internal/stacks"
)

// Goroutines as Go 1.25 to 1.27 print them, one format detail each.
var golden = []struct {
	name string
	text string
	want stacks.Goroutine // Text is the input itself
}{
	{
		name: "Go 1.26 labels inside the brackets, leaked",
		text: "goroutine 7 [chan receive (leaked) labels:{\"a b\": \"c\\\"d\", \"leaktest.check\": \"3\"}]:\n" +
			"main.leak()\n\t/tmp/probe/main.go:11 +0x25\n" +
			"created by main.main in goroutine 1\n\t/tmp/probe/main.go:17 +0xae",
		want: stacks.Goroutine{
			ID: 7, State: "chan receive", Leaked: true,
			Labels:    map[string]string{"a b": `c"d`, "leaktest.check": "3"},
			Frames:    []stacks.Frame{{"main.leak", "/tmp/probe/main.go", 11}},
			CreatedBy: stacks.Frame{"main.main", "/tmp/probe/main.go", 17}, CreatorID: 1,
		},
	},
	{
		name: "Go 1.27 labels after the brackets, quoted only where needed",
		text: "goroutine 19 [chan receive (leaked)] {\"a b\": \"c\\\"d\", leaktest.check: 3}:\n" +
			"main.leak()\n\t/tmp/probe/main.go:11 +0x25\n" +
			"created by main.main in goroutine 1\n\t/tmp/probe/main.go:17 +0xad",
		want: stacks.Goroutine{
			ID: 19, State: "chan receive", Leaked: true,
			Labels:    map[string]string{"a b": `c"d`, "leaktest.check": "3"},
			Frames:    []stacks.Frame{{"main.leak", "/tmp/probe/main.go", 11}},
			CreatedBy: stacks.Frame{"main.main", "/tmp/probe/main.go", 17}, CreatorID: 1,
		},
	},
	{
		name: "minutes, locked to thread, and inlined frames with arguments",
		text: "goroutine 12 [sync.Mutex.Lock, 5 minutes, locked to thread]:\n" +
			"internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)\n\t/go/src/runtime/sema.go:95 +0x25\n" +
			"sync.(*Mutex).Lock(...)\n\t/go/src/sync/mutex.go:46\n" +
			"main.waitAll[...](0x1c3629786008)\n\t/src/main.go:35 +0x1f\n" +
			"created by main.start in goroutine 9\n\t/src/main.go:19 +0x5f",
		want: stacks.Goroutine{
			ID: 12, State: "sync.Mutex.Lock", WaitMinutes: 5, LockedToThread: true,
			Frames: []stacks.Frame{
				{"internal/sync.runtime_SemacquireMutex", "/go/src/runtime/sema.go", 95},
				{"sync.(*Mutex).Lock", "/go/src/sync/mutex.go", 46},
				{"main.waitAll[...]", "/src/main.go", 35},
			},
			CreatedBy: stacks.Frame{"main.start", "/src/main.go", 19}, CreatorID: 9,
		},
	},
	{
		name: "a synctest bubble, durable, leaked, with minutes",
		text: "goroutine 30 [chan receive (durable) (leaked), 2 minutes, synctest bubble 4]:\n" +
			"main.worker({0x51a2a8, 0x2769b4986000})\n\t/src/main.go:40 +0x19\n" +
			"created by main.test.func1 in goroutine 29\n\t/src/main.go:44 +0x67",
		want: stacks.Goroutine{
			ID: 30, State: "chan receive", Durable: true, Leaked: true, WaitMinutes: 2, Bubble: 4,
			Frames:    []stacks.Frame{{"main.worker", "/src/main.go", 40}},
			CreatedBy: stacks.Frame{"main.test.func1", "/src/main.go", 44}, CreatorID: 29,
		},
	},
	{
		name: "a wait that is not a durable reason gets the mark appended",
		text: "goroutine 31 [sleep (durable), synctest bubble 4]:\n" +
			"time.Sleep(0x3b9aca00)\n\t/go/src/runtime/time.go:363 +0x165",
		want: stacks.Goroutine{
			ID: 31, State: "sleep", Durable: true, Bubble: 4,
			Frames: []stacks.Frame{{"time.Sleep", "/go/src/runtime/time.go", 363}},
		},
	},
	{
		name: "GOTRACEBACK=system: gp and m in the header, fp sp pc after the offset",
		text: "goroutine 5 gp=0xc000007340 m=nil [GC worker (idle)]:\n" +
			"runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)\n" +
			"\t/go/src/runtime/proc.go:435 +0xce fp=0xc000051f38 sp=0xc000051f18 pc=0x46f84e\n" +
			"created by runtime.gcBgMarkStartWorkers in goroutine 1\n" +
			"\t/go/src/runtime/mgc.go:1373 +0x105",
		want: stacks.Goroutine{
			ID: 5, State: "GC worker (idle)",
			Frames:    []stacks.Frame{{"runtime.gopark", "/go/src/runtime/proc.go", 435}},
			CreatedBy: stacks.Frame{"runtime.gcBgMarkStartWorkers", "/go/src/runtime/mgc.go", 1373}, CreatorID: 1,
		},
	},
	{
		name: "ancestors, and frames elided at both ends",
		text: "goroutine 9 [select (no cases)]:\n" +
			"main.deep(...)\n\t/src/main.go:5\n" +
			"...10 frames elided...\n" +
			"main.deep(0x3)\n\t/src/main.go:6 +0x10\n" +
			"...additional frames elided...\n" +
			"created by main.spawn in goroutine 8\n\t/src/main.go:20 +0x2a\n" +
			"[originating from goroutine 8]:\n" +
			"main.spawn(...)\n\t/src/main.go:20 +0x2a\n" +
			"main.run(...)\n\t/src/main.go:25 +0x30\n" +
			"...additional frames elided...\n" +
			"created by main.main\n\t/src/main.go:30 +0x40",
		want: stacks.Goroutine{
			ID: 9, State: "select (no cases)", Elided: true,
			Frames:    []stacks.Frame{{"main.deep", "/src/main.go", 5}, {"main.deep", "/src/main.go", 6}},
			CreatedBy: stacks.Frame{"main.spawn", "/src/main.go", 20}, CreatorID: 8,
			Ancestors: []stacks.Ancestor{{
				ID:        8,
				Frames:    []stacks.Frame{{"main.spawn", "/src/main.go", 20}, {"main.run", "/src/main.go", 25}},
				CreatedBy: stacks.Frame{"main.main", "/src/main.go", 30},
			}},
		},
	},
	{
		name: "running on another thread: no stack",
		text: "goroutine 3 [running]:\n\tgoroutine running on other thread; stack unavailable\n" +
			"created by main.main in goroutine 1\n\t/src/main.go:9 +0x1d",
		want: stacks.Goroutine{
			ID: 3, State: "running",
			CreatedBy: stacks.Frame{"main.main", "/src/main.go", 9}, CreatorID: 1,
		},
	},
	{
		name: "the main goroutine, a panic frame, a path with a space",
		text: "goroutine 1 [running]:\n" +
			"panic({0x4b6a20?, 0x5374d0?})\n\t/go/src/runtime/panic.go:792 +0x132\n" +
			"main.main()\n\tC:/Program Files/src/main.go:7 +0x25",
		want: stacks.Goroutine{
			ID: 1, State: "running",
			Frames: []stacks.Frame{
				{"panic", "/go/src/runtime/panic.go", 792},
				{"main.main", "C:/Program Files/src/main.go", 7},
			},
		},
	},
}

func TestParseGolden(t *testing.T) {
	for _, tc := range golden {
		t.Run(tc.name, func(t *testing.T) {
			gs := stacks.Parse(tc.text + "\n")
			require.Len(t, gs, 1, "one goroutine")
			want := tc.want
			want.Text = tc.text
			assert.Equal(t, want, gs[0])
		})
	}
}

func TestParseSeveral(t *testing.T) {
	var dump string
	for _, tc := range golden {
		dump += tc.text + "\n\n"
	}
	gs := stacks.Parse("not a goroutine\n\n" + dump)
	require.Len(t, gs, len(golden), "each goroutine once, the block that is none skipped")
	for i, tc := range golden {
		assert.Equal(t, tc.want.ID, gs[i].ID, "in the order of the dump")
	}
}

func TestTop(t *testing.T) {
	gs := stacks.Parse("goroutine 4 [chan receive]:\nruntime.gopark(0x1)\n\t/go/src/runtime/proc.go:435 +0xce\n" +
		"internal/runtime/x.f()\n\t/go/src/internal/runtime/x/f.go:1\nmain.f()\n\t/src/main.go:3 +0x1\n")
	require.Len(t, gs, 1)
	assert.Equal(t, stacks.Frame{"main.f", "/src/main.go", 3}, gs[0].Top(), "the first frame outside the runtime")
	assert.Equal(t, stacks.Frame{}, (&stacks.Goroutine{}).Top(), "none without frames")
	assert.Equal(t, "/src/main.go:3", gs[0].Top().Location())
	assert.Equal(t, "main.f /src/main.go:3", gs[0].Top().String())
	assert.Empty(t, stacks.Frame{}.Location(), "no location for the zero Frame")
}

// A debug=1 goroutineleak profile as Go 1.26 writes it: columns padded with several tabs.
const debug1 = "goroutineleak profile: total 5\n" +
	"3 @ 0x47e14e 0x4158ee 0x415432 0x4dc825 0x484681\n" +
	"# labels: {\"a b\":\"c\\\"d\", \"leaktest.check\":\"3\"}\n" +
	"#\t0x4dc824\tmain.leak+0x24\t/tmp/probe/main.go:11\n" +
	"\n" +
	"2 @ 0x47e14e 0x45fb92 0x45fb69 0x47f1c5 0x48839d 0x4dc89d 0x4dc888 0x4dc84f 0x484681\n" +
	"#\t0x47f1c4\tinternal/sync.runtime_SemacquireMutex+0x24\t/go/src/runtime/sema.go:95\n" +
	"#\t0x48839c\tinternal/sync.(*Mutex).lockSlow+0x15c\t\t/go/src/internal/sync/mutex.go:149\n" +
	"#\t0x4dc887\tsync.(*Mutex).Lock+0x47\t\t\t\t/go/src/sync/mutex.go:46\n" +
	"#\t0x4dc84e\tmain.mu+0xe\t\t\t\t\t/tmp/probe/main.go:12\n"

func TestParseRecordsGolden(t *testing.T) {
	rs := stacks.ParseRecords(debug1)
	require.Len(t, rs, 2, "one record per stack and labels")
	assert.Equal(t, 3, rs[0].Count, "how many goroutines have the stack")
	assert.Equal(t, map[string]string{"a b": `c"d`, "leaktest.check": "3"}, rs[0].Labels)
	assert.Equal(t, []stacks.Frame{{"main.leak", "/tmp/probe/main.go", 11}}, rs[0].Frames)
	assert.Nil(t, rs[1].Labels, "no labels line")
	assert.Equal(t, []stacks.Frame{
		{"internal/sync.runtime_SemacquireMutex", "/go/src/runtime/sema.go", 95},
		{"internal/sync.(*Mutex).lockSlow", "/go/src/internal/sync/mutex.go", 149},
		{"sync.(*Mutex).Lock", "/go/src/sync/mutex.go", 46},
		{"main.mu", "/tmp/probe/main.go", 12},
	}, rs[1].Frames, "every frame's file:line, however many tabs pad the columns")
	assert.Contains(t, rs[1].Text, "main.mu+0xe", "the record as printed")
}

// TestAttachLabels gives goroutines without labels in their header those of the debug=1 records
// with their stack, by count.
func TestAttachLabels(t *testing.T) {
	block := func(id int, line int) string {
		return fmt.Sprintf("goroutine %d [chan send]:\nmain.f()\n\t/src/main.go:%d +0x1e\n"+
			"created by main.g in goroutine 1\n\t/src/main.go:30 +0x5f\n", id, line)
	}
	gs := stacks.Parse(strings.Join([]string{block(5, 10), block(6, 10), block(7, 10), block(8, 20)}, "\n"))
	rs := stacks.ParseRecords("goroutine profile: total 4\n" +
		"2 @ 0x1 0x2\n# labels: {\"leaksafe\":\"Map\", \"leaksafe.site\":\"a.go:3\"}\n" +
		"#\t0x1\truntime.gopark+0x1\t/go/src/runtime/proc.go:460\n#\t0x2\tmain.f+0x1e\t/src/main.go:10\n\n" +
		"1 @ 0x1 0x2\n#\t0x1\truntime.gopark+0x1\t/go/src/runtime/proc.go:460\n" +
		"#\t0x2\tmain.f+0x1e\t/src/main.go:10\n\n" +
		"1 @ 0x1 0x3\n# labels: {\"k\":\"v\"}\n#\t0x3\tmain.f+0x1e\t/src/main.go:20\n")
	stacks.AttachLabels(gs, rs)
	var got []string
	for _, g := range gs {
		got = append(got, fmt.Sprint(g.Labels[stacks.LabelSite], g.Labels["k"]))
	}
	assert.Equal(t, []string{"a.go:3", "a.go:3", "", "v"}, got, "two by the labelled record, one by the other")
}
