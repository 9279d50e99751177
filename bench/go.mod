module github.com/leaksafe/leaksafe/bench

go 1.25.0

require (
	github.com/alitto/pond/v2 v2.7.1
	github.com/gammazero/workerpool v1.2.1
	github.com/leaksafe/leaksafe v0.0.0
	github.com/panjf2000/ants/v2 v2.12.1
	github.com/samber/lo v1.53.0
	github.com/sourcegraph/conc v0.3.0
	golang.org/x/sync v0.22.0
)

require (
	github.com/gammazero/deque v1.2.1 // indirect
	go.uber.org/atomic v1.7.0 // indirect
	go.uber.org/multierr v1.9.0 // indirect
	golang.org/x/text v0.22.0 // indirect
)

replace github.com/leaksafe/leaksafe => ../
