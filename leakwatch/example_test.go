package leakwatch_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/leaksafe/leaksafe/leakwatch"
)

// A service checks itself once, at a time of its choosing.
func ExampleSnapshot() {
	r, err := leakwatch.Snapshot()
	if err != nil {
		log.Print(err)
		return
	}
	fmt.Println("leaked goroutines:", r.Leaked)
	fmt.Println("made by the leak profile:", r.Mode == leakwatch.ModeProfile == leakwatch.ProfileAvailable())
	// Output:
	// leaked goroutines: 0
	// made by the leak profile: true
}

// A service logs every report that finds a leak, for the life of the process or until done closes.
func ExampleWatch() {
	done := make(chan struct{})
	reports, terminated := leakwatch.Watch(done, time.Minute)
	r := <-reports // the first check runs at once
	if r.Leaked > 0 {
		log.Print(r)
	}
	fmt.Println("sites:", len(r.Sites))
	close(done)  // stops the watch
	<-terminated // returning not to leak the goroutine
	// Output:
	// sites: 0
}

// Mount the handler beside net/http/pprof; read it as text, or as JSON with ?format=json.
func ExampleHandler() {
	mux := http.NewServeMux()
	mux.Handle("GET /debug/leaks", leakwatch.Handler())

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/leaks?format=json", nil))
	var r leakwatch.Report
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		log.Print(err)
		return
	}
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), "sites:", len(r.Sites))
	// Output:
	// 200 application/json sites: 0
}

// A Watcher with a CPU budget and a threshold of its own.
func ExampleNew() {
	w := leakwatch.New(leakwatch.Budget(0.001), leakwatch.Threshold(30*time.Minute))
	r, err := w.Snapshot()
	if err != nil {
		log.Print(err)
		return
	}
	fmt.Println("threshold:", r.Threshold)
	fmt.Println("next check under the budget after at least 1000 times its cost:", r.Next >= 1000*r.Cost)
	// Output:
	// threshold: 30m0s
	// next check under the budget after at least 1000 times its cost: true
}

// Budget(0.05) lets checks use 5% of one CPU: a check that cost 2ms may run every 40ms.
func ExampleBudget() {
	w := leakwatch.New(leakwatch.Budget(0.05))
	r, err := w.Snapshot()
	if err != nil {
		log.Print(err)
		return
	}
	fmt.Println(r.Next == r.Cost*20)
	// Output:
	// true
}

// Where there is no leak profile, a goroutine blocked at one place for 5 minutes is suspected.
func ExampleThreshold() {
	w := leakwatch.New(leakwatch.Threshold(5 * time.Minute))
	r, err := w.Snapshot()
	if err != nil {
		log.Print(err)
		return
	}
	fmt.Println(r.Threshold)
	// Output:
	// 5m0s
}

// A service whose connection pool waits for requests for hours by design, and whose cache refresher
// (a generic function, named without its type parameters) waits for a signal.
func ExampleIgnore() {
	w := leakwatch.New(leakwatch.Ignore("database/sql.(*DB).connectionOpener",
		"example.com/app/cache.refresh"))
	r, err := w.Snapshot()
	if err != nil {
		log.Print(err)
		return
	}
	fmt.Println("sites:", len(r.Sites))
	// Output:
	// sites: 0
}

// Suspect a site whose blocked goroutines grow at each of five checks in a row, before the
// threshold.
func ExampleGrowth() {
	w := leakwatch.New(leakwatch.Growth(5))
	r, err := w.Snapshot()
	if err != nil {
		log.Print(err)
		return
	}
	fmt.Println("growing sites:", len(r.Sites))
	// Output:
	// growing sites: 0
}

func ExampleProfileAvailable() {
	r, err := leakwatch.Snapshot()
	if err != nil {
		log.Print(err)
		return
	}
	if !leakwatch.ProfileAvailable() {
		// Only suspicions: goroutines blocked at one place for the threshold.
		fmt.Println(r.Mode == leakwatch.ModeFallback)
	} else {
		fmt.Println(r.Mode == leakwatch.ModeProfile)
	}
	// Output:
	// true
}

func ExampleWatcher_Snapshot() {
	w := leakwatch.New()
	first, err := w.Snapshot()
	if err != nil {
		log.Print(err)
		return
	}
	second, err := w.Snapshot() // compared with the first: each site's Previous count, or New
	if err != nil {
		log.Print(err)
		return
	}
	fmt.Println(len(first.Sites), len(second.Sites))
	// Output:
	// 0 0
}

func ExampleWatcher_Watch() {
	w := leakwatch.New(leakwatch.Budget(0.02))
	done := make(chan struct{})
	reports, terminated := w.Watch(done, 30*time.Second)
	r := <-reports
	fmt.Println("next check in 30s or more:", r.Next >= 30*time.Second)
	close(done)
	<-terminated // returning not to leak the goroutine
	// Output:
	// next check in 30s or more: true
}

func ExampleWatcher_Handler() {
	w := leakwatch.New()
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		log.Print(err)
		return
	}
	if err := resp.Body.Close(); err != nil {
		log.Print(err)
	}
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	// Output:
	// 200 OK text/plain; charset=utf-8
}

// A report as a log shows it, and how to read its sites.
func ExampleReport_String() {
	r := leakwatch.Report{
		Mode: leakwatch.ModeProfile, GoVersion: "go1.27.3", Goroutines: 312, Leaked: 42,
		Cost: 3 * time.Millisecond,
		Sites: []leakwatch.Site{
			{Name: "leaksafe.ParallelMap worker", Caller: "crawl.go:42", State: "chan send",
				BlockedIn: "github.com/leaksafe/leaksafe.send[...]", BlockedAt: "/go/leaksafe/stage.go:84",
				Count: 40, Previous: 30, Proven: true},
			{Name: "app.(*Cache).refresh", Creator: "example.com/app.(*Cache).refresh",
				Created: "/src/app/cache.go:88", Func: "example.com/app.(*Cache).refresh.func1",
				State: "sync.Mutex.Lock", BlockedIn: "example.com/app.(*Cache).refresh.func1",
				BlockedAt: "/src/app/cache.go:91", Count: 2, New: true, BlockedFor: 14 * time.Minute},
		},
	}
	fmt.Println(r)
	for _, s := range r.Sites {
		fmt.Printf("%s: %d goroutines, %+d, proven %v\n", s.Where(), s.Count, s.Count-s.Previous, s.Proven)
	}
	// Output:
	// leakwatch: 42 leaked goroutines at 2 sites (leak profile, go1.27.3, check cost 3ms)
	//   40 (+10)  proven    leaksafe.ParallelMap worker created at crawl.go:42, blocked in chan send
	//    2 (new)  suspected go (*Cache).refresh.func1() in (*Cache).refresh at cache.go:88, blocked in sync.Mutex.Lock in (*Cache).refresh.func1 at cache.go:91 for 14m0s
	// crawl.go:42: 40 goroutines, +10, proven true
	// /src/app/cache.go:88: 2 goroutines, +2, proven false
}
