package leaksafe_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leaksafe/leaksafe"
)

// hangServer is a local HTTP server with fast pages ("/page/..."), a failing page ("/fail") and a
// page ("/hang") whose handler returns only when its request is cancelled. A missing cancellation
// therefore hangs the code under test, until the handler gives up after the deadline and reports
// that it was never cancelled.
type hangServer struct {
	*httptest.Server
	entered   chan struct{} // receives a value when a /hang request has arrived
	cancelled chan bool     // receives, per /hang request, whether its context was cancelled
	before    goleak.Option // the goroutines that ran before the server started
}

func newHangServer(t *testing.T) *hangServer {
	t.Helper()
	s := &hangServer{entered: make(chan struct{}, 8), cancelled: make(chan bool, 8), before: goleak.IgnoreCurrent()}
	mux := http.NewServeMux()
	mux.HandleFunc("/page/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "page %s", r.PathValue("name"))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		s.entered <- struct{}{}
		select {
		case <-r.Context().Done():
			s.cancelled <- true
		case <-time.After(2 * deadline):
			s.cancelled <- false
		}
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// finish fails t unless the /hang request saw its context cancelled. It then shuts the server and
// the client's idle connections, and checks that no goroutine of the test is left: neither the
// server's nor the transport's nor leaksafe's.
func (s *hangServer) finish(t *testing.T) {
	t.Helper()
	select {
	case ok := <-s.cancelled:
		require.True(t, ok, "the hanging request was never cancelled")
	case <-time.After(3 * deadline):
		t.Fatal("the hanging handler did not return")
	}
	s.Client().CloseIdleConnections()
	s.Close()
	goleak.VerifyNone(t, s.before)
}

// get fetches url with ctx, reads and closes the body, and returns it: the response never leaves the
// function, so nothing that owns a connection travels through a stage.
func get(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), nil
}

func TestBreakCancelsTheRequestInFlight(t *testing.T) {
	srv := newHangServer(t)
	client := srv.Client()
	src := func(done <-chan struct{}) (<-chan leaksafe.Result[string], <-chan struct{}) {
		ctx := leaksafe.WithDone(context.Background(), done)
		urls, t1 := leaksafe.Generate(done, srv.URL+"/page/a", srv.URL+"/hang", srv.URL+"/page/b")
		pages, t2 := leaksafe.ParallelMapOrdered(done, urls, 2, func(u string) leaksafe.Result[string] {
			return leaksafe.Try(get(ctx, client, u))
		})
		return pages, leaksafe.All(t1, t2)
	}
	var got []string
	for page := range leaksafe.Range(nil, src) {
		require.NoError(t, page.Err)
		got = append(got, page.Value)
		<-srv.entered // the request for /hang is in flight
		break         // completes only once that request is cancelled
	}
	assert.Equal(t, []string{"page a"}, got)
	srv.finish(t)
}

func TestGroupContextCancelsTheRequestInFlight(t *testing.T) {
	srv := newHangServer(t)
	client := srv.Client()
	errBoom := errors.New("boom")
	g, ctx := leaksafe.NewGroupContext(context.Background())
	g.Go(func(<-chan struct{}) error {
		_, err := get(ctx, client, srv.URL+"/hang")
		return err
	})
	g.Go(func(<-chan struct{}) error {
		<-srv.entered
		return errBoom
	})
	_, err := waitFor(t, g)
	require.ErrorIs(t, err, errBoom, "the first error, not the cancelled request's")
	srv.finish(t)
}

func TestForEachCancelsTheRequestInFlight(t *testing.T) {
	srv := newHangServer(t)
	client := srv.Client()
	urls := sliceChan([]string{srv.URL + "/hang", srv.URL + "/page/a", srv.URL + "/fail", srv.URL + "/page/b"})
	_, err := forEach(t, nil, urls, 2, func(done <-chan struct{}, u string) error {
		if u == srv.URL+"/fail" {
			<-srv.entered // fail only once the hanging request is in flight
		}
		_, err := get(leaksafe.WithDone(context.Background(), done), client, u)
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "500 Internal Server Error")
	srv.finish(t)
}

func TestForEachOuterDoneCancelsTheRequestInFlight(t *testing.T) {
	srv := newHangServer(t)
	client := srv.Client()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-srv.entered
		cancel()
	}()
	_, err := forEach(t, ctx.Done(), sliceChan([]string{srv.URL + "/hang"}), 1, func(done <-chan struct{}, u string) error {
		_, err := get(leaksafe.WithDone(ctx, done), client, u)
		return err
	})
	require.ErrorIs(t, err, leaksafe.ErrStopped)
	srv.finish(t)
}

func TestFirstOKCancelsTheLosers(t *testing.T) {
	srv := newHangServer(t)
	client := srv.Client()
	fetchWith := func(u string) func(done <-chan struct{}) (string, error) {
		return func(done <-chan struct{}) (string, error) {
			return get(leaksafe.WithDone(context.Background(), done), client, u)
		}
	}
	wait := func(done <-chan struct{}) (string, error) {
		<-srv.entered // answer only once the hanging replica is in flight
		return get(leaksafe.WithDone(context.Background(), done), client, srv.URL+"/page/ok")
	}
	got, err := leaksafe.FirstOK(nil, fetchWith(srv.URL+"/fail"), fetchWith(srv.URL+"/hang"), wait)
	require.NoError(t, err)
	assert.Equal(t, "page ok", got)
	srv.finish(t)
}
