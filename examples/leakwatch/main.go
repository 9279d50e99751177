// Command leakwatch is a small HTTP service that leaks a goroutine on purpose, and shows the leak
// with leakwatch before memory grows.
//
//	go run ./examples/leakwatch [-addr 127.0.0.1:8080]
//
// Both endpoints ask two replicas for an answer and return the first one:
//
//   - GET /leaky?q=... starts a goroutine per replica, each sending its answer on a channel that
//     the handler reads once. The slower replica's goroutine waits forever to send: one goroutine
//     leaks per request.
//   - GET /safe?q=... does the same with leaksafe.First, which tells the slower replica to stop and
//     waits for it before the handler returns: nothing is left behind.
//   - GET /debug/leaks serves leakwatch's latest report (?format=json for JSON), and the service
//     logs every report that finds a leak, once a minute.
//
// Hit /leaky a few times, then read /debug/leaks: the leaky handler's go statement is there with
// its count, growing with every request; /safe never appears. The leak is proven where the Go
// runtime has the goroutine leak profile (Go 1.27, or Go 1.26 with
// GOEXPERIMENT=goroutineleakprofile); elsewhere it is suspected after ten minutes. The service
// stops on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/leaksafe/leaksafe"
	"github.com/leaksafe/leaksafe/leakwatch"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s: /leaky, /safe, /debug/leaks", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, ln, leakwatch.New(), os.Stderr)
	stop()
	if err != nil {
		log.Fatal(err)
	}
}

// run serves on ln and logs the reports of w that find a leak to logw, until ctx is done; then it
// shuts the server down and returns once the watcher has stopped.
func run(ctx context.Context, ln net.Listener, w *leakwatch.Watcher, logw io.Writer) error {
	logger := log.New(logw, "", log.LstdFlags)
	reports, watched := w.Watch(ctx.Done(), time.Minute)
	logged := leaksafe.DoWork(ctx.Done(), reports, func(r leakwatch.Report) {
		if r.Leaked > 0 || r.Error != "" {
			logger.Print(r)
		}
	})
	srv := &http.Server{Handler: newMux(w.Handler()), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = srv.Shutdown(shutdown)
		if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
	}
	<-leaksafe.All(watched, logged)
	return err
}

// newMux routes the two endpoints and mounts leaks at /debug/leaks.
func newMux(leaks http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /leaky", leaky)
	mux.HandleFunc("GET /safe", safe)
	mux.Handle("GET /debug/leaks", leaks)
	return mux
}

// replicas answer the same question; which one is faster varies.
var replicas = []string{"replica-a", "replica-b"}

// ask returns a replica's answer to q.
func ask(replica, q string) string {
	return fmt.Sprintf("%s answers %q", replica, q)
}

// leaky returns the first replica's answer. The goroutine of the other replica blocks forever on
// its send, since nothing will ever receive from results again.
func leaky(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	results := make(chan string)
	for _, replica := range replicas {
		go func() { results <- ask(replica, q) }() //leakvet:ignore the leak /leaky serves
	}
	fmt.Fprintln(w, <-results)
}

// safe returns the first replica's answer with leaksafe.First, which stops the other replica and
// waits for it before it returns; the request's context stops both.
func safe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	var fns []func(done <-chan struct{}) string
	for _, replica := range replicas {
		fns = append(fns, func(<-chan struct{}) string { return ask(replica, q) })
	}
	answer, ok := leaksafe.First(r.Context().Done(), fns...)
	if !ok {
		return // the client went away
	}
	fmt.Fprintln(w, answer)
}
