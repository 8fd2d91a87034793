package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Transform changes an image in place. Every random choice is drawn from rng, so a
// transform is deterministic given the generator's state; the Loader seeds rng from
// (seed, epoch, sample index). Deterministic transforms accept a nil rng; random ones
// return an error for it. Transforms hold no mutable state and may be shared by
// goroutines.
type Transform interface {
	Apply(m *Image, rng *rand.Rand) error
}

// TransformFunc adapts a function to Transform.
type TransformFunc func(m *Image, rng *rand.Rand) error

// Apply calls f.
func (f TransformFunc) Apply(m *Image, rng *rand.Rand) error { return f(m, rng) }

// Compose applies transforms in order.
type Compose []Transform

// Apply applies each transform in turn, stopping at the first error.
func (c Compose) Apply(m *Image, rng *rand.Rand) error {
	for _, t := range c {
		if err := t.Apply(m, rng); err != nil {
			return err
		}
	}
	return nil
}

// RandomResizedCrop crops a random window of random area and aspect ratio and resizes
// it to Height×Width, with torchvision's algorithm: up to ten attempts draw an area
// fraction uniformly from Scale and an aspect ratio log-uniformly from Ratio, and take
// the first window that fits; otherwise the largest centred window whose ratio is
// clamped into Ratio. MindCV's RandomCropDecodeResize follows the same recipe.
type RandomResizedCrop struct {
	Height, Width int
	Scale         [2]float64 // fraction of the image area
	Ratio         [2]float64 // width / height
	Interp        Interpolation
}

// NewRandomResizedCrop returns the ImageNet training crop: size×size, scale 0.08–1,
// ratio 3/4–4/3, plain bilinear as MindCV's OpenCV-based crop resizes. Set Interp to
// BilinearAntialias for torchvision's behaviour on PIL images.
func NewRandomResizedCrop(size int) *RandomResizedCrop {
	return &RandomResizedCrop{Height: size, Width: size, Scale: [2]float64{0.08, 1}, Ratio: [2]float64{3.0 / 4, 4.0 / 3}}
}

// Window draws the crop window (top, left, height, width) for an h×w image.
func (t *RandomResizedCrop) Window(h, w int, rng *rand.Rand) (top, left, ch, cw int) {
	area := float64(h * w)
	logLo, logHi := math.Log(t.Ratio[0]), math.Log(t.Ratio[1])
	for range 10 {
		target := area * uniform(rng, t.Scale[0], t.Scale[1])
		ratio := math.Exp(uniform(rng, logLo, logHi))
		cw = int(math.RoundToEven(math.Sqrt(target * ratio))) // Python's round
		ch = int(math.RoundToEven(math.Sqrt(target / ratio)))
		if 0 < cw && cw <= w && 0 < ch && ch <= h {
			return rng.IntN(h - ch + 1), rng.IntN(w - cw + 1), ch, cw
		}
	}
	inRatio := float64(w) / float64(h)
	switch {
	case inRatio < min(t.Ratio[0], t.Ratio[1]):
		cw, ch = w, int(math.RoundToEven(float64(w)/min(t.Ratio[0], t.Ratio[1])))
	case inRatio > max(t.Ratio[0], t.Ratio[1]):
		ch, cw = h, int(math.RoundToEven(float64(h)*max(t.Ratio[0], t.Ratio[1])))
	default:
		ch, cw = h, w
	}
	return (h - ch) / 2, (w - cw) / 2, ch, cw
}

// Apply crops and resizes m.
func (t *RandomResizedCrop) Apply(m *Image, rng *rand.Rand) error {
	if rng == nil {
		return errNoRand("RandomResizedCrop")
	}
	if t.Height <= 0 || t.Width <= 0 {
		return fmt.Errorf("data: RandomResizedCrop: bad size %d×%d", t.Height, t.Width)
	}
	if !(0 < t.Scale[0] && t.Scale[0] <= t.Scale[1]) || !(0 < t.Ratio[0] && t.Ratio[0] <= t.Ratio[1]) {
		return fmt.Errorf("data: RandomResizedCrop: scale %v and ratio %v must be positive, increasing ranges", t.Scale, t.Ratio)
	}
	if m.H <= 0 || m.W <= 0 {
		return fmt.Errorf("data: RandomResizedCrop: empty %d×%d image", m.H, m.W)
	}
	top, left, ch, cw := t.Window(m.H, m.W, rng)
	m.resizeRegion(top, left, ch, cw, t.Height, t.Width, t.Interp)
	return nil
}

func errNoRand(name string) error {
	return fmt.Errorf("data: %s needs a random generator, got nil", name)
}

// uniform draws from [lo, hi).
func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

// RandomHorizontalFlip mirrors the image left to right with probability P.
type RandomHorizontalFlip struct{ P float64 }

// Apply flips m with probability P.
func (t RandomHorizontalFlip) Apply(m *Image, rng *rand.Rand) error {
	if rng == nil {
		return errNoRand("RandomHorizontalFlip")
	}
	if rng.Float64() < t.P {
		HorizontalFlip(m)
	}
	return nil
}

// HorizontalFlip mirrors m left to right.
func HorizontalFlip(m *Image) {
	c := m.C
	for y := 0; y < m.H; y++ {
		row := m.Pix[y*m.W*c : (y+1)*m.W*c]
		for l, r := 0, m.W-1; l < r; l, r = l+1, r-1 {
			for ch := 0; ch < c; ch++ {
				row[l*c+ch], row[r*c+ch] = row[r*c+ch], row[l*c+ch]
			}
		}
	}
}

// ColorJitter changes brightness, contrast and saturation by factors drawn uniformly
// from [max(0, 1-v), 1+v] for each nonzero v, applied in a random order, as
// torchvision's ColorJitter (hue 0) and MindSpore's RandomColorAdjust do. Each
// adjustment blends with a degenerate image and clamps to 0–255: black for brightness,
// the mean grey level for contrast, the image's grey version for saturation (grey uses
// torchvision's weights 0.2989, 0.587, 0.114). Saturation leaves 1-channel images as
// they are.
type ColorJitter struct {
	Brightness, Contrast, Saturation float64
}

// Apply adjusts m.
func (t ColorJitter) Apply(m *Image, rng *rand.Rand) error {
	if rng == nil {
		return errNoRand("ColorJitter")
	}
	for _, k := range perm3(rng) {
		switch k {
		case 0:
			if t.Brightness > 0 {
				AdjustBrightness(m, float32(uniform(rng, max(0, 1-t.Brightness), 1+t.Brightness)))
			}
		case 1:
			if t.Contrast > 0 {
				AdjustContrast(m, float32(uniform(rng, max(0, 1-t.Contrast), 1+t.Contrast)))
			}
		case 2:
			if t.Saturation > 0 {
				AdjustSaturation(m, float32(uniform(rng, max(0, 1-t.Saturation), 1+t.Saturation)))
			}
		}
	}
	return nil
}

// clamp255 clamps to [0, 255]. Plain comparisons: the min and max builtins also order
// NaNs and signed zeros, which costs a lot in these loops.
// perm3 draws a random order of 0, 1, 2 (an inside-out Fisher–Yates, as rand.Perm
// does) without allocating.
func perm3(rng *rand.Rand) [3]int {
	var p [3]int
	for i := range p {
		j := rng.IntN(i + 1)
		p[i], p[j] = p[j], i
	}
	return p
}

func clamp255(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return v
}

// AdjustBrightness scales every pixel by f and clamps to 0–255.
func AdjustBrightness(m *Image, f float32) {
	for i, v := range m.Pix {
		m.Pix[i] = clamp255(f * v)
	}
}

// AdjustContrast blends every pixel with the image's mean grey level:
// mean + f·(v − mean), clamped to 0–255.
func AdjustContrast(m *Image, f float32) {
	var sum float64
	n := m.H * m.W
	if m.C == 3 {
		for i := 0; i < n; i++ {
			sum += float64(grey(m.Pix[3*i:]))
		}
	} else {
		for i := 0; i < n; i++ {
			sum += float64(m.Pix[i*m.C])
		}
	}
	mean := float32(sum / float64(n))
	for i, v := range m.Pix {
		m.Pix[i] = clamp255(f*v + (1-f)*mean)
	}
}

// AdjustSaturation blends every RGB pixel with its grey level: g + f·(v − g), clamped to
// 0–255. It does nothing to images that are not 3-channel.
func AdjustSaturation(m *Image, f float32) {
	if m.C != 3 {
		return
	}
	for i := 0; i < len(m.Pix); i += 3 {
		p := m.Pix[i : i+3 : i+3]
		g := (1 - f) * grey(p)
		p[0] = clamp255(f*p[0] + g)
		p[1] = clamp255(f*p[1] + g)
		p[2] = clamp255(f*p[2] + g)
	}
}

func grey(p []float32) float32 { return 0.2989*p[0] + 0.587*p[1] + 0.114*p[2] }

// Normalize maps each channel to (v − Mean[c]) / Std[c]. Mean and Std are in pixel
// units (0–255); NewNormalize converts torchvision-style 0–1 statistics.
type Normalize struct {
	Mean, Std []float32
}

// NewNormalize returns the Normalize for statistics given on the 0–1 scale, as
// torchvision writes them: it multiplies both by 255, as MindCV does.
func NewNormalize(mean, std []float32) *Normalize {
	n := &Normalize{Mean: make([]float32, len(mean)), Std: make([]float32, len(std))}
	for i, v := range mean {
		n.Mean[i] = 255 * v
	}
	for i, v := range std {
		n.Std[i] = 255 * v
	}
	return n
}

// Apply normalizes m.
func (t *Normalize) Apply(m *Image, _ *rand.Rand) error {
	if len(t.Mean) != m.C || len(t.Std) != m.C {
		return fmt.Errorf("data: Normalize has %d means and %d stds for a %d-channel image", len(t.Mean), len(t.Std), m.C)
	}
	var inv [4]float32
	invs := inv[:0]
	for _, s := range t.Std {
		if s == 0 {
			return fmt.Errorf("data: Normalize: zero standard deviation")
		}
		invs = append(invs, 1/s)
	}
	c := m.C
	for i := 0; i < len(m.Pix); i += c {
		for ch := 0; ch < c; ch++ {
			m.Pix[i+ch] = (m.Pix[i+ch] - t.Mean[ch]) * invs[ch]
		}
	}
	return nil
}

// Resize resamples the image. With Short > 0 the shorter side becomes Short and the
// longer one int(Short·long/short), as torchvision's Resize(int) computes it; otherwise
// the image becomes Height×Width.
type Resize struct {
	Short         int
	Height, Width int
	Interp        Interpolation
}

// ResizeShort returns a Resize of the shorter side to size, bilinear.
func ResizeShort(size int) *Resize { return &Resize{Short: size} }

// Apply resizes m.
func (t *Resize) Apply(m *Image, _ *rand.Rand) error {
	oh, ow := t.Height, t.Width
	if m.H <= 0 || m.W <= 0 {
		return fmt.Errorf("data: Resize: empty %d×%d image", m.H, m.W)
	}
	if t.Short > 0 {
		oh, ow = shortSide(m.H, m.W, t.Short)
	}
	if oh <= 0 || ow <= 0 {
		return fmt.Errorf("data: Resize: bad size %d×%d", oh, ow)
	}
	if oh == m.H && ow == m.W {
		return nil
	}
	m.resizeRegion(0, 0, m.H, m.W, oh, ow, t.Interp)
	return nil
}

func shortSide(h, w, size int) (oh, ow int) {
	if w <= h {
		return int(float64(size) * float64(h) / float64(w)), size
	}
	return size, int(float64(size) * float64(w) / float64(h))
}

// CenterCrop takes the centred Height×Width window, at top round((H−Height)/2) (Python
// rounding) as torchvision does, padding with zeros if the image is smaller.
type CenterCrop struct{ Height, Width int }

// Apply crops m.
func (t CenterCrop) Apply(m *Image, _ *rand.Rand) error {
	if t.Height <= 0 || t.Width <= 0 {
		return fmt.Errorf("data: CenterCrop: bad size %d×%d", t.Height, t.Width)
	}
	m.crop(centreOffset(m.H, t.Height), centreOffset(m.W, t.Width), t.Height, t.Width, 0)
	return nil
}

func centreOffset(in, out int) int {
	if in >= out {
		return int(math.RoundToEven(float64(in-out) / 2))
	}
	return -((out - in) / 2) // torchvision pads (out−in)/2 before, the rest after
}

// RandomCrop pads the image by Padding zeros on every side, then takes a Height×Width
// window at a uniformly random position (torchvision's RandomCrop(size, padding)).
type RandomCrop struct {
	Height, Width int
	Padding       int
}

// Apply crops m.
func (t RandomCrop) Apply(m *Image, rng *rand.Rand) error {
	if rng == nil {
		return errNoRand("RandomCrop")
	}
	ph, pw := m.H+2*t.Padding, m.W+2*t.Padding
	if t.Height <= 0 || t.Width <= 0 || t.Height > ph || t.Width > pw {
		return fmt.Errorf("data: RandomCrop: %d×%d window does not fit a %d×%d image padded by %d", t.Height, t.Width, m.H, m.W, t.Padding)
	}
	top := rng.IntN(ph-t.Height+1) - t.Padding
	left := rng.IntN(pw-t.Width+1) - t.Padding
	m.crop(top, left, t.Height, t.Width, 0)
	return nil
}

// Pad adds N pixels of value Fill on every side.
type Pad struct {
	N    int
	Fill float32
}

// Apply pads m.
func (t Pad) Apply(m *Image, _ *rand.Rand) error {
	if t.N < 0 {
		return fmt.Errorf("data: Pad: negative padding %d", t.N)
	}
	m.crop(-t.N, -t.N, m.H+2*t.N, m.W+2*t.N, t.Fill)
	return nil
}

// GrayToRGB replicates a 1-channel image into 3 channels, for feeding grey datasets to
// 3-channel models. Other images are left as they are.
type GrayToRGB struct{}

// Apply converts m.
func (GrayToRGB) Apply(m *Image, _ *rand.Rand) error {
	if m.C != 1 {
		return nil
	}
	out := m.output(m.H, m.W, 3)
	for i, v := range m.Pix[:m.H*m.W] {
		out[3*i], out[3*i+1], out[3*i+2] = v, v, v
	}
	m.commit(m.H, m.W, 3)
	return nil
}
