package tensor

// Workspace hands out scratch float32 buffers that are reused from call to call.
// Each caller names its buffer with a small integer key; the buffer grows to the
// largest size ever asked for under that key and is never shrunk. A Workspace is not
// safe for concurrent use: give each goroutine its own.
type Workspace struct {
	bufs map[int][]float32
}

// NewWorkspace returns an empty workspace.
func NewWorkspace() *Workspace { return &Workspace{bufs: make(map[int][]float32)} }

// Get returns an aligned buffer of length n for key. Its contents are unspecified.
func (w *Workspace) Get(key, n int) []float32 {
	if w.bufs == nil {
		w.bufs = make(map[int][]float32)
	}
	b := w.bufs[key]
	if cap(b) < n {
		b = Aligned(n)
		w.bufs[key] = b
	}
	return b[:n]
}

// Bytes returns the total size of the buffers held.
func (w *Workspace) Bytes() int {
	s := 0
	for _, b := range w.bufs {
		s += 4 * cap(b)
	}
	return s
}
