package chanleak_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/leaksafe/leaksafe/leakvet/passes/chanleak"
)

func TestChanleak(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), chanleak.Analyzer, "chans")
}

func TestUnguarded(t *testing.T) {
	if err := chanleak.Analyzer.Flags.Set("unguarded", "true"); err != nil {
		t.Fatal(err)
	}
	defer chanleak.Analyzer.Flags.Set("unguarded", "false")
	analysistest.Run(t, analysistest.TestData(), chanleak.Analyzer, "unguarded")
}
