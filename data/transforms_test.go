package data

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

type fixtureImage struct {
	H, W, C int
	Pix     []float64
}

func (f fixtureImage) image() *Image {
	m := NewImage(f.H, f.W, f.C)
	for i, v := range f.Pix {
		m.Pix[i] = float32(v)
	}
	return m
}

type fixtureCase struct {
	Op        string
	Size      []int
	Box       []int
	Antialias bool
	Short     int
	Factor    float32
	Mean, Std []float32
	Input     *fixtureImage
	Out       fixtureImage
}

// TestTorchvisionFixtures compares the transforms with torchvision 0.14 outputs made by
// testdata/make_fixtures.py.
func TestTorchvisionFixtures(t *testing.T) {
	b, err := os.ReadFile("testdata/torchvision_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Input fixtureImage
		Cases []fixtureCase
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) < 20 {
		t.Fatalf("only %d fixture cases", len(fx.Cases))
	}
	for i, c := range fx.Cases {
		m := fx.Input.image()
		if c.Input != nil {
			m = c.Input.image()
		}
		interp := Bilinear
		if c.Antialias {
			interp = BilinearAntialias
		}
		name := fmt.Sprintf("%d:%s%v%v aa=%v", i, c.Op, c.Size, c.Box, c.Antialias)
		switch c.Op {
		case "resize":
			err = (&Resize{Height: c.Size[0], Width: c.Size[1], Interp: interp}).Apply(m, nil)
		case "resized_crop":
			m.resizeRegion(c.Box[0], c.Box[1], c.Box[2], c.Box[3], c.Size[0], c.Size[1], interp)
		case "pil_resize":
			err = (&Resize{Height: c.Size[0], Width: c.Size[1], Interp: interp}).Apply(m, nil)
		case "resize_short":
			err = ResizeShort(c.Short).Apply(m, nil)
		case "center_crop":
			err = CenterCrop{Height: c.Size[0], Width: c.Size[1]}.Apply(m, nil)
		case "brightness":
			AdjustBrightness(m, c.Factor)
		case "contrast", "contrast_grey":
			AdjustContrast(m, c.Factor)
		case "saturation":
			AdjustSaturation(m, c.Factor)
		case "normalize":
			err = NewNormalize(c.Mean, c.Std).Apply(m, nil)
		case "hflip":
			HorizontalFlip(m)
		default:
			t.Fatalf("%s: unknown op", name)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.H != c.Out.H || m.W != c.Out.W || m.C != c.Out.C {
			t.Errorf("%s: got %d×%d×%d, torchvision %d×%d×%d", name, m.H, m.W, m.C, c.Out.H, c.Out.W, c.Out.C)
			continue
		}
		// float32 on the 0–255 scale: a few ulps of 255. Normalized values are ≈ ±2.
		tol := 1e-3
		switch c.Op {
		case "normalize":
			tol = 1e-5
		case "pil_resize": // PIL rounds to uint8 after each pass
			tol = 1
		}
		worst := 0.0
		for k, want := range c.Out.Pix {
			worst = max(worst, math.Abs(float64(m.Pix[k])-want))
		}
		t.Logf("%s: max |diff| %.3g", name, worst)
		if worst > tol {
			t.Errorf("%s: max |diff| %.3g from torchvision > %g", name, worst, tol)
		}
	}
}

// refBilinear is torch's upsample_bilinear2d (align_corners=False) in float64, written
// from its definition: source coordinate (d+0.5)·in/out − 0.5, clamped at 0, blending
// the two neighbours, the upper one clamped at in−1. It reads the window at (top, left).
func refBilinear(m *Image, top, left, h, w, oh, ow int) []float64 {
	src := func(d, in, out int) (int, int, float64) {
		s := (float64(d)+0.5)*float64(in)/float64(out) - 0.5
		if s < 0 {
			s = 0
		}
		i0 := int(s)
		i1 := min(i0+1, in-1)
		return i0, i1, s - float64(i0)
	}
	out := make([]float64, oh*ow*m.C)
	for y := 0; y < oh; y++ {
		y0, y1, ly := src(y, h, oh)
		for x := 0; x < ow; x++ {
			x0, x1, lx := src(x, w, ow)
			for c := 0; c < m.C; c++ {
				p := func(yy, xx int) float64 { return float64(m.At(top+yy, left+xx, c)) }
				out[(y*ow+x)*m.C+c] = (1-ly)*((1-lx)*p(y0, x0)+lx*p(y0, x1)) + ly*((1-lx)*p(y1, x0)+lx*p(y1, x1))
			}
		}
	}
	return out
}

func randomImage(rng *rand.Rand, h, w, c int) *Image {
	m := NewImage(h, w, c)
	for i := range m.Pix {
		m.Pix[i] = float32(rng.IntN(256))
	}
	return m
}

func TestBilinearAgainstFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 300; trial++ {
		h, w, c := 1+rng.IntN(40), 1+rng.IntN(40), 1+2*rng.IntN(2)
		m := randomImage(rng, h, w, c)
		bh, bw := 1+rng.IntN(h), 1+rng.IntN(w)
		top, left := rng.IntN(h-bh+1), rng.IntN(w-bw+1)
		oh, ow := 1+rng.IntN(50), 1+rng.IntN(50)
		want := refBilinear(m, top, left, bh, bw, oh, ow)
		m.resizeRegion(top, left, bh, bw, oh, ow, Bilinear)
		if m.H != oh || m.W != ow || len(m.Pix) != len(want) {
			t.Fatalf("shape %d×%d, want %d×%d", m.H, m.W, oh, ow)
		}
		for i, v := range want {
			if math.Abs(float64(m.Pix[i])-v) > 1e-3 {
				t.Fatalf("%d×%d window (%d,%d) of %d×%d×%d → %d×%d: element %d = %v, float64 %v",
					bh, bw, top, left, h, w, c, oh, ow, i, m.Pix[i], v)
			}
		}
	}
}

func TestResizeConstantAndIdentity(t *testing.T) {
	for _, interp := range []Interpolation{Bilinear, BilinearAntialias} {
		m := NewImage(37, 23, 3)
		fillF32(m.Pix, 77)
		m.resizeRegion(3, 2, 30, 20, 9, 41, interp)
		for i, v := range m.Pix {
			if math.Abs(float64(v)-77) > 1e-4 {
				t.Fatalf("%v: constant image resized to %v at %d", interp, v, i)
			}
		}
		rng := rand.New(rand.NewPCG(3, 4))
		a := randomImage(rng, 11, 13, 3)
		b := NewImage(11, 13, 3)
		copy(b.Pix, a.Pix)
		b.resizeRegion(0, 0, 11, 13, 11, 13, interp)
		for i := range a.Pix {
			if math.Abs(float64(a.Pix[i]-b.Pix[i])) > 1e-4 {
				t.Fatalf("%v: same-size resize changed element %d", interp, i)
			}
		}
	}
}

func TestRandomResizedCropWindow(t *testing.T) {
	rrc := NewRandomResizedCrop(224)
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 2000; trial++ {
		h, w := 50+rng.IntN(500), 50+rng.IntN(500)
		top, left, ch, cw := rrc.Window(h, w, rng)
		if top < 0 || left < 0 || ch <= 0 || cw <= 0 || top+ch > h || left+cw > w {
			t.Fatalf("window (%d,%d,%d,%d) outside %d×%d", top, left, ch, cw, h, w)
		}
		// The rounding of the sides moves area and ratio slightly off their ranges.
		area := float64(ch*cw) / float64(h*w)
		ratio := float64(cw) / float64(ch)
		if area > 1 || area < 0.08*0.8 || ratio < 0.75*0.8 || ratio > 4.0/3*1.25 {
			t.Fatalf("%d×%d: window %d×%d has area fraction %.3f, ratio %.3f", h, w, ch, cw, area, ratio)
		}
	}
	// A 10×1000 strip never fits a ratio in [3/4, 4/3]: the fallback is the centred
	// 10×round(10·4/3)=13 window.
	for trial := 0; trial < 20; trial++ {
		top, left, ch, cw := rrc.Window(10, 1000, rng)
		if top != 0 || left != (1000-13)/2 || ch != 10 || cw != 13 {
			t.Fatalf("wide fallback: (%d,%d,%d,%d)", top, left, ch, cw)
		}
		top, left, ch, cw = rrc.Window(1000, 10, rng)
		if top != (1000-13)/2 || left != 0 || ch != 13 || cw != 10 {
			t.Fatalf("tall fallback: (%d,%d,%d,%d)", top, left, ch, cw)
		}
	}
	// Same stream, same window.
	a := rand.New(rand.NewPCG(9, 9))
	b := rand.New(rand.NewPCG(9, 9))
	for trial := 0; trial < 10; trial++ {
		t1, l1, h1, w1 := rrc.Window(300, 400, a)
		t2, l2, h2, w2 := rrc.Window(300, 400, b)
		if t1 != t2 || l1 != l2 || h1 != h2 || w1 != w2 {
			t.Fatal("Window is not deterministic given the generator")
		}
	}
}

func TestRandomCropPadding(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	seen := map[[2]int]bool{}
	src := NewImage(32, 32, 1)
	for i := range src.Pix {
		src.Pix[i] = float32(1 + i) // every pixel distinct and nonzero
	}
	for trial := 0; trial < 3000; trial++ {
		m := NewImage(32, 32, 1)
		copy(m.Pix, src.Pix)
		if err := (RandomCrop{Height: 32, Width: 32, Padding: 4}).Apply(m, rng); err != nil {
			t.Fatal(err)
		}
		// Recover the offset from any original pixel in the window.
		dy, dx, found := 0, 0, false
		for i, v := range m.Pix {
			if v != 0 {
				p := int(v) - 1
				dy, dx, found = p/32-i/32, p%32-i%32, true
				break
			}
		}
		if !found || dy < -4 || dy > 4 || dx < -4 || dx > 4 {
			t.Fatalf("offset (%d,%d)", dy, dx)
		}
		for y := 0; y < 32; y++ {
			for x := 0; x < 32; x++ {
				sy, sx := y+dy, x+dx
				want := float32(0)
				if sy >= 0 && sy < 32 && sx >= 0 && sx < 32 {
					want = src.Pix[sy*32+sx]
				}
				if m.Pix[y*32+x] != want {
					t.Fatalf("offset (%d,%d): pixel (%d,%d) = %v, want %v", dy, dx, y, x, m.Pix[y*32+x], want)
				}
			}
		}
		seen[[2]int{dy, dx}] = true
	}
	if len(seen) != 81 {
		t.Errorf("%d of the 81 offsets seen", len(seen))
	}
	if err := (RandomCrop{Height: 50, Width: 50, Padding: 4}).Apply(NewImage(32, 32, 1), rng); err == nil {
		t.Error("RandomCrop larger than the padded image succeeded")
	}
}

func TestPadAndTo32(t *testing.T) {
	m := NewImage(28, 28, 1)
	fillF32(m.Pix, 5)
	if err := To32(false).Apply(m, nil); err != nil {
		t.Fatal(err)
	}
	if m.H != 32 || m.W != 32 || m.At(0, 0, 0) != 0 || m.At(1, 31, 0) != 0 || m.At(2, 2, 0) != 5 || m.At(29, 29, 0) != 5 || m.At(30, 29, 0) != 0 {
		t.Fatalf("Pad 2: %d×%d, corners wrong", m.H, m.W)
	}
	m = NewImage(28, 28, 1)
	fillF32(m.Pix, 5)
	if err := To32(true).Apply(m, nil); err != nil {
		t.Fatal(err)
	}
	if m.H != 32 || m.W != 32 || math.Abs(float64(m.At(0, 0, 0))-5) > 1e-5 {
		t.Fatalf("Resize 32: %d×%d, corner %v", m.H, m.W, m.At(0, 0, 0))
	}
}

func TestColorJitterOrderAndRanges(t *testing.T) {
	cj := ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4}
	src := randomImage(rand.New(rand.NewPCG(1, 1)), 6, 7, 3)
	orders := map[[3]int]bool{}
	for seed := uint64(0); seed < 200; seed++ {
		got := NewImage(6, 7, 3)
		copy(got.Pix, src.Pix)
		if err := cj.Apply(got, rand.New(rand.NewPCG(seed, 0))); err != nil {
			t.Fatal(err)
		}
		// Replay the same draws: a permutation, then one factor per adjustment in that order.
		rng := rand.New(rand.NewPCG(seed, 0))
		order := perm3(rng)
		want := NewImage(6, 7, 3)
		copy(want.Pix, src.Pix)
		for _, k := range order {
			f := float32(0.6 + 0.8*rng.Float64())
			if f < 0.6 || f > 1.4 {
				t.Fatalf("factor %v outside [0.6, 1.4]", f)
			}
			[]func(*Image, float32){AdjustBrightness, AdjustContrast, AdjustSaturation}[k](want, f)
		}
		for i := range want.Pix {
			if got.Pix[i] != want.Pix[i] || got.Pix[i] < 0 || got.Pix[i] > 255 {
				t.Fatalf("seed %d: element %d = %v, replay %v", seed, i, got.Pix[i], want.Pix[i])
			}
		}
		orders[order] = true
	}
	if len(orders) != 6 {
		t.Errorf("%d of 6 orders drawn", len(orders))
	}
}

func TestNormalizeErrors(t *testing.T) {
	if err := NewNormalize(ImageNetMean, ImageNetStd).Apply(NewImage(2, 2, 1), nil); err == nil {
		t.Error("3-channel Normalize of a 1-channel image succeeded")
	}
	if err := (&Normalize{Mean: []float32{0}, Std: []float32{0}}).Apply(NewImage(2, 2, 1), nil); err == nil {
		t.Error("zero std succeeded")
	}
}

func TestPresetShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cases := []struct {
		name    string
		tf      Transform
		h, w, c int
		oh, ow  int
		oc      int
	}{
		{"ImageNetTrain", ImageNetTrain(224), 300, 451, 3, 224, 224, 3},
		{"ImageNetEval", ImageNetEval(224), 300, 451, 3, 224, 224, 3},
		{"ImageNetEval small", ImageNetEval(224), 100, 80, 3, 224, 224, 3},
		{"CIFAR10Train", CIFAR10Train(), 32, 32, 3, 32, 32, 3},
		{"CIFAR10Eval", CIFAR10Eval(), 32, 32, 3, 32, 32, 3},
		{"FashionMNISTTrain pad", FashionMNISTTrain(false), 28, 28, 1, 32, 32, 1},
		{"FashionMNISTTrain resize", FashionMNISTTrain(true), 28, 28, 1, 32, 32, 1},
		{"FashionMNISTEval + RGB", Compose{FashionMNISTEval(false), GrayToRGB{}}, 28, 28, 1, 32, 32, 3},
	}
	for _, c := range cases {
		m := randomImage(rng, c.h, c.w, c.c)
		if err := c.tf.Apply(m, rng); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if m.H != c.oh || m.W != c.ow || m.C != c.oc || len(m.Pix) != c.oh*c.ow*c.oc {
			t.Errorf("%s: %d×%d×%d, want %d×%d×%d", c.name, m.H, m.W, m.C, c.oh, c.ow, c.oc)
		}
		for _, v := range m.Pix {
			if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 3 {
				t.Fatalf("%s: normalized value %v", c.name, v)
			}
		}
	}
}

// TestEvalResizeGeometry checks the 256/224 arithmetic: a 375×500 image resizes to
// 256×341 (torchvision's int(256·500/375)) and is cropped at round(58.5/… ) offsets.
func TestEvalResizeGeometry(t *testing.T) {
	m := NewImage(375, 500, 3)
	if err := ResizeShort(256).Apply(m, nil); err != nil {
		t.Fatal(err)
	}
	if m.H != 256 || m.W != 341 {
		t.Fatalf("short-side resize: %d×%d, want 256×341", m.H, m.W)
	}
	// round((341−224)/2) = round(58.5) = 58 (half to even, as Python), round(16) = 16.
	if got := centreOffset(341, 224); got != 58 {
		t.Errorf("centre offset of 341→224 = %d, want 58", got)
	}
	if got := centreOffset(256, 224); got != 16 {
		t.Errorf("centre offset of 256→224 = %d, want 16", got)
	}
}

func TestRandomTransformsNeedRand(t *testing.T) {
	for _, tf := range []Transform{NewRandomResizedCrop(8), RandomHorizontalFlip{P: 0.5}, ColorJitter{Brightness: 0.4}, RandomCrop{Height: 2, Width: 2}} {
		if err := tf.Apply(NewImage(4, 4, 3), nil); err == nil {
			t.Errorf("%T accepted a nil generator", tf)
		}
	}
}

func TestToCHW(t *testing.T) {
	m := NewImage(1, 2, 3)
	copy(m.Pix, []float32{1, 2, 3, 4, 5, 6}) // two RGB pixels
	dst := make([]float32, 6)
	if err := m.ToCHW(dst); err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 4, 2, 5, 3, 6}; !slices.Equal(dst, want) {
		t.Errorf("CHW %v, want %v", dst, want)
	}
	if err := m.ToCHW(make([]float32, 5)); err == nil {
		t.Error("short destination accepted")
	}
}

func TestTransformBadParameters(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name string
		tf   Transform
		m    *Image
	}{
		{"RRC zero ratio", &RandomResizedCrop{Height: 4, Width: 4, Scale: [2]float64{0.08, 1}}, NewImage(8, 8, 3)},
		{"RRC reversed scale", &RandomResizedCrop{Height: 4, Width: 4, Scale: [2]float64{1, 0.5}, Ratio: [2]float64{1, 1}}, NewImage(8, 8, 3)},
		{"RRC empty image", NewRandomResizedCrop(4), NewImage(0, 8, 3)},
		{"Resize empty image", ResizeShort(4), NewImage(8, 0, 3)},
		{"Resize zero size", &Resize{}, NewImage(8, 8, 3)},
		{"CenterCrop zero", CenterCrop{}, NewImage(8, 8, 3)},
		{"Pad negative", Pad{N: -1}, NewImage(8, 8, 3)},
	}
	for _, c := range cases {
		if err := c.tf.Apply(c.m, rng); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// FuzzTransforms checks that no image size or parameter makes a transform panic, and
// that a successful transform leaves a consistent image.
func FuzzTransforms(f *testing.F) {
	f.Add(uint8(7), uint8(9), uint8(3), uint8(0), int16(5), int16(6), uint64(1))
	f.Add(uint8(1), uint8(1), uint8(1), uint8(1), int16(40), int16(2), uint64(2))
	f.Add(uint8(0), uint8(3), uint8(3), uint8(2), int16(-1), int16(0), uint64(3))
	f.Fuzz(func(t *testing.T, h, w, c, kind uint8, p, q int16, seed uint64) {
		m := NewImage(int(h%40), int(w%40), 1+int(c%4))
		for i := range m.Pix {
			m.Pix[i] = float32(i % 256)
		}
		a, b := int(p)%70, int(q)%70
		tfs := []Transform{
			&RandomResizedCrop{Height: a, Width: b, Scale: [2]float64{0.08, 1}, Ratio: [2]float64{0.75, 4.0 / 3}, Interp: Interpolation(seed % 2)},
			&Resize{Height: a, Width: b, Interp: Interpolation(seed % 2)},
			&Resize{Short: a},
			CenterCrop{Height: a, Width: b},
			RandomCrop{Height: a, Width: b, Padding: int(seed % 5)},
			Pad{N: a % 8},
			ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4},
			RandomHorizontalFlip{P: 0.5},
			GrayToRGB{},
		}
		tf := tfs[int(kind)%len(tfs)]
		if err := tf.Apply(m, rand.New(rand.NewPCG(seed, 0))); err != nil {
			return
		}
		if m.H < 0 || m.W < 0 || len(m.Pix) != m.H*m.W*m.C {
			t.Fatalf("%T: %d×%d×%d image with %d values", tf, m.H, m.W, m.C, len(m.Pix))
		}
	})
}
