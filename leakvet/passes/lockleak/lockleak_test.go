package lockleak_test

import (
	"strconv"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/leaksafe/leaksafe/leakvet/passes/lockleak"
)

func TestLockleak(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), lockleak.Analyzer, "lockcases")
}

// TestOrder runs L2 with its flag, and checks that it stays quiet without.
func TestOrder(t *testing.T) {
	setOrder(t, true)
	analysistest.Run(t, analysistest.TestData(), lockleak.Analyzer, "ordercases")
	setOrder(t, false)
	analysistest.Run(t, analysistest.TestData(), lockleak.Analyzer, "noorder")
}

// setOrder sets the -order flag for the rest of the test.
func setOrder(t *testing.T, on bool) {
	t.Helper()
	old := lockleak.Analyzer.Flags.Lookup("order").Value.String()
	if err := lockleak.Analyzer.Flags.Set("order", strconv.FormatBool(on)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lockleak.Analyzer.Flags.Set("order", old) })
}
