package orphancases

import "testing"

// Tests park goroutines on purpose; O does not report them.
func TestPark(t *testing.T) {
	go func() {
		ch := make(chan int)
		<-ch
	}()
}
