// Package ignore implements the //leakvet:ignore directive, which silences a leakvet diagnostic
// on the line it is written on or on the line below it.
package ignore

import (
	"go/ast"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Directive is the comment prefix that suppresses a diagnostic. A reason must follow it:
// //leakvet:ignore the caller closes done.
const Directive = "//leakvet:ignore"

// A Reporter reports diagnostics of one pass, except those that a //leakvet:ignore directive
// with a reason suppresses. A directive without a reason suppresses nothing: the diagnostic
// is reported with a note that the reason is missing.
type Reporter struct {
	pass  *analysis.Pass
	lines map[*token.File]map[int]string // line -> reason ("" when missing)
}

// New returns a Reporter for pass.
func New(pass *analysis.Pass) *Reporter {
	return &Reporter{pass: pass, lines: make(map[*token.File]map[int]string)}
}

// Report reports d unless a directive on d's line, or the line above it, suppresses it.
func (r *Reporter) Report(d analysis.Diagnostic) {
	tf := r.pass.Fset.File(d.Pos)
	if tf == nil {
		r.pass.Report(d)
		return
	}
	lines := r.directives(tf)
	line := tf.Line(d.Pos)
	for _, l := range []int{line, line - 1} {
		reason, ok := lines[l]
		if !ok {
			continue
		}
		if reason != "" {
			return
		}
		d.Message += " (a " + Directive + " directive needs a reason to silence this)"
		break
	}
	r.pass.Report(d)
}

// directives returns the lines of tf's file that hold a directive, with its reason.
func (r *Reporter) directives(tf *token.File) map[int]string {
	if m, ok := r.lines[tf]; ok {
		return m
	}
	m := make(map[int]string)
	r.lines[tf] = m
	var file *ast.File
	for _, f := range r.pass.Files {
		if r.pass.Fset.File(f.FileStart) == tf {
			file = f
			break
		}
	}
	if file == nil {
		return m
	}
	for _, cg := range file.Comments {
		for _, c := range cg.List {
			rest, ok := strings.CutPrefix(c.Text, Directive)
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
				continue
			}
			m[tf.Line(c.Slash)] = strings.TrimSpace(rest)
		}
	}
	return m
}
