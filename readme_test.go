package leaksafe_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/parser"
	"go/scanner"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A readmeBlock is a ```go block of README.md.
//
// A block is compiled as it stands when it begins with a package clause; as the declarations of a
// file when it parses as such; otherwise as the body of a function. The packages it names (fmt,
// leaksafe, http, ...) are imported for it when it does not import them itself. What a block uses
// but does not show, such as a helper or the variables it reads, goes in an HTML comment right
// before it, which GitHub does not render:
//
//	<!-- snippet: var urls []string -->
//
// The comment may span several lines up to its -->, and holds declarations only: its imports are
// found the same way.
type readmeBlock struct {
	fence    int      // README line of the opening ```go
	code     []string // the lines between the fences, indentation of the fence removed
	preamble []string // the Go code of a <!-- snippet: ... --> comment before the block
	preLine  int      // README line of the preamble's first line
}

// readmeBlocks returns the ```go blocks of a Markdown text, in order.
func readmeBlocks(text string) ([]readmeBlock, error) {
	var blocks []readmeBlock
	var pre []string
	preLine := 0
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(trimmed, "<!-- snippet:"):
			preLine = i + 1
			body := strings.TrimPrefix(trimmed, "<!-- snippet:")
			for !strings.Contains(body, "-->") {
				pre = append(pre, body)
				i++
				if i == len(lines) {
					return nil, fmt.Errorf("README.md:%d: snippet comment never ends", preLine)
				}
				body = lines[i]
			}
			pre = append(pre, strings.TrimSuffix(strings.TrimSpace(body), "-->"))
		case trimmed == "```go":
			indent := lines[i][:strings.Index(lines[i], "```")]
			b := readmeBlock{fence: i + 1, preamble: pre, preLine: preLine}
			for i++; ; i++ {
				if i == len(lines) {
					return nil, fmt.Errorf("README.md:%d: ```go block never ends", b.fence)
				}
				if strings.TrimSpace(lines[i]) == "```" {
					break
				}
				b.code = append(b.code, strings.TrimPrefix(lines[i], indent))
			}
			blocks = append(blocks, b)
			pre, preLine = nil, 0
		}
	}
	return blocks, nil
}

// readmeImports maps the package names that README blocks use to their import paths.
var readmeImports = map[string]string{
	"leaksafe":  "github.com/leaksafe/leaksafe",
	"leaktest":  "github.com/leaksafe/leaksafe/leaktest",
	"leakwatch": "github.com/leaksafe/leaksafe/leakwatch",
	"bufio":     "bufio",
	"context":   "context",
	"errors":    "errors",
	"fmt":       "fmt",
	"http":      "net/http",
	"io":        "io",
	"iter":      "iter",
	"log":       "log",
	"os":        "os",
	"slices":    "slices",
	"strconv":   "strconv",
	"strings":   "strings",
	"sync":      "sync",
	"testing":   "testing",
	"time":      "time",
}

// usedPackages returns the import paths of the known packages that src names as pkg.Name, other
// than those in imported.
func usedPackages(src string, imported map[string]bool) []string {
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile("", -1, len(src)), []byte(src), nil, 0)
	var paths []string
	prev, prevLit := token.ILLEGAL, ""
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.PERIOD && prev == token.IDENT {
			if path, ok := readmeImports[prevLit]; ok && !imported[path] {
				paths = append(paths, path)
			}
		}
		// A name after a period is a field or a method, never a package.
		if tok == token.IDENT && prev == token.PERIOD {
			tok = token.ILLEGAL
		}
		prev, prevLit = tok, lit
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// source returns the file that compiles b, with //line comments so that the compiler names the
// README's lines.
func (b readmeBlock) source() string {
	code := strings.Join(b.code, "\n")
	pre := strings.Join(b.preamble, "\n")
	if strings.HasPrefix(strings.TrimSpace(code), "package ") {
		return fmt.Sprintf("//line README.md:%d\n%s\n", b.fence+1, code)
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "", "package snippet\n"+code+"\n", parser.ImportsOnly)
	imported := map[string]bool{}
	if err == nil {
		for _, spec := range file.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			imported[path] = true
		}
	}
	_, err = parser.ParseFile(fset, "", "package snippet\n"+code+"\n", 0)
	declarations := err == nil

	var src strings.Builder
	src.WriteString("package snippet\n\n")
	for _, path := range usedPackages(pre+"\n"+code, imported) {
		fmt.Fprintf(&src, "import %q\n", path)
	}
	if declarations {
		fmt.Fprintf(&src, "\n//line README.md:%d\n%s\n", b.fence+1, code)
	}
	if len(b.preamble) > 0 {
		fmt.Fprintf(&src, "\n//line README.md:%d\n%s\n", b.preLine, pre)
	}
	if !declarations {
		fmt.Fprintf(&src, "\nfunc _() {\n//line README.md:%d\n%s\n}\n", b.fence+1, code)
	}
	return src.String()
}

// readmeLine finds README line numbers in go vet's output.
var readmeLine = regexp.MustCompile(`README\.md:(\d+)`)

// TestReadmeSnippets checks that every ```go block of README.md compiles and passes go vet. It
// writes each block as a package of a temporary module that replaces leaksafe with this
// repository, and runs one go vet over them all, offline.
func TestReadmeSnippets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go vet over the README's blocks")
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks, err := readmeBlocks(string(readme))
	require.NoError(t, err)
	require.NotEmpty(t, blocks, "README.md has no ```go block")

	root, err := filepath.Abs(".")
	require.NoError(t, err)
	dir := t.TempDir()
	gomod := fmt.Sprintf("module readme\n\ngo 1.25\n\n"+
		"require github.com/leaksafe/leaksafe v0.0.0\n\n"+
		"replace github.com/leaksafe/leaksafe => %s\n", root)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	sum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	for _, b := range blocks {
		pkg := filepath.Join(dir, fmt.Sprintf("b%04d", b.fence))
		require.NoError(t, os.Mkdir(pkg, 0o755))
		src := []byte(b.source())
		require.NoError(t, os.WriteFile(filepath.Join(pkg, "snippet.go"), src, 0o644))
	}

	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "go test puts its own go command on PATH")
	cmd := exec.CommandContext(t.Context(), goCmd, "vet", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}

	// Each message names a README line; report it under the block that holds that line.
	failed := map[int][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := readmeLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		line, _ := strconv.Atoi(m[1])
		fence := 0
		for _, b := range blocks {
			if b.fence < line && line <= b.fence+len(b.code) ||
				b.preLine > 0 && b.preLine <= line && line < b.preLine+len(b.preamble) {
				fence = b.fence
			}
		}
		failed[fence] = append(failed[fence], sc.Text())
	}
	if len(failed) == 0 {
		t.Fatalf("go vet over the README's ```go blocks failed: %v\n%s", err, out)
	}
	for _, fence := range slices.Sorted(maps.Keys(failed)) {
		t.Errorf("README.md:%d: the ```go block does not compile or fails go vet:\n%s",
			fence, strings.Join(failed[fence], "\n"))
	}
}
