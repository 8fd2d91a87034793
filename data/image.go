package data

import (
	"fmt"
	"math"
)

// Image is a float32 image in row-major H×W×C (HWC) order. Pixels are on the 0–255 scale
// until Normalize maps them. Transforms change an Image in place; geometric ones write
// into a second buffer the Image keeps, so a worker that reuses one Image allocates
// nothing in the steady state.
type Image struct {
	Pix     []float32
	H, W, C int

	spare []float32 // the other half of a ping-pong pair
	tmp   []float32 // resize's intermediate rows
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

// filterTaps holds, for each output position, the first source index and ntaps weights.
type filterTaps struct {
	start []int
	w     []float32
	ntaps int
}

// makeTaps computes the separable weights that resample in source positions to out, in
// PIL's formulation: output i is centred at (i+0.5)·in/out in source coordinates, and
// sources within the filter's support contribute tri((x+0.5-centre)/fs), normalised to
// sum 1. With fs = 1 (no antialias) this is exactly half-pixel bilinear interpolation
// with the edge clamping of torch and OpenCV.
func makeTaps(in, out int, interp Interpolation) filterTaps {
	scale := float64(in) / float64(out)
	fs := 1.0
	if interp == BilinearAntialias && scale > 1 {
		fs = scale
	}
	ntaps := int(math.Ceil(fs))*2 + 1
	t := filterTaps{start: make([]int, out), w: make([]float32, out*ntaps), ntaps: ntaps}
	var k [64]float64
	kw := k[:0]
	if ntaps > len(k) {
		kw = make([]float64, 0, ntaps)
	}
	for i := 0; i < out; i++ {
		centre := (float64(i) + 0.5) * scale
		lo := max(int(centre-fs+0.5), 0) // int truncates toward zero, as C and PIL do
		hi := min(int(centre+fs+0.5), in)
		kw = kw[:0]
		sum := 0.0
		for x := lo; x < hi; x++ {
			v := 1 - math.Abs((float64(x)+0.5-centre)/fs)
			if v < 0 {
				v = 0
			}
			kw = append(kw, v)
			sum += v
		}
		t.start[i] = lo
		for j, v := range kw {
			t.w[i*ntaps+j] = float32(v / sum)
		}
	}
	return t
}

// resizeRegion makes the image its h×w window at (top, left), resampled to oh×ow. The
// window must lie inside the image. Edges clamp at the window, as cropping and then
// resizing does.
func (m *Image) resizeRegion(top, left, h, w, oh, ow int, interp Interpolation) {
	c := m.C
	tx := makeTaps(w, ow, interp)
	ty := makeTaps(h, oh, interp)
	// Horizontal pass over the window's rows into tmp (h × ow × c).
	m.tmp = grow(m.tmp, h*ow*c)
	for y := 0; y < h; y++ {
		src := m.Pix[((top+y)*m.W+left)*c : ((top+y)*m.W+left+w)*c]
		dst := m.tmp[y*ow*c : (y+1)*ow*c]
		for ox := 0; ox < ow; ox++ {
			wts := tx.w[ox*tx.ntaps : (ox+1)*tx.ntaps]
			base := tx.start[ox] * c
			for ch := 0; ch < c; ch++ {
				var acc float32
				for j, wt := range wts {
					if wt != 0 {
						acc += wt * src[base+j*c+ch]
					}
				}
				dst[ox*c+ch] = acc
			}
		}
	}
	// Vertical pass: each output row is a weighted sum of whole tmp rows.
	out := m.output(oh, ow, c)
	rowLen := ow * c
	for oy := 0; oy < oh; oy++ {
		dst := out[oy*rowLen : (oy+1)*rowLen]
		clear(dst)
		wts := ty.w[oy*ty.ntaps : (oy+1)*ty.ntaps]
		for j, wt := range wts {
			if wt == 0 {
				continue
			}
			src := m.tmp[(ty.start[oy]+j)*rowLen : (ty.start[oy]+j+1)*rowLen]
			for i, v := range src {
				dst[i] += wt * v
			}
		}
	}
	m.commit(oh, ow, c)
}
