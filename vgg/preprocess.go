package vgg

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// ImageNet normalization used by torchvision's and MindCV's evaluation transforms.
var (
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

// Preprocess applies torchvision's evaluation transform for ImageNet classifiers
// (ImageClassification(crop_size=224, resize_size=256) on a PIL image): resize the
// short side to resize with PIL's antialiased bilinear filter (8-bit fixed point, so
// the pixels equal PIL's), centre-crop crop×crop, scale to [0, 1] and normalize by mean
// and std. It writes the CHW result into dst (3×crop×crop) and returns it.
func Preprocess(dst []float32, img image.Image, resize, crop int) ([]float32, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("vgg: empty image (%d×%d)", w, h)
	}
	if resize < crop || crop <= 0 {
		return nil, fmt.Errorf("vgg: resize %d must be at least crop %d > 0", resize, crop)
	}
	ow, oh := resize, resize
	if w <= h {
		oh = int(float64(resize) * float64(h) / float64(w))
	} else {
		ow = int(float64(resize) * float64(w) / float64(h))
	}
	rgb := toRGB(img)
	rgb = resampleBilinear(rgb, w, h, ow, oh)
	top := int(math.RoundToEven(float64(oh-crop) / 2))
	left := int(math.RoundToEven(float64(ow-crop) / 2))
	if len(dst) < 3*crop*crop {
		dst = make([]float32, 3*crop*crop)
	}
	dst = dst[:3*crop*crop]
	for y := 0; y < crop; y++ {
		for x := 0; x < crop; x++ {
			p := rgb[((top+y)*ow+left+x)*3:]
			for c := 0; c < 3; c++ {
				v := float32(p[c]) / 255
				dst[(c*crop+y)*crop+x] = (v - ImageNetMean[c]) / ImageNetStd[c]
			}
		}
	}
	return dst, nil
}

// toRGB converts any image to packed 8-bit RGB, dropping alpha like PIL's convert("RGB").
func toRGB(img image.Image) []uint8 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]uint8, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			o := (y*w + x) * 3
			out[o], out[o+1], out[o+2] = c.R, c.G, c.B
		}
	}
	return out
}

// PIL's fixed-point precision for 8-bit resampling (libImaging/Resample.c).
const precisionBits = 32 - 8 - 2

// resampleCoeffs computes PIL's bilinear weights for resizing n input samples to m:
// for each output, the first input index and fixed-point weights.
func resampleCoeffs(n, m int) (starts []int, weights [][]int32) {
	scale := float64(n) / float64(m)
	filterScale := max(scale, 1)
	support := filterScale // the bilinear filter's support is 1
	starts = make([]int, m)
	weights = make([][]int32, m)
	for o := 0; o < m; o++ {
		center := (float64(o) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), n)
		k := make([]float64, hi-lo)
		sum := 0.0
		for i := range k {
			t := math.Abs((float64(i+lo) - center + 0.5) / filterScale)
			if t < 1 {
				k[i] = 1 - t
			}
			sum += k[i]
		}
		kk := make([]int32, len(k))
		for i, v := range k {
			if sum != 0 {
				v /= sum
			}
			if v < 0 {
				kk[i] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				kk[i] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		starts[o], weights[o] = lo, kk
	}
	return starts, weights
}

func clip8(v int32) uint8 {
	v >>= precisionBits
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v)
}

// resampleBilinear resizes packed RGB w×h to ow×oh the way PIL's Image.resize does
// with BILINEAR: a horizontal pass, then a vertical one, each rounded to 8 bits.
func resampleBilinear(src []uint8, w, h, ow, oh int) []uint8 {
	if ow != w {
		starts, ws := resampleCoeffs(w, ow)
		dst := make([]uint8, ow*h*3)
		for y := 0; y < h; y++ {
			row := src[y*w*3:]
			for x := 0; x < ow; x++ {
				for c := 0; c < 3; c++ {
					acc := int32(1 << (precisionBits - 1))
					for i, k := range ws[x] {
						acc += int32(row[(starts[x]+i)*3+c]) * k
					}
					dst[(y*ow+x)*3+c] = clip8(acc)
				}
			}
		}
		src, w = dst, ow
	}
	if oh != h {
		starts, ws := resampleCoeffs(h, oh)
		dst := make([]uint8, w*oh*3)
		for y := 0; y < oh; y++ {
			for x := 0; x < w*3; x++ {
				acc := int32(1 << (precisionBits - 1))
				for i, k := range ws[y] {
					acc += int32(src[(starts[y]+i)*w*3+x]) * k
				}
				dst[y*w*3+x] = clip8(acc)
			}
		}
		src = dst
	}
	return src
}
