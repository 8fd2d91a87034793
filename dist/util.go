package dist

import (
	"unsafe"

	"github.com/govgg/govgg/asm"
)

// f32Bytes views a float32 slice as its bytes (for broadcasts, which move bytes).
func f32Bytes(x []float32) []byte {
	if len(x) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x))
}

func scale(x []float32, a float32) { asm.Scale(a, x) }
