package tensor

import (
	"errors"
	"fmt"
	"unsafe"
)

// Layout names the memory order of a tensor's elements.
type Layout uint8

const (
	// NCHW is the row-major order of the shape: the public layout.
	NCHW Layout = iota
	// NCHWc16 is the blocked layout N, C/16, H, W, 16 that SIMD kernels may keep
	// between layers; C is padded to a multiple of 16.
	NCHWc16
)

func (l Layout) String() string {
	switch l {
	case NCHW:
		return "NCHW"
	case NCHWc16:
		return "NCHWc16"
	}
	return fmt.Sprintf("Layout(%d)", uint8(l))
}

// Alignment is the byte alignment of storage made by this package.
const Alignment = 64

// ErrShape reports a shape that does not fit an operation.
var ErrShape = errors.New("tensor: shape mismatch")

// Tensor is a dense float32 array with a shape. The zero value is an empty tensor.
// A Tensor made by Reshape or Slice is a view sharing its parent's storage.
type Tensor struct {
	shape  []int
	data   []float32
	layout Layout
}

// Aligned returns a zeroed slice of n float32 whose first element is 64-byte aligned.
func Aligned(n int) []float32 {
	if n <= 0 {
		return []float32{}
	}
	const pad = Alignment / 4
	buf := make([]float32, n+pad)
	off := 0
	if rem := uintptr(unsafe.Pointer(&buf[0])) % Alignment; rem != 0 {
		off = int(Alignment-rem) / 4
	}
	return buf[off : off+n : off+n]
}

// Numel returns the number of elements of a shape, or -1 if a dimension is negative.
func Numel(shape ...int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		n *= d
	}
	return n
}

// New returns a zeroed NCHW tensor of the given shape with aligned storage.
// It panics on a negative dimension, which is a programming error, not user input.
func New(shape ...int) *Tensor {
	n := Numel(shape...)
	if n < 0 {
		panic(fmt.Sprintf("tensor.New: negative dimension in %v", shape))
	}
	return &Tensor{shape: append([]int(nil), shape...), data: Aligned(n)}
}

// FromSlice wraps data (not copied) as a tensor of the given shape.
func FromSlice(data []float32, shape ...int) (*Tensor, error) {
	n := Numel(shape...)
	if n < 0 || n != len(data) {
		return nil, fmt.Errorf("%w: %d elements cannot have shape %v", ErrShape, len(data), shape)
	}
	return &Tensor{shape: append([]int(nil), shape...), data: data}, nil
}

// Shape returns the tensor's dimensions. The caller must not modify it.
func (t *Tensor) Shape() []int { return t.shape }

// Dim returns dimension i.
func (t *Tensor) Dim(i int) int { return t.shape[i] }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.data) }

// Data returns the backing storage in layout order.
func (t *Tensor) Data() []float32 { return t.data }

// Layout returns the memory order of the elements.
func (t *Tensor) Layout() Layout { return t.layout }

// SetLayout records that the storage holds the given layout. It does not move data.
func (t *Tensor) SetLayout(l Layout) { t.layout = l }

// Reshape returns a view with a new shape holding the same number of elements.
// One dimension may be -1 and is then inferred.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	shape = append([]int(nil), shape...)
	infer, known := -1, 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			return nil, fmt.Errorf("%w: bad reshape %v", ErrShape, shape)
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || len(t.data)%known != 0 {
			return nil, fmt.Errorf("%w: cannot reshape %v to %v", ErrShape, t.shape, shape)
		}
		shape[infer] = len(t.data) / known
		known *= shape[infer]
	}
	if known != len(t.data) {
		return nil, fmt.Errorf("%w: cannot reshape %v to %v", ErrShape, t.shape, shape)
	}
	return &Tensor{shape: shape, data: t.data, layout: t.layout}, nil
}

// Slice returns the view of items [lo, hi) along the first dimension.
func (t *Tensor) Slice(lo, hi int) (*Tensor, error) {
	if len(t.shape) == 0 || lo < 0 || hi < lo || hi > t.shape[0] {
		return nil, fmt.Errorf("%w: slice [%d:%d] of %v", ErrShape, lo, hi, t.shape)
	}
	stride := 1
	for _, d := range t.shape[1:] {
		stride *= d
	}
	shape := append([]int{hi - lo}, t.shape[1:]...)
	return &Tensor{shape: shape, data: t.data[lo*stride : hi*stride], layout: t.layout}, nil
}

// Clone returns a deep copy with fresh aligned storage.
func (t *Tensor) Clone() *Tensor {
	c := New(t.shape...)
	copy(c.data, t.data)
	c.layout = t.layout
	return c
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.data) }

// SameShape reports whether a and b have equal dimensions.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Ensure returns t if it already has the given shape, else a new tensor of that shape.
// Layers use it to keep their output buffers across calls, so that a steady state
// allocates nothing.
func Ensure(t *Tensor, shape ...int) *Tensor {
	if t != nil && SameShape(t.shape, shape) {
		t.layout = NCHW
		return t
	}
	return New(shape...)
}

func (t *Tensor) String() string {
	return fmt.Sprintf("Tensor%v(%s)", t.shape, t.layout)
}
