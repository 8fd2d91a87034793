//go:build !ascend

package npu

import (
	"fmt"
	"os"
)

func init() {
	if os.Getenv("GOVGG_BACKEND") == Name {
		fmt.Fprintf(os.Stderr, "govgg: GOVGG_BACKEND=%s: %v\n", Name, ErrNotBuilt)
	}
}

// Available reports whether this binary can run on Ascend NPUs: false without
// -tags ascend.
func Available() bool { return false }

// Backend is the Ascend backend. Without -tags ascend it cannot be made: New and Use
// return ErrNotBuilt.
type Backend struct{}

// New returns ErrNotBuilt in this build.
func New(opts ...Option) (*Backend, error) { return nil, ErrNotBuilt }

// Use returns ErrNotBuilt in this build.
func Use(opts ...Option) error { return ErrNotBuilt }

// Name returns "ascend".
func (b *Backend) Name() string { return Name }

// Stats returns zeros in this build.
func (b *Backend) Stats() Stats { return Stats{} }

// Close does nothing in this build.
func (b *Backend) Close() error { return nil }
