package lockleak_test

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"

	"github.com/leaksafe/leaksafe/leakvet/internal/goker"
	"github.com/leaksafe/leaksafe/leakvet/passes/lockleak"
)

// gokerFlags runs a over the GoBench goker kernels shipped with the Go tree and returns, for
// each diagnostic category, the kernels (file names without .go) it flags.
func gokerFlags(t *testing.T, a *analysis.Analyzer) map[string][]string {
	t.Helper()
	dir := filepath.Join(goker.Dir(t), "goker")
	return goker.ByCategory(goker.Flagged(t, dir, []*analysis.Analyzer{a}, goker.Kernel))
}

// TestGoker pins how many goker kernels lockleak flags, per check and in all.
func TestGoker(t *testing.T) {
	if testing.Short() {
		t.Skip("loads and type-checks the goker kernels")
	}
	setOrder(t, true)
	got := gokerFlags(t, lockleak.Analyzer)
	floor := map[string]int{"L1": 6, "L2": 4, "L3": 5, "M": 5}
	all := map[string]bool{}
	for cat, names := range got {
		t.Logf("%s (%d): %s", cat, len(names), strings.Join(names, " "))
		for _, n := range names {
			all[n] = true
		}
		if _, ok := floor[cat]; !ok {
			t.Errorf("unknown category %q", cat)
		}
	}
	for cat, n := range floor {
		if len(got[cat]) < n {
			t.Errorf("%s flags %d kernels, want at least %d", cat, len(got[cat]), n)
		}
	}
	t.Logf("lockleak flags %d kernels", len(all))
	if len(all) < 20 {
		t.Errorf("lockleak flags %d kernels, want at least 20", len(all))
	}
	if all["main"] {
		t.Errorf("diagnostic in the harness main.go")
	}
}
