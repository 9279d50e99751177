package syntax

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

const src = `package p

func f() {
	if true {
		go func() { x() }()
	}
}

func g()
`

func parse(t *testing.T) *ast.File {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFunc(t *testing.T) {
	file := parse(t)
	f, g := file.Decls[0].(*ast.FuncDecl), file.Decls[1].(*ast.FuncDecl)
	if typ, body := Func(f); typ != f.Type || body != f.Body {
		t.Errorf("Func(f) = %v, %v, want f's type and body", typ, body)
	}
	if typ, body := Func(g); typ != nil || body != nil {
		t.Errorf("Func of a declaration without a body = %v, %v, want nils", typ, body)
	}
	if typ, body := Func(f.Body); typ != nil || body != nil {
		t.Errorf("Func of a block = %v, %v, want nils", typ, body)
	}
	var lit *ast.FuncLit
	ast.Inspect(f, func(n ast.Node) bool {
		if l, ok := n.(*ast.FuncLit); ok {
			lit = l
		}
		return true
	})
	if typ, body := Func(lit); typ != lit.Type || body != lit.Body {
		t.Errorf("Func(literal) = %v, %v, want its type and body", typ, body)
	}
}

func TestWalk(t *testing.T) {
	body := parse(t).Decls[0].(*ast.FuncDecl).Body
	for _, lits := range []bool{false, true} {
		calls := 0
		depth := map[string]int{}
		Walk(body, lits, func(n ast.Node, stack []ast.Node) {
			if n == body && len(stack) != 0 {
				t.Errorf("body has a stack of %d", len(stack))
			}
			if len(stack) > 0 && stack[0] != body {
				t.Errorf("stack starts at %T, want the body", stack[0])
			}
			_ = append(stack, n) // the caller's to extend: must not disturb the walk
			if call, ok := n.(*ast.CallExpr); ok {
				calls++
				if id, ok := call.Fun.(*ast.Ident); ok {
					depth[id.Name] = len(stack)
				}
			}
		})
		want := 1 // the go statement's call of the literal
		if lits {
			want = 2 // and x() inside it
		}
		if calls != want {
			t.Errorf("lits=%v: %d calls visited, want %d", lits, calls, want)
		}
		if lits && depth["x"] != 8 {
			// body, if, block, go, call, literal, literal's block, expression statement
			t.Errorf("x() under %d nodes, want 8", depth["x"])
		}
	}
}
