package leakvet_test

import (
	"go/ast"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leaksafe/leaksafe/leakvet"
	"github.com/leaksafe/leaksafe/leakvet/internal/goker"
)

// The kernels and patterns that leakvet flags today. TestGoker fails if a change flags fewer.
const (
	gokerFloor   = 28
	patternFloor = 5
)

// expected is the check that a study of each goker kernel names as the one able to see its
// leak statically ("v2" and "none": beyond a single-package analysis).
var expected = map[string]string{
	"grpc660": "A", "moby33781": "A", "kubernetes5316": "A", "cockroach1462": "B",
	"kubernetes26980": "B", "cockroach18101": "R", "moby25384": "W", "cockroach584": "L1",
	"grpc3017": "L1", "grpc795": "L1", "moby17176": "L1", "moby7559": "L1", "etcd5509": "L1",
	"cockroach9935": "L3", "moby36114": "L3", "syncthing4829": "L3", "cockroach6181": "L3",
	"kubernetes62464": "L3", "kubernetes1321": "M", "kubernetes6632": "M", "grpc1460": "M",
	"kubernetes10182": "M", "etcd6873": "M", "moby30408": "O", "grpc1275": "O",
	"cockroach25456": "O", "grpc1424": "O", "kubernetes25331": "C", "cockroach10790": "C",
}

// patterns maps the functions of commonpatterns.go to the pattern they belong to.
var patterns = map[string]string{
	"noCloseRange": "NoCloseRange", "Start": "MethodContractViolation",
	"workerLifecycle": "MethodContractViolation", "doubleSend": "DoubleSend",
	"earlyReturn": "EarlyReturn", "nCastLeak": "NCastLeak", "timeout": "Timeout",
}

// TestGoker runs every analyzer over the goroutine leak kernels in GOROOT's testdata (the
// GoBench goker kernels and commonpatterns.go) and prints, with -v, which ones they flag.
func TestGoker(t *testing.T) {
	dir := goker.Dir(t)
	kernels := goker.Flagged(t, filepath.Join(dir, "goker"), leakvet.Analyzers,
		func(file string, fd *ast.FuncDecl) string {
			if file == "main.go" {
				return ""
			}
			return goker.Kernel(file, fd)
		})
	files, err := filepath.Glob(filepath.Join(dir, "goker", "*.go"))
	if err != nil || len(files) < 2 {
		t.Skipf("no goker kernels in %s: %v", dir, err)
	}
	t.Logf("%-18s %-9s %-8s %s", "kernel", "expected", "flagged", "categories")
	n := 0
	for _, f := range files {
		k := strings.TrimSuffix(filepath.Base(f), ".go")
		if k == "main" {
			continue
		}
		exp := expected[k]
		if exp == "" {
			exp = "-"
		}
		cats := kernels[k]
		if len(cats) > 0 {
			n++
		}
		t.Logf("%-18s %-9s %-8v %s", k, exp, len(cats) > 0, strings.Join(cats, ","))
	}
	t.Logf("goker: %d of %d kernels flagged", n, len(files)-1)
	if n < gokerFloor {
		t.Errorf("flagged %d goker kernels, want at least %d", n, gokerFloor)
	}

	pats := goker.Flagged(t, dir, leakvet.Analyzers, func(file string, fd *ast.FuncDecl) string {
		if file != "commonpatterns.go" || fd == nil {
			return ""
		}
		return patterns[fd.Name.Name]
	})
	m := 0
	for _, p := range []string{"NoCloseRange", "MethodContractViolation", "DoubleSend",
		"EarlyReturn", "NCastLeak", "Timeout"} {
		if len(pats[p]) > 0 {
			m++
		}
		t.Logf("%-24s flagged=%-5v %s", p, len(pats[p]) > 0, strings.Join(pats[p], ","))
	}
	t.Logf("commonpatterns: %d of 6 patterns flagged", m)
	if m < patternFloor {
		t.Errorf("flagged %d common patterns, want at least %d", m, patternFloor)
	}
}
