package data

import (
	"fmt"
	"math"
)

// Image is a float32 image in row-major H×W×C (HWC) order; len(Pix) is H·W·C. Pixels
// are on the 0–255 scale until Normalize maps them. Transforms change an Image in place;
// geometric ones write into a second buffer the Image keeps, so a worker that reuses one
// Image allocates nothing in the steady state.
type Image struct {
	Pix     []float32
	H, W, C int

	spare []float32 // the other half of a ping-pong pair
	tmp   []float32 // resize's intermediate rows
	taps  [2]filterTaps
}

// NewImage returns a zeroed h×w×c image.
func NewImage(h, w, c int) *Image {
	return &Image{Pix: make([]float32, h*w*c), H: h, W: w, C: c}
}

// Load sets the image to a sample's pixels, reusing its storage.
func (m *Image) Load(s Sample) error {
	n := s.H * s.W * s.C
	if s.H <= 0 || s.W <= 0 || s.C <= 0 || len(s.Pix) != n {
		return fmt.Errorf("data: sample of %d bytes does not hold %d×%d×%d pixels", len(s.Pix), s.H, s.W, s.C)
	}
	m.Pix = grow(m.Pix, n)
	for i, v := range s.Pix {
		m.Pix[i] = float32(v)
	}
	m.H, m.W, m.C = s.H, s.W, s.C
	return nil
}

// At returns channel c of pixel (y, x).
func (m *Image) At(y, x, c int) float32 { return m.Pix[(y*m.W+x)*m.C+c] }

// ToCHW writes the image channel-major (C×H×W), the layout of a network's input, into
// dst, which must hold H·W·C values.
func (m *Image) ToCHW(dst []float32) error {
	plane := m.H * m.W
	if len(dst) != plane*m.C {
		return fmt.Errorf("data: ToCHW: %d×%d×%d image into %d values", m.H, m.W, m.C, len(dst))
	}
	if m.C == 1 {
		copy(dst, m.Pix)
		return nil
	}
	for ch := 0; ch < m.C; ch++ {
		d := dst[ch*plane : (ch+1)*plane]
		for i := range d {
			d[i] = m.Pix[i*m.C+ch]
		}
	}
	return nil
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// output returns a buffer of h×w×c values for a geometric transform to fill; commit then
// makes it the image's pixels.
func (m *Image) output(h, w, c int) []float32 {
	m.spare = grow(m.spare, h*w*c)
	return m.spare
}

func (m *Image) commit(h, w, c int) {
	m.Pix, m.spare = m.spare, m.Pix
	m.H, m.W, m.C = h, w, c
}

// crop makes the image its h×w window at (top, left). Parts of the window outside the
// image are filled with fill, so crop also pads.
func (m *Image) crop(top, left, h, w int, fill float32) {
	c := m.C
	out := m.output(h, w, c)
	for y := 0; y < h; y++ {
		row := out[y*w*c : (y+1)*w*c]
		sy := top + y
		if sy < 0 || sy >= m.H {
			fillF32(row, fill)
			continue
		}
		// Columns [x0, x1) of the window fall inside the image.
		x0, x1 := max(0, -left), min(w, m.W-left)
		if x1 <= x0 {
			fillF32(row, fill)
			continue
		}
		fillF32(row[:x0*c], fill)
		copy(row[x0*c:x1*c], m.Pix[(sy*m.W+left+x0)*c:(sy*m.W+left+x1)*c])
		fillF32(row[x1*c:], fill)
	}
	m.commit(h, w, c)
}

func fillF32(s []float32, v float32) {
	for i := range s {
		s[i] = v
	}
}

// Interpolation selects the resampling filter of Resize and RandomResizedCrop.
type Interpolation uint8

const (
	// Bilinear is torchvision's tensor bilinear interpolation with align_corners=False
	// and no antialias (torch.nn.functional.interpolate), the same as OpenCV's
	// INTER_LINEAR that MindSpore's Resize uses: each output pixel blends the 2×2 source
	// pixels around its centre, so downscaling by more than 2 skips pixels.
	Bilinear Interpolation = iota
	// BilinearAntialias is PIL's BILINEAR resampling (torchvision antialias=True): a
	// triangle filter widened by the scale factor when downscaling. It equals Bilinear
	// when upscaling. It matches torchvision's antialiased tensor resize to float
	// precision and PIL's own uint8 resize to within one level (PIL rounds after each
	// pass).
	BilinearAntialias
)

func (i Interpolation) String() string {
	switch i {
	case Bilinear:
		return "bilinear"
	case BilinearAntialias:
		return "bilinear-antialias"
	}
	return fmt.Sprintf("Interpolation(%d)", uint8(i))
}

// filterTaps holds, for each output position i, ntaps weights w[i·ntaps:] applied to
// the sources start[i], start[i]+1, …. Every window lies inside the input, so loops
// need no bounds tests; unused taps have weight 0.
type filterTaps struct {
	start []int
	w     []float32
	ntaps int
	kw    []float64
}

// set computes the separable weights that resample in source positions to out, in
// PIL's formulation: output i is centred at (i+0.5)·in/out in source coordinates, and
// sources within the filter's support contribute tri((x+0.5−centre)/fs), normalised to
// sum 1. With fs = 1 (no antialias) this is exactly half-pixel bilinear interpolation
// with the edge clamping of torch and OpenCV, and at most 2 taps.
func (t *filterTaps) set(in, out int, interp Interpolation) {
	scale := float64(in) / float64(out)
	fs := 1.0
	if interp == BilinearAntialias && scale > 1 {
		fs = scale
	}
	bounds := func(i int) (lo, hi int, centre float64) {
		centre = (float64(i) + 0.5) * scale
		lo = max(int(centre-fs+0.5), 0) // int truncates toward zero, as C and PIL do
		hi = min(int(centre+fs+0.5), in)
		return lo, hi, centre
	}
	t.ntaps = 1
	for i := 0; i < out; i++ {
		lo, hi, _ := bounds(i)
		t.ntaps = max(t.ntaps, hi-lo)
	}
	t.start = growInts(t.start, out)
	t.w = grow(t.w, out*t.ntaps)
	clear(t.w)
	for i := 0; i < out; i++ {
		lo, hi, centre := bounds(i)
		t.kw = t.kw[:0]
		sum := 0.0
		for x := lo; x < hi; x++ {
			v := max(1-math.Abs((float64(x)+0.5-centre)/fs), 0)
			t.kw = append(t.kw, v)
			sum += v
		}
		// Shift windows that would run past the end left, padding with zero weights in front.
		shift := max(lo+t.ntaps-in, 0)
		t.start[i] = lo - shift
		for j, v := range t.kw {
			t.w[i*t.ntaps+shift+j] = float32(v / sum)
		}
	}
}

// resizeRegion makes the image its h×w window at (top, left), resampled to oh×ow. The
// window must lie inside the image. Edges clamp at the window, as cropping and then
// resizing does.
func (m *Image) resizeRegion(top, left, h, w, oh, ow int, interp Interpolation) {
	c := m.C
	tx, ty := &m.taps[0], &m.taps[1]
	tx.set(w, ow, interp)
	ty.set(h, oh, interp)
	// Horizontal pass into tmp, over the rows the vertical pass reads (r0 … r1−1 of the window).
	r0, r1 := ty.start[0], ty.start[oh-1]+ty.ntaps
	rowLen := ow * c
	m.tmp = grow(m.tmp, (r1-r0)*rowLen)
	for y := r0; y < r1; y++ {
		src := m.Pix[((top+y)*m.W+left)*c : ((top+y)*m.W+left+w)*c]
		dst := m.tmp[(y-r0)*rowLen : (y-r0+1)*rowLen]
		switch {
		case c == 3 && tx.ntaps == 2:
			horizontal3x2(dst, src, tx)
		case c == 3:
			horizontal3(dst, src, tx)
		default:
			horizontalN(dst, src, tx, c)
		}
	}
	// Vertical pass: each output row is a weighted sum of whole tmp rows.
	out := m.output(oh, ow, c)
	for oy := 0; oy < oh; oy++ {
		dst := out[oy*rowLen : (oy+1)*rowLen]
		wts := ty.w[oy*ty.ntaps : (oy+1)*ty.ntaps]
		row := func(j int) []float32 {
			r := ty.start[oy] + j - r0
			return m.tmp[r*rowLen : (r+1)*rowLen]
		}
		if ty.ntaps == 2 {
			a, b, wa, wb := row(0), row(1), wts[0], wts[1]
			b = b[:len(a)]
			dst = dst[:len(a)]
			for i := range a {
				dst[i] = wa*a[i] + wb*b[i]
			}
			continue
		}
		a, wa := row(0), wts[0]
		dst = dst[:len(a)]
		for i := range a {
			dst[i] = wa * a[i]
		}
		for j := 1; j < ty.ntaps; j++ {
			if wt := wts[j]; wt != 0 {
				b := row(j)[:len(dst)]
				for i := range dst {
					dst[i] += wt * b[i]
				}
			}
		}
	}
	m.commit(oh, ow, c)
}

// horizontal3x2 is the horizontal pass for RGB with two taps (bilinear, no antialias).
func horizontal3x2(dst, src []float32, t *filterTaps) {
	for ox := 0; ox < len(dst)/3; ox++ {
		s := src[3*t.start[ox] : 3*t.start[ox]+6 : 3*t.start[ox]+6]
		w0, w1 := t.w[2*ox], t.w[2*ox+1]
		d := dst[3*ox : 3*ox+3 : 3*ox+3]
		d[0] = w0*s[0] + w1*s[3]
		d[1] = w0*s[1] + w1*s[4]
		d[2] = w0*s[2] + w1*s[5]
	}
}

// horizontal3 is the horizontal pass for RGB with any number of taps.
func horizontal3(dst, src []float32, t *filterTaps) {
	n := t.ntaps
	for ox := 0; ox < len(dst)/3; ox++ {
		s := src[3*t.start[ox] : 3*(t.start[ox]+n)]
		var r, g, b float32
		for j, wt := range t.w[ox*n : (ox+1)*n] {
			p := s[3*j : 3*j+3 : 3*j+3]
			r += wt * p[0]
			g += wt * p[1]
			b += wt * p[2]
		}
		d := dst[3*ox : 3*ox+3 : 3*ox+3]
		d[0], d[1], d[2] = r, g, b
	}
}

// horizontalN is the horizontal pass for any number of channels.
func horizontalN(dst, src []float32, t *filterTaps, c int) {
	n := t.ntaps
	for ox := 0; ox < len(dst)/c; ox++ {
		wts := t.w[ox*n : (ox+1)*n]
		base := t.start[ox] * c
		for ch := 0; ch < c; ch++ {
			var acc float32
			for j, wt := range wts {
				acc += wt * src[base+j*c+ch]
			}
			dst[ox*c+ch] = acc
		}
	}
}
