// Package syntax holds the walks over a function's syntax that leakvet's analyzers share.
package syntax

import "go/ast"

// Func returns the type and body of a function declaration or literal, and nils for any other
// node and for a declaration without a body.
func Func(n ast.Node) (*ast.FuncType, *ast.BlockStmt) {
	switch n := n.(type) {
	case *ast.FuncDecl:
		if n.Body != nil {
			return n.Type, n.Body
		}
	case *ast.FuncLit:
		return n.Type, n.Body
	}
	return nil, nil
}

// Walk calls f for body and every node below it, in depth-first order, with the nodes that
// enclose n, outermost first (stack is empty for body itself). The stack is f's to keep or append
// to. With lits false, Walk skips nested function literals and all they hold, as a check that
// visits every function on its own wants; with lits true it walks into them.
func Walk(body *ast.BlockStmt, lits bool, f func(n ast.Node, stack []ast.Node)) {
	var stack []ast.Node
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		if _, ok := n.(*ast.FuncLit); ok && !lits {
			return false
		}
		f(n, stack[:len(stack):len(stack)])
		stack = append(stack, n)
		return true
	})
}
