// Command leakvet runs leakvet's analyzers over Go packages, alone or as go vet's -vettool.
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/leaksafe/leaksafe/leakvet"
)

func main() { multichecker.Main(leakvet.Analyzers...) }
