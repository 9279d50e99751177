// Package goker runs analyzers over the goroutine leak kernels that the Go tree keeps for its leak
// profile's tests ($GOROOT/src/runtime/testdata/testgoroutineleakprofile: the GoBench goker
// kernels and commonpatterns.go), for the tests that pin what leakvet finds there.
package goker

import (
	"go/ast"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"
)

// Dir returns the directory of the kernels in the Go tree that runs the test, and skips t where
// that tree has none.
func Dir(t testing.TB) string {
	t.Helper()
	root, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(root)), "src", "runtime", "testdata",
		"testgoroutineleakprofile")
	if files, err := filepath.Glob(filepath.Join(dir, "goker", "*.go")); err != nil ||
		len(files) < 60 {
		t.Skipf("no goker kernels in %s: %v", dir, err)
	}
	return dir
}

// Kernel names a diagnostic in the goker directory by its kernel: the file's name without .go,
// and "main" for the harness.
func Kernel(file string, _ *ast.FuncDecl) string {
	return strings.TrimSuffix(file, ".go")
}

// Flagged loads the package in dir, runs analyzers over it and returns the categories of the
// diagnostics, sorted, under the name that name gives each one (from its file's base name and the
// function declaration that holds it, nil outside one); a diagnostic that name gives "" is left
// out. It skips t if the package does not load.
func Flagged(t testing.TB, dir string, analyzers []*analysis.Analyzer,
	name func(file string, fd *ast.FuncDecl) string) map[string][]string {
	t.Helper()
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: dir}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil || len(pkgs) != 1 || len(pkgs[0].Errors) > 0 {
		t.Skipf("cannot load %s: %v", dir, err)
	}
	g, err := checker.Analyze(analyzers, pkgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]string)
	for act := range g.All() {
		if !act.IsRoot {
			continue
		}
		if act.Err != nil {
			t.Fatal(act.Err)
		}
		for _, d := range act.Diagnostics {
			file := act.Package.Fset.File(d.Pos)
			var fd *ast.FuncDecl
			for _, f := range act.Package.Syntax {
				if act.Package.Fset.File(f.FileStart) != file {
					continue
				}
				for _, decl := range f.Decls {
					if fn, ok := decl.(*ast.FuncDecl); ok && fn.Pos() <= d.Pos && d.Pos < fn.End() {
						fd = fn
					}
				}
			}
			if k := name(filepath.Base(file.Name()), fd); k != "" {
				out[k] = append(out[k], d.Category)
			}
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// ByCategory turns Flagged's result around: for each category, the names it was reported under,
// sorted and each once.
func ByCategory(flagged map[string][]string) map[string][]string {
	seen := map[string]map[string]bool{}
	for name, cats := range flagged {
		for _, c := range cats {
			if seen[c] == nil {
				seen[c] = map[string]bool{}
			}
			seen[c][name] = true
		}
	}
	out := map[string][]string{}
	for c, names := range seen {
		for n := range names {
			out[c] = append(out[c], n)
		}
		sort.Strings(out[c])
	}
	return out
}
