package leaksafecheck_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/leaksafe/leaksafe/leakvet/passes/leaksafecheck"
)

func TestLeaksafecheck(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), leaksafecheck.Analyzer, "uses")
}
