// Package leakvet is a static analyzer that finds goroutine leaks before the code runs: a goroutine
// blocked forever on a channel nobody serves, a lock never released, a done channel never closed.
// Each diagnostic says what blocks forever and the leak-safe form to use instead.
//
// Run it as a command or under go vet:
//
//	go run github.com/leaksafe/leaksafe/leakvet/cmd/leakvet ./...
//	go vet -vettool=$(which leakvet) ./...
package leakvet

import (
	"golang.org/x/tools/go/analysis"

	"github.com/leaksafe/leaksafe/leakvet/passes/chanleak"
	"github.com/leaksafe/leaksafe/leakvet/passes/leaksafecheck"
	"github.com/leaksafe/leaksafe/leakvet/passes/lockleak"
	"github.com/leaksafe/leaksafe/leakvet/passes/orphan"
)

// Analyzers are every check leakvet runs, in the order cmd/leakvet registers them.
var Analyzers = []*analysis.Analyzer{
	chanleak.Analyzer,
	leaksafecheck.Analyzer,
	lockleak.Analyzer,
	orphan.Analyzer,
}
