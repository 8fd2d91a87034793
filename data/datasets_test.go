package data

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes encodes an unsigned-byte IDX file.
func idxBytes(dims []int, payload []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, payload...)
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tinyIDX returns n images of 3×2 pixels, pixel p of image i = 10·i + p, labels i % 10.
func tinyIDX(n int) (images, labels []byte) {
	var pix, lab []byte
	for i := 0; i < n; i++ {
		for p := 0; p < 6; p++ {
			pix = append(pix, byte(10*i+p))
		}
		lab = append(lab, byte(i%10))
	}
	return idxBytes([]int{n, 3, 2}, pix), idxBytes([]int{n}, lab)
}

func TestIDXPlainAndGzip(t *testing.T) {
	for _, zip := range []bool{false, true} {
		dir := t.TempDir()
		images, labels := tinyIDX(12)
		suffix := ""
		if zip {
			images, labels, suffix = gz(t, images), gz(t, labels), ".gz"
		}
		writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"+suffix), images)
		writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"+suffix), labels)
		ds, err := Open("mnist", dir, "test")
		if err != nil {
			t.Fatalf("gzip=%v: %v", zip, err)
		}
		if ds.Len() != 12 || len(ds.Classes()) != 10 {
			t.Fatalf("gzip=%v: Len %d, %d classes", zip, ds.Len(), len(ds.Classes()))
		}
		s, err := ds.Get(11)
		if err != nil {
			t.Fatal(err)
		}
		if s.H != 3 || s.W != 2 || s.C != 1 || s.Label != 1 || s.Pix[0] != 110 || s.Pix[5] != 115 {
			t.Fatalf("gzip=%v: sample 11 = %+v", zip, s)
		}
		if _, err := ds.Get(12); err == nil {
			t.Error("Get(12) of 12 samples succeeded")
		}
		if _, err := Open("mnist", dir, "train"); err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte") {
			t.Errorf("missing train files: error %v does not name the file", err)
		}
	}
}

func TestIDXErrors(t *testing.T) {
	images, labels := tinyIDX(5)
	badMagic := append([]byte{}, images...)
	badMagic[2] = 0x09 // signed byte
	cases := []struct {
		name           string
		images, labels []byte
		classes        []string
		want           string
	}{
		{"truncated images", images[:len(images)-1], labels, nil, "truncated"},
		{"truncated header", images[:10], labels, nil, "truncated IDX header"},
		{"trailing bytes", append(append([]byte{}, images...), 0), labels, nil, "trailing"},
		{"bad magic", badMagic, labels, nil, "bad magic"},
		{"labels as images", labels, labels, nil, "bad magic"},
		{"count mismatch", images, idxBytes([]int{4}, []byte{0, 1, 2, 3}), nil, "holds 5 images but"},
		{"label range", images, labels, []string{"a", "b"}, "out of range for 2 classes"},
		{"truncated gzip", gz(t, images)[:40], labels, nil, "truncated"},
		{"zero rows", idxBytes([]int{1, 0, 2}, nil), idxBytes([]int{1}, []byte{0}), nil, "dimension 1 is 0"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		ip, lp := filepath.Join(dir, "imgs"), filepath.Join(dir, "labs")
		writeFile(t, ip, c.images)
		writeFile(t, lp, c.labels)
		_, err := OpenIDX(ip, lp, c.classes)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: error %q should contain %q and name the file", c.name, err, c.want)
		}
	}
	if _, err := OpenIDX("/nonexistent/imgs", "/nonexistent/labs", nil); err == nil || !strings.Contains(err.Error(), "/nonexistent/imgs") {
		t.Errorf("missing file: %v", err)
	}
}

// cifarRecord returns a record whose channel c of pixel p is (label + 3p + c) % 256.
func cifarRecordBytes(label int) []byte {
	r := []byte{byte(label)}
	for c := 0; c < 3; c++ {
		for p := 0; p < 1024; p++ {
			r = append(r, byte(label+3*p+c))
		}
	}
	return r
}

func TestCIFAR10(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cifar-10-batches-bin")
	for b := 1; b <= 5; b++ {
		var f []byte
		for r := 0; r < b; r++ { // batch b holds b records
			f = append(f, cifarRecordBytes((b+r)%10)...)
		}
		writeFile(t, filepath.Join(dir, "data_batch_"+string(rune('0'+b))+".bin"), f)
	}
	writeFile(t, filepath.Join(dir, "test_batch.bin"), append(cifarRecordBytes(3), cifarRecordBytes(4)...))
	writeFile(t, filepath.Join(dir, "batches.meta.txt"), []byte(strings.Join(CIFAR10Classes, "\n")+"\n\n"))

	ds, err := Open("cifar10", root, "train")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 15 || len(ds.Classes()) != 10 || ds.Classes()[9] != "truck" {
		t.Fatalf("Len %d, classes %v", ds.Len(), ds.Classes())
	}
	// Sample 14 is the last record of batch 5: label (5+4)%10 = 9.
	s, err := ds.Get(14)
	if err != nil {
		t.Fatal(err)
	}
	if s.Label != 9 || s.H != 32 || s.W != 32 || s.C != 3 {
		t.Fatalf("sample 14: label %d, %d×%d×%d", s.Label, s.H, s.W, s.C)
	}
	for _, p := range []int{0, 1, 500, 1023} {
		for c := 0; c < 3; c++ {
			if got, want := s.Pix[3*p+c], byte(9+3*p+c); got != want {
				t.Fatalf("pixel %d channel %d = %d, want %d (CHW→HWC)", p, c, got, want)
			}
		}
	}
	if src := ds.(Sourcer).Source(14); !strings.HasSuffix(src, "data_batch_5.bin[4]") {
		t.Errorf("Source(14) = %s", src)
	}
	test, err := Open("cifar10", root, "val")
	if err != nil || test.Len() != 2 {
		t.Fatalf("test split: %v, %v", test, err)
	}

	// Truncated batch, missing batch, bad label.
	writeFile(t, filepath.Join(dir, "test_batch.bin"), cifarRecordBytes(3)[:3000])
	if _, err := OpenCIFAR10(root, "test"); err == nil || !strings.Contains(err.Error(), "test_batch.bin") {
		t.Errorf("truncated: %v", err)
	}
	writeFile(t, filepath.Join(dir, "test_batch.bin"), cifarRecordBytes(12))
	if _, err := OpenCIFAR10(root, "test"); err == nil || !strings.Contains(err.Error(), "label 12") {
		t.Errorf("bad label: %v", err)
	}
	os.Remove(filepath.Join(dir, "data_batch_3.bin"))
	if _, err := OpenCIFAR10(root, "train"); err == nil || !strings.Contains(err.Error(), "data_batch_3.bin") {
		t.Errorf("missing batch: %v", err)
	}
}

func writeImage(t testing.TB, path string, m image.Image) {
	t.Helper()
	var buf bytes.Buffer
	var err error
	if strings.HasSuffix(strings.ToLower(path), ".png") {
		err = png.Encode(&buf, m)
	} else {
		err = jpeg.Encode(&buf, m, &jpeg.Options{Quality: 100})
	}
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.Bytes())
}

func TestImageFolder(t *testing.T) {
	root := t.TempDir()
	rgba := image.NewNRGBA(image.Rect(0, 0, 5, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 5; x++ {
			rgba.SetNRGBA(x, y, color.NRGBA{uint8(10 * x), uint8(20 * y), 200, uint8(100 + x)})
		}
	}
	grey := image.NewGray(image.Rect(0, 0, 3, 3))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(i * 20)
	}
	flat := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range flat.Pix {
		flat.Pix[i] = 128
	}
	writeImage(t, filepath.Join(root, "train", "zebra", "b.png"), rgba)
	writeImage(t, filepath.Join(root, "train", "zebra", "a.PNG"), grey)
	writeImage(t, filepath.Join(root, "train", "ant", "sub", "x.jpg"), flat)
	writeImage(t, filepath.Join(root, "train", "ant", "y.jpeg"), flat)
	writeFile(t, filepath.Join(root, "train", "ant", "notes.txt"), []byte("not an image"))

	ds, err := Open("imagenet", root, "train")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ds.Classes(), ","); got != "ant,zebra" {
		t.Fatalf("classes %s", got)
	}
	if ds.Len() != 4 {
		t.Fatalf("Len %d", ds.Len())
	}
	wantFiles := []string{"ant/sub/x.jpg", "ant/y.jpeg", "zebra/a.PNG", "zebra/b.png"}
	for i, f := range wantFiles {
		if src := ds.(Sourcer).Source(i); !strings.HasSuffix(filepath.ToSlash(src), f) {
			t.Errorf("sample %d is %s, want …%s", i, src, f)
		}
	}
	s, err := ds.Get(3) // b.png: NRGBA, alpha dropped
	if err != nil {
		t.Fatal(err)
	}
	if s.Label != 1 || s.H != 4 || s.W != 5 || s.C != 3 {
		t.Fatalf("b.png: %+v", s)
	}
	if p := s.Pix[3*(2*5+3):][:3]; p[0] != 30 || p[1] != 40 || p[2] != 200 {
		t.Errorf("b.png pixel (2,3) = %v, want [30 40 200]", p)
	}
	s, _ = ds.Get(2) // a.PNG: grey replicated
	if p := s.Pix[3*4:][:3]; p[0] != 80 || p[1] != 80 || p[2] != 80 {
		t.Errorf("a.PNG pixel 4 = %v, want [80 80 80]", p)
	}
	s, _ = ds.Get(0) // flat JPEG
	for i, v := range s.Pix {
		if v < 126 || v > 130 {
			t.Fatalf("x.jpg byte %d = %d, want ≈128", i, v)
		}
	}

	// Corrupt image: Get fails naming the file; listing is lazy so Open still works.
	writeFile(t, filepath.Join(root, "train", "zebra", "c.jpg"), []byte("\xff\xd8garbage"))
	ds, err = OpenImageFolder(root, "train")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Get(4); err == nil || !strings.Contains(err.Error(), "c.jpg") {
		t.Errorf("corrupt image: %v", err)
	}
	// Missing split, empty class, no classes.
	if _, err := OpenImageFolder(root, "val"); err == nil || !strings.Contains(err.Error(), filepath.Join(root, "val")) {
		t.Errorf("missing split: %v", err)
	}
	os.MkdirAll(filepath.Join(root, "train", "empty"), 0o755)
	if _, err := OpenImageFolder(root, "train"); err == nil || !strings.Contains(err.Error(), filepath.Join(root, "train", "empty")) {
		t.Errorf("empty class: %v", err)
	}
	os.MkdirAll(filepath.Join(root, "bare"), 0o755)
	if _, err := OpenImageFolder(root, "bare"); err == nil || !strings.Contains(err.Error(), "no class folders") {
		t.Errorf("no classes: %v", err)
	}
}

func TestOpenUnknown(t *testing.T) {
	if _, err := Open("coco", t.TempDir(), "train"); err == nil || !strings.Contains(err.Error(), "coco") {
		t.Errorf("unknown dataset: %v", err)
	}
	if _, err := Open("mnist", t.TempDir(), "dev"); err == nil || !strings.Contains(err.Error(), "dev") {
		t.Errorf("unknown split: %v", err)
	}
}

func TestEmbeddedFashionMNIST(t *testing.T) {
	// Pixel sums and first labels computed with NumPy from the full original files,
	// keeping the first 600 (train) or 100 (test) images of each class.
	for _, c := range []struct {
		split       string
		n           int
		pixelSum    uint64
		firstLabels []int
	}{{"train", 6000, 344160204, []int{9, 0, 0, 3, 0}}, {"test", 1000, 56973981, []int{9, 2, 1, 1, 6}}} {
		ds, err := EmbeddedFashionMNIST(c.split)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != c.n {
			t.Fatalf("%s: %d images, want %d", c.split, ds.Len(), c.n)
		}
		var count [10]int
		var sum uint64
		for i := 0; i < ds.Len(); i++ {
			s, err := ds.Get(i)
			if err != nil {
				t.Fatal(err)
			}
			if s.H != 28 || s.W != 28 || s.C != 1 {
				t.Fatalf("%s[%d] is %d×%d×%d", c.split, i, s.H, s.W, s.C)
			}
			count[s.Label]++
			for _, v := range s.Pix {
				sum += uint64(v)
			}
		}
		for l, k := range count {
			if k != c.n/10 {
				t.Errorf("%s: class %d has %d images, want %d", c.split, l, k, c.n/10)
			}
		}
		if sum != c.pixelSum {
			t.Errorf("%s: pixel sum %d, want %d", c.split, sum, c.pixelSum)
		}
		for i, want := range c.firstLabels {
			if s, _ := ds.Get(i); s.Label != want {
				t.Errorf("%s[%d]: label %d, want %d", c.split, i, s.Label, want)
			}
		}
	}
}

// FuzzReadIDX checks that no header or payload makes the IDX reader panic, and that
// what it accepts is consistent.
func FuzzReadIDX(f *testing.F) {
	images, labels := tinyIDX(3)
	f.Add(images, 3)
	f.Add(labels, 1)
	f.Add(gz(f, images), 3)
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 3)
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}, 3)
	f.Fuzz(func(t *testing.T, b []byte, ndims int) {
		ndims = 1 + (ndims&3)%3
		dims, payload, err := readIDX(bytes.NewReader(b), ndims)
		if err != nil {
			return
		}
		n := 1
		for _, d := range dims {
			n *= d
		}
		if len(dims) != ndims || len(payload) != n {
			t.Fatalf("accepted dims %v with %d bytes", dims, len(payload))
		}
	})
}

func TestImageFolderRefusesHugeImage(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	// Rewrite the IHDR chunk (after the 8-byte signature and 8-byte chunk header) to
	// claim 20000×20000 pixels, fixing its CRC so the header decodes.
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], 20000)
	binary.BigEndian.PutUint32(b[20:], 20000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "c", "bomb.png"), b)
	ds, err := OpenImageFolder(root, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Get(0); err == nil || !strings.Contains(err.Error(), "bomb.png") || !strings.Contains(err.Error(), "20000×20000") {
		t.Errorf("huge image: %v", err)
	}
}

func TestCIFAR100(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cifar-100-binary")
	rec := func(coarse, fine int) []byte {
		r := cifarRecordBytes(fine)
		return append([]byte{byte(coarse)}, r...) // coarse, fine, pixels
	}
	writeFile(t, filepath.Join(dir, "train.bin"), append(rec(3, 77), rec(19, 99)...))
	writeFile(t, filepath.Join(dir, "test.bin"), rec(0, 100))
	ds, err := Open("cifar100", root, "train")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ds.Get(1)
	if ds.Len() != 2 || len(ds.Classes()) != 100 || s.Label != 99 || s.Pix[3*5+2] != byte(99+3*5+2) {
		t.Fatalf("Len %d, %d classes, label %d", ds.Len(), len(ds.Classes()), s.Label)
	}
	if _, err := Open("cifar100", root, "test"); err == nil || !strings.Contains(err.Error(), "label 100") {
		t.Errorf("fine label 100: %v", err)
	}
}

func TestSubset(t *testing.T) {
	images, labels := tinyIDX(10)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "i"), images)
	writeFile(t, filepath.Join(dir, "l"), labels)
	ds, err := OpenIDX(filepath.Join(dir, "i"), filepath.Join(dir, "l"), MNISTClasses)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := Subset(ds, []int{7, 2})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := sub.Get(0)
	if sub.Len() != 2 || s.Label != 7 || s.Pix[0] != 70 || !strings.HasSuffix(sub.(Sourcer).Source(1), "i[2]") {
		t.Fatalf("subset: Len %d, sample 0 label %d", sub.Len(), s.Label)
	}
	if _, err := Subset(ds, []int{10}); err == nil {
		t.Error("index 10 of 10 accepted")
	}
}

// TestJPEGAgainstPIL compares Go's JPEG decoding plus ycbcrToRGB with PIL's (libjpeg)
// on the JPEGs made by testdata/make_jpeg_fixture.py. With libjpeg's fancy chroma
// upsampling the only difference left is the inverse DCT's rounding.
func TestJPEGAgainstPIL(t *testing.T) {
	for _, name := range []string{"photo420", "photo420odd", "photo422", "photo444"} {
		root := t.TempDir()
		b, err := os.ReadFile("testdata/" + name + ".jpg")
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, "c", name+".jpg"), b)
		ds, err := OpenImageFolder(root, "")
		if err != nil {
			t.Fatal(err)
		}
		s, err := ds.Get(0)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open("testdata/" + name + "_pil.png")
		if err != nil {
			t.Fatal(err)
		}
		ref, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		want, h, w := toRGB(ref)
		if s.H != h || s.W != w {
			t.Fatalf("%s: Go decodes %d×%d, PIL %d×%d", name, s.H, s.W, h, w)
		}
		var sum, worst float64
		for i := range want {
			d := math.Abs(float64(s.Pix[i]) - float64(want[i]))
			sum += d
			worst = max(worst, d)
		}
		mean := sum / float64(len(want))
		t.Logf("%s: Go vs PIL: mean |diff| %.3f, max %.0f levels", name, mean, worst)
		if mean > 0.25 || worst > 6 {
			t.Errorf("%s: Go vs PIL: mean |diff| %.3f, max %.0f levels", name, mean, worst)
		}
	}
}

func TestToRGBOtherTypes(t *testing.T) {
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.RGBA{10, 20, 30, 255}, color.RGBA{200, 100, 50, 255}})
	pal.Pix[1] = 1
	g16 := image.NewGray16(image.Rect(0, 0, 2, 1))
	g16.SetGray16(1, 0, color.Gray16{Y: 0xabcd})
	for _, c := range []struct {
		name string
		m    image.Image
		want []uint8
	}{
		{"paletted", pal, []uint8{10, 20, 30, 200, 100, 50}},
		{"gray16", g16, []uint8{0, 0, 0, 0xab, 0xab, 0xab}},
		{"sub-image", rgbaSub(), []uint8{1, 2, 3}},
	} {
		got, h, w := toRGB(c.m)
		if h*w*3 != len(c.want) || !bytes.Equal(got, c.want) {
			t.Errorf("%s: %v (%d×%d), want %v", c.name, got, h, w, c.want)
		}
	}
}

// rgbaSub is the bottom-right pixel of a 2×2 RGBA image, as a sub-image with a non-zero origin.
func rgbaSub() image.Image {
	m := image.NewRGBA(image.Rect(0, 0, 2, 2))
	m.SetRGBA(1, 1, color.RGBA{1, 2, 3, 255})
	return m.SubImage(image.Rect(1, 1, 2, 2))
}

// TestEvalPipelineAgainstTorchvision runs a JPEG through ImageFolder and
// ImageNetEvalPIL(28) (resize 32, crop 28) and compares with torchvision's preset on the
// PIL image, from testdata/make_jpeg_fixture.py. The remaining differences are PIL's
// uint8 rounding after each resize pass and the IDCT's rounding: a few levels.
func TestEvalPipelineAgainstTorchvision(t *testing.T) {
	b, err := os.ReadFile("testdata/photo420_torchvision_eval.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Shape []int
		CHW   []float64
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	jpg, err := os.ReadFile("testdata/photo420.jpg")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "c", "p.jpg"), jpg)
	ds, err := OpenImageFolder(root, "")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(ds, WithBatchSize(1), WithTransform(ImageNetEvalPIL(28)), WithShuffle(false))
	if err != nil {
		t.Fatal(err)
	}
	it, err := l.Epoch(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	batch, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got := batch.Images.Shape(); len(got) != 4 || got[1] != fx.Shape[0] || got[2] != fx.Shape[1] || got[3] != fx.Shape[2] {
		t.Fatalf("shape %v, torchvision %v", got, fx.Shape)
	}
	var sum, worst float64
	for i, want := range fx.CHW {
		d := math.Abs(float64(batch.Images.Data()[i]) - want)
		sum += d
		worst = max(worst, d)
	}
	// One level is 1/(0.225·255) ≈ 0.017 after normalization.
	mean := sum / float64(len(fx.CHW))
	t.Logf("vs torchvision eval preset: mean |diff| %.4f, max %.4f (normalized units)", mean, worst)
	if mean > 0.02 || worst > 0.1 {
		t.Errorf("vs torchvision eval preset: mean |diff| %.4f, max %.4f", mean, worst)
	}
}
