package weights

import (
	"encoding/binary"
	"math"
	"testing"
)

// halfRef is the value of a binary16 bit pattern computed in float64 from the
// IEEE 754 definition.
func halfRef(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * mant * math.Pow(2, -24)
	case 31:
		if mant == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * (1 + mant/1024) * math.Pow(2, float64(exp-15))
}

func TestHalfToFloat32Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		got := HalfToFloat32(h)
		want := halfRef(h)
		if math.IsNaN(want) {
			bits := math.Float32bits(got)
			if got == got || bits>>31 != uint32(h>>15) || bits&0x7fffff != uint32(h&0x3ff)<<13 {
				t.Fatalf("HalfToFloat32(%#04x) = %#08x, want NaN with sign and payload kept", h, bits)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
			t.Fatalf("HalfToFloat32(%#04x) = %g, want %g", h, got, want)
		}
	}
	// Spot values: smallest subnormal, largest subnormal, smallest normal, max.
	for h, want := range map[uint16]float32{0x0001: 5.9604645e-08, 0x03ff: 6.097555e-05, 0x0400: 6.1035156e-05, 0x7bff: 65504, 0xfc00: float32(math.Inf(-1))} {
		if got := HalfToFloat32(h); got != want {
			t.Errorf("HalfToFloat32(%#04x) = %g, want %g", h, got, want)
		}
	}
}

func TestBFloat16ToFloat32(t *testing.T) {
	for _, f := range []float32{0, 1, -2.5, 1e-40 /* subnormal */, float32(math.Inf(1)), float32(math.Inf(-1)), 3.0e38} {
		b := uint16(math.Float32bits(f) >> 16)
		if got, want := BFloat16ToFloat32(b), math.Float32frombits(uint32(b)<<16); math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("BFloat16ToFloat32(%#04x) = %g, want %g", b, got, want)
		}
	}
	if nan := BFloat16ToFloat32(0x7fc1); nan == nan {
		t.Errorf("0x7fc1 must decode to NaN, got %g", nan)
	}
	if got := BFloat16ToFloat32(0x3f80); got != 1 {
		t.Errorf("BFloat16ToFloat32(0x3f80) = %g, want 1", got)
	}
}

func TestDecodeDTypes(t *testing.T) {
	le := binary.LittleEndian
	cases := []struct {
		d    DType
		raw  []byte
		want []float32
	}{
		{F32, le.AppendUint32(le.AppendUint32(nil, math.Float32bits(1.5)), math.Float32bits(-3)), []float32{1.5, -3}},
		{F64, le.AppendUint64(le.AppendUint64(nil, math.Float64bits(0.1)), math.Float64bits(1e300)), []float32{float32(0.1), float32(math.Inf(1))}},
		{F16, le.AppendUint16(le.AppendUint16(nil, 0x3c00), 0xc000), []float32{1, -2}},
		{BF16, le.AppendUint16(nil, 0xbf80), []float32{-1}},
		{I64, le.AppendUint64(nil, math.MaxUint64), []float32{-1}},
		{I32, le.AppendUint32(nil, uint32(0xfffffffe)), []float32{-2}},
		{I16, le.AppendUint16(nil, 0x8000), []float32{-32768}},
		{I8, []byte{0xff, 0x7f}, []float32{-1, 127}},
		{U8, []byte{0xff, 0}, []float32{255, 0}},
		{Bool, []byte{0, 1, 7}, []float32{0, 1, 1}},
	}
	for _, c := range cases {
		got := make([]float32, len(c.want))
		decode(got, c.raw, c.d)
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%v: element %d = %g, want %g", c.d, i, got[i], c.want[i])
			}
		}
	}
}
