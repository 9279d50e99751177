package orphan_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/leaksafe/leaksafe/leakvet/passes/orphan"
)

func TestOrphan(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), orphan.Analyzer, "orphancases")
}
