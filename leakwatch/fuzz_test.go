package leakwatch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzSnapshot feeds arbitrary text to a check as the leak profile's output: the check must return
// a report or an error, never panic, and a report must print.
func FuzzSnapshot(f *testing.F) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		dump, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(dump))
	}
	f.Add(goroutine(7, "chan send (leaked), 12 minutes", "main.f.func1", 10, "main.f"))
	f.Add("goroutine 1 [running]:\n")
	f.Add("goroutine x [")
	f.Fuzz(func(t *testing.T, dump string) {
		w := New()
		w.profile = failingProfile{text: dump}
		for range 2 {
			r, err := w.Snapshot()
			if err != nil {
				if !strings.HasPrefix(err.Error(), "leakwatch: ") {
					t.Fatalf("error %q does not name the package", err)
				}
				continue
			}
			if len(r.Sites) > r.Goroutines || !strings.HasPrefix(r.String(), "leakwatch: ") {
				t.Fatalf("%d sites of %d goroutines:\n%v", len(r.Sites), r.Goroutines, r)
			}
		}
	})
}
