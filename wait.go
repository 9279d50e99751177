package leaksafe

// Copy these with any primitive. Every wait of every primitive goes through them: each checks done
// first, so a primitive that has seen done closed sends and receives nothing more; then tries the
// operation without waiting, which is cheaper when a value or room is already there; and only then
// waits on the channel and done together, so that no wait outlasts done.

// isOpen reports whether done is still open (not yet closed); a nil done is always open.
func isOpen(done <-chan struct{}) bool {
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// send sends v on out and reports true, or reports false without sending once done is closed. It
// tries a send that does not wait before it waits on out and done together, which is cheaper when
// out has room or a waiting receiver.
func send[T any](done <-chan struct{}, out chan<- T, v T) bool {
	if !isOpen(done) {
		return false
	}
	select {
	case out <- v:
		return true
	default:
	}
	select {
	case out <- v:
		return true
	case <-done:
		return false
	}
}

// recv receives a value from in and reports true, or reports false when in is closed or done is
// closed. Like send, it tries a receive that does not wait before it waits on in and done together.
func recv[T any](done <-chan struct{}, in <-chan T) (v T, ok bool) {
	if !isOpen(done) {
		return v, false
	}
	select {
	case v, ok = <-in:
		return v, ok
	default:
	}
	select {
	case v, ok = <-in:
		return v, ok
	case <-done:
		return v, false
	}
}
