package leakvet_test

import (
	"go/ast"
	"go/token"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/leaksafe/leaksafe/leakvet"
)

func TestGokerProbe(t *testing.T) {
	dir := filepath.Join(runtime.GOROOT(), "src/runtime/testdata/testgoroutineleakprofile")
	for _, d := range []string{filepath.Join(dir, "goker"), dir} {
		cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: d, Tests: false}
		pkgs, err := packages.Load(cfg, ".")
		if err != nil {
			t.Fatal(err)
		}
		g, err := checker.Analyze(leakvet.Analyzers, pkgs, nil)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for act := range g.All() {
			if !act.IsRoot {
				continue
			}
			for _, diag := range act.Diagnostics {
				p := act.Package.Fset.Position(diag.Pos)
				lines = append(lines, filepath.Base(p.Filename)+":"+p.String()+" "+diag.Category+" "+diag.Message)
			}
		}
		sort.Strings(lines)
		t.Log(strings.Join(lines, "\n"))
	}
	_ = ast.File{}
	_ = token.NoPos
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0)) + string(rune('0'+n%10)) }
