package lockleak_test

import (
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/leaksafe/leaksafe/leakvet/passes/lockleak"
)

// gokerFlags runs a over the GoBench goker kernels shipped with the Go tree and returns, for
// each diagnostic category, the kernels (file names without .go) it flags.
func gokerFlags(t *testing.T, a *analysis.Analyzer) map[string][]string {
	t.Helper()
	root, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(root)), "src", "runtime", "testdata",
		"testgoroutineleakprofile", "goker")
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: dir}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil {
		t.Skipf("goker kernels not loadable: %v", err)
	}
	if len(pkgs) != 1 || len(pkgs[0].Errors) > 0 || len(pkgs[0].GoFiles) < 60 {
		t.Skipf("goker kernels not loadable: %v", pkgs)
	}
	g, err := checker.Analyze([]*analysis.Analyzer{a}, pkgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[string]bool{}
	for act := range g.All() {
		if act.Analyzer != a || act.Package != pkgs[0] {
			continue
		}
		if act.Err != nil {
			t.Fatal(act.Err)
		}
		for _, d := range act.Diagnostics {
			name := strings.TrimSuffix(filepath.Base(act.Package.Fset.Position(d.Pos).Filename),
				".go")
			if seen[d.Category] == nil {
				seen[d.Category] = map[string]bool{}
			}
			seen[d.Category][name] = true
		}
	}
	out := map[string][]string{}
	for cat, names := range seen {
		for n := range names {
			out[cat] = append(out[cat], n)
		}
		sort.Strings(out[cat])
	}
	return out
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
