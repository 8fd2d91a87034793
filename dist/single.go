package dist

// single is the backend of a job of one process: every collective is the identity.
// Comm short-cuts size-1 collectives, so only finalize and abort are reached.
type single struct{}

func (single) allReduceF32([]float32) error { return nil }
func (single) allReduceF64([]float64) error { return nil }
func (single) allReduceI64([]int64) error   { return nil }
func (single) broadcast([]byte, int) error  { return nil }
func (single) barrier() error               { return nil }
func (single) finalize() error              { return nil }
func (single) abort(int)                    {}
