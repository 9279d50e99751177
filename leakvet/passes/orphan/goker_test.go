package orphan_test

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"

	"github.com/leaksafe/leaksafe/leakvet/internal/goker"
	"github.com/leaksafe/leaksafe/leakvet/passes/orphan"
)

// gokerFlags runs a over the GoBench goker kernels shipped with the Go tree and returns, for
// each diagnostic category, the kernels (file names without .go) it flags.
func gokerFlags(t *testing.T, a *analysis.Analyzer) map[string][]string {
	t.Helper()
	dir := filepath.Join(goker.Dir(t), "goker")
	return goker.ByCategory(goker.Flagged(t, dir, []*analysis.Analyzer{a}, goker.Kernel))
}

// TestGoker pins how many goker kernels orphan flags.
func TestGoker(t *testing.T) {
	if testing.Short() {
		t.Skip("loads and type-checks the goker kernels")
	}
	got := gokerFlags(t, orphan.Analyzer)
	for cat, names := range got {
		t.Logf("%s (%d): %s", cat, len(names), strings.Join(names, " "))
		if cat != "O" {
			t.Errorf("unknown category %q", cat)
		}
	}
	if n := len(got["O"]); n < 5 {
		t.Errorf("orphan flags %d kernels, want at least 5", n)
	}
	for _, n := range got["O"] {
		if n == "main" {
			t.Errorf("diagnostic in the harness main.go")
		}
	}
}
