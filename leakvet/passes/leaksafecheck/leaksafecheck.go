// Package leaksafecheck defines an Analyzer that finds misuse of github.com/leaksafe/leaksafe.
package leaksafecheck

import (
	"golang.org/x/tools/go/analysis"
)

// Analyzer reports leaksafe primitives whose goroutines their owner cannot stop or join.
var Analyzer = &analysis.Analyzer{
	Name: "leaksafecheck",
	Doc:  "report leaksafe primitives that their owner cannot stop or join",
	Run:  func(*analysis.Pass) (any, error) { return nil, nil },
}
