package data

import "image"

// ycbcrToRGB converts a decoded JPEG to RGB the way libjpeg(-turbo) does by default, and
// so PIL and torchvision: subsampled chroma is upsampled with libjpeg's "fancy" triangle
// filter (h2v1 and h2v2, with its rounding biases) rather than replicated, and the colour
// conversion uses libjpeg's 16-bit fixed-point tables. Ratios other than 4:4:4, 4:2:2
// and 4:2:0 fall back to replication.
func ycbcrToRGB(dst []uint8, m *image.YCbCr) {
	r := m.Bounds()
	h, w := r.Dy(), r.Dx()
	cb := make([]uint8, w)
	cr := make([]uint8, w)
	for y := 0; y < h; y++ {
		yrow := m.Y[m.YOffset(r.Min.X, r.Min.Y+y):][:w]
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio444:
			off := m.COffset(r.Min.X, r.Min.Y+y)
			copy(cb, m.Cb[off:off+w])
			copy(cr, m.Cr[off:off+w])
		case image.YCbCrSubsampleRatio422:
			off := m.COffset(r.Min.X, r.Min.Y+y)
			cw := (w + 1) / 2
			upsampleH2V1(cb, m.Cb[off:off+cw])
			upsampleH2V1(cr, m.Cr[off:off+cw])
		case image.YCbCrSubsampleRatio420:
			cw, ch := (w+1)/2, (h+1)/2
			cy := y / 2
			near := cy - 1 // the nearer neighbouring chroma row: above for even rows
			if y%2 == 1 {
				near = cy + 1
			}
			near = min(max(near, 0), ch-1) // libjpeg replicates the edge rows
			base := m.COffset(r.Min.X, r.Min.Y)
			upsampleH2V2(cb, m.Cb[base+cy*m.CStride:][:cw], m.Cb[base+near*m.CStride:][:cw])
			upsampleH2V2(cr, m.Cr[base+cy*m.CStride:][:cw], m.Cr[base+near*m.CStride:][:cw])
		default:
			for x := 0; x < w; x++ {
				off := m.COffset(r.Min.X+x, r.Min.Y+y)
				cb[x], cr[x] = m.Cb[off], m.Cr[off]
			}
		}
		out := dst[3*y*w : 3*(y+1)*w]
		for x := 0; x < w; x++ {
			out[3*x], out[3*x+1], out[3*x+2] = libjpegRGB(yrow[x], cb[x], cr[x])
		}
	}
}

// upsampleH2V1 is libjpeg's h2v1_fancy_upsample: each output sample is ¾ of its own
// chroma sample and ¼ of the next one out, biased to round alternately down and up.
// dst holds the first len(dst) of the 2·len(src) outputs.
func upsampleH2V1(dst, src []uint8) {
	n := len(src)
	at := func(i int) int { return int(src[min(max(i, 0), n-1)]) }
	for o := range dst {
		c := o / 2
		switch {
		case n == 1 || (o == 0) || (o == 2*n-1):
			dst[o] = src[c] // edge samples are copied
		case o%2 == 0:
			dst[o] = uint8((3*at(c) + at(c-1) + 1) >> 2)
		default:
			dst[o] = uint8((3*at(c) + at(c+1) + 2) >> 2)
		}
	}
}

// upsampleH2V2 is libjpeg's h2v2_fancy_upsample for one output row: column sums
// 3·this + near (near is the nearer neighbouring chroma row), then ¾·this + ¼·next
// horizontally, with libjpeg's biases 8 and 7 and copied edge columns.
func upsampleH2V2(dst, this, near []uint8) {
	n := len(this)
	sum := func(i int) int {
		i = min(max(i, 0), n-1)
		return 3*int(this[i]) + int(near[i])
	}
	for o := range dst {
		c := o / 2
		switch {
		case n == 1:
			dst[o] = uint8((4*sum(0) + 8 - o%2) >> 4)
		case o == 0:
			dst[o] = uint8((4*sum(0) + 8) >> 4)
		case o == 2*n-1:
			dst[o] = uint8((4*sum(n-1) + 7) >> 4)
		case o%2 == 0:
			dst[o] = uint8((3*sum(c) + sum(c-1) + 8) >> 4)
		default:
			dst[o] = uint8((3*sum(c) + sum(c+1) + 7) >> 4)
		}
	}
}

// libjpeg's ycc_rgb_convert constants: FIX(x) = round(x·2¹⁶).
const (
	fixCrR = 91881  // FIX(1.40200)
	fixCbB = 116130 // FIX(1.77200)
	fixCrG = 46802  // FIX(0.71414)
	fixCbG = 22554  // FIX(0.34414)
	half   = 1 << 15
)

func libjpegRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy, b, r := int32(y), int32(cb)-128, int32(cr)-128
	rr := yy + (fixCrR*r+half)>>16
	gg := yy + (-fixCbG*b-fixCrG*r+half)>>16
	bb := yy + (fixCbB*b+half)>>16
	return clampByte(rr), clampByte(gg), clampByte(bb)
}

func clampByte(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
