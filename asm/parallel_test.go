package asm_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/govgg/govgg/asm"
)

// pforCovers checks that ParallelFor visits every index of [0, n) exactly once.
func pforCovers(t *testing.T, n, grain int) {
	t.Helper()
	hits := make([]atomic.Int32, n)
	asm.ParallelFor(n, grain, func(lo, hi int) {
		if lo < 0 || hi > n || lo >= hi {
			t.Errorf("n=%d grain=%d: bad chunk [%d,%d)", n, grain, lo, hi)
			return
		}
		for i := lo; i < hi; i++ {
			hits[i].Add(1)
		}
	})
	for i := range hits {
		if h := hits[i].Load(); h != 1 {
			t.Fatalf("n=%d grain=%d: index %d visited %d times", n, grain, i, h)
		}
	}
}

func TestParallelForCovers(t *testing.T) {
	for _, th := range []int{1, 2, 3, 8} {
		prev := asm.SetThreads(th)
		for _, n := range []int{0, 1, 2, 7, 100, 1001} {
			for _, grain := range []int{0, 1, 3, 64, 5000} {
				pforCovers(t, n, grain)
			}
		}
		asm.SetThreads(prev)
	}
}

func TestParallelForInlineBelowGrain(t *testing.T) {
	prev := asm.SetThreads(4)
	defer asm.SetThreads(prev)
	calls := 0 // not atomic: the race detector checks that it stays on one goroutine
	asm.ParallelFor(10, 10, func(lo, hi int) {
		calls++
		if lo != 0 || hi != 10 {
			t.Errorf("chunk [%d,%d), want [0,10)", lo, hi)
		}
	})
	if calls != 1 {
		t.Errorf("%d calls, want 1", calls)
	}
}

func TestParallelForUsesHelpers(t *testing.T) {
	prev := asm.SetThreads(2)
	defer asm.SetThreads(prev)
	// A chunk that waits for another chunk can only finish if a second goroutine runs.
	for try := 0; try < 20; try++ {
		var started sync.WaitGroup
		started.Add(2)
		asm.ParallelFor(2, 1, func(lo, hi int) {
			started.Done()
			started.Wait()
		})
	}
}

func TestParallelForNestedAndConcurrent(t *testing.T) {
	prev := asm.SetThreads(3)
	defer asm.SetThreads(prev)
	var wg sync.WaitGroup
	var total atomic.Int64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 50; r++ {
				asm.ParallelFor(8, 1, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						asm.ParallelFor(16, 2, func(lo, hi int) { total.Add(int64(hi - lo)) })
					}
				})
			}
		}()
	}
	wg.Wait()
	if want := int64(4 * 50 * 8 * 16); total.Load() != want {
		t.Fatalf("visited %d items, want %d", total.Load(), want)
	}
}

func TestSetThreads(t *testing.T) {
	prev := asm.SetThreads(5)
	if asm.Threads() != 5 {
		t.Errorf("Threads() = %d after SetThreads(5)", asm.Threads())
	}
	if got := asm.SetThreads(0); got != 5 || asm.Threads() < 1 {
		t.Errorf("SetThreads(0) returned %d, Threads() = %d", got, asm.Threads())
	}
	asm.SetThreads(prev)
}

func ExampleParallelFor() {
	squares := make([]int, 10)
	asm.ParallelFor(len(squares), 4, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			squares[i] = i * i
		}
	})
	fmt.Println(squares)
	// Output: [0 1 4 9 16 25 36 49 64 81]
}
