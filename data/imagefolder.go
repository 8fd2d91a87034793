package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the decoders ImageFolder reads
	_ "image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ImageFolder is a dataset of image files laid out as dir/<class>/…/*.{jpg,jpeg,png}
// (extensions matched case-insensitively), the layout of torchvision's ImageFolder and
// MindSpore's ImageFolderDataset. Class folders are sorted by name and give the labels
// 0, 1, …; files are listed in lexical path order. Images are decoded on Get, always to
// 3-channel RGB (grey images are replicated, alpha is dropped, as PIL's convert("RGB")
// does). JPEG chroma is upsampled and converted as libjpeg does (see ycbcrToRGB); Go's
// inverse DCT still differs from libjpeg's, by about one level on average.
type ImageFolder struct {
	dir     string
	classes []string
	paths   []string
	labels  []int
}

// OpenImageFolder lists root/split (or root itself when split is ""). A missing folder,
// a folder without class subfolders and a class folder without images are errors that
// name the folder.
func OpenImageFolder(root, split string) (*ImageFolder, error) {
	dir := root
	if split != "" {
		dir = filepath.Join(root, split)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: ImageFolder: %w", err)
	}
	d := &ImageFolder{dir: dir}
	for _, e := range entries { // os.ReadDir sorts by name
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && st.IsDir() {
			d.classes = append(d.classes, e.Name())
		}
	}
	if len(d.classes) == 0 {
		return nil, fmt.Errorf("data: ImageFolder: %s has no class folders", dir)
	}
	for label, class := range d.classes {
		cdir := filepath.Join(dir, class)
		before := len(d.paths)
		err := filepath.WalkDir(cdir, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !e.IsDir() && isImageFile(path) {
				d.paths = append(d.paths, path)
				d.labels = append(d.labels, label)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("data: ImageFolder: %w", err)
		}
		if len(d.paths) == before {
			return nil, fmt.Errorf("data: ImageFolder: class folder %s has no .jpg, .jpeg or .png files", cdir)
		}
	}
	return d, nil
}

func isImageFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// Len returns the number of image files.
func (d *ImageFolder) Len() int { return len(d.paths) }

// Classes returns the sorted class folder names.
func (d *ImageFolder) Classes() []string { return d.classes }

// Source returns the path of image i.
func (d *ImageFolder) Source(i int) string {
	if i < 0 || i >= len(d.paths) {
		return fmt.Sprintf("%s[%d]", d.dir, i)
	}
	return d.paths[i]
}

// Get reads and decodes image i into a fresh RGB buffer.
func (d *ImageFolder) Get(i int) (Sample, error) {
	if i < 0 || i >= len(d.paths) {
		return Sample{}, fmt.Errorf("data: ImageFolder %s: index %d out of range [0, %d)", d.dir, i, len(d.paths))
	}
	path := d.paths[i]
	b, err := os.ReadFile(path)
	if err != nil {
		return Sample{}, fmt.Errorf("data: %w", err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Sample{}, fmt.Errorf("data: decoding %s: %w", path, err)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxImagePixels {
		return Sample{}, fmt.Errorf("data: %s: %d×%d image exceeds %d pixels (decompression bomb?)", path, cfg.Width, cfg.Height, maxImagePixels)
	}
	m, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return Sample{}, fmt.Errorf("data: decoding %s: %w", path, err)
	}
	pix, h, w := toRGB(m)
	if h == 0 || w == 0 {
		return Sample{}, fmt.Errorf("data: decoding %s: empty image", path)
	}
	return Sample{Pix: pix, H: h, W: w, C: 3, Label: d.labels[i]}, nil
}

// maxImagePixels is PIL's limit beyond which Image.open refuses a file as a likely
// decompression bomb (2 × MAX_IMAGE_PIXELS).
const maxImagePixels = 2 * 89478485

// toRGB converts a decoded image to HWC RGB bytes, with fast paths for the types the
// JPEG and PNG decoders return most often.
func toRGB(m image.Image) (pix []uint8, h, w int) {
	r := m.Bounds()
	h, w = r.Dy(), r.Dx()
	pix = make([]uint8, 3*h*w)
	o := 0
	switch m := m.(type) {
	case *image.YCbCr:
		ycbcrToRGB(pix, m)
	case *image.Gray:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := m.Pix[m.PixOffset(r.Min.X, y):]
			for x := 0; x < w; x++ {
				v := row[x]
				pix[o], pix[o+1], pix[o+2] = v, v, v
				o += 3
			}
		}
	case *image.RGBA:
		rgbFrom4(pix, m.Pix, m.Stride, m.PixOffset(r.Min.X, r.Min.Y), h, w)
	case *image.NRGBA:
		rgbFrom4(pix, m.Pix, m.Stride, m.PixOffset(r.Min.X, r.Min.Y), h, w)
	default:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				c := color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
				pix[o], pix[o+1], pix[o+2] = c.R, c.G, c.B
				o += 3
			}
		}
	}
	return pix, h, w
}

// rgbFrom4 copies the first three of four bytes per pixel, dropping alpha.
func rgbFrom4(dst, src []uint8, stride, off, h, w int) {
	o := 0
	for y := 0; y < h; y++ {
		row := src[off+y*stride : off+y*stride+4*w]
		for x := 0; x < w; x++ {
			dst[o], dst[o+1], dst[o+2] = row[4*x], row[4*x+1], row[4*x+2]
			o += 3
		}
	}
}
