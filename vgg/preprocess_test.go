package vgg

import (
	"image"
	"image/png"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func readPNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	return img
}

// The crop must equal torchvision's ImageClassification transform of the same PIL image
// pixel for pixel (testdata/make_fixtures.py wrote both files).
func TestPreprocessMatchesTorchvision(t *testing.T) {
	img := readPNG(t, "testdata/photo.png")
	want := readPNG(t, "testdata/photo_crop224.png")
	x, err := Preprocess(nil, img, 256, 224)
	require.NoError(t, err)
	require.Len(t, x, 3*224*224)
	mismatches := 0
	for y := 0; y < 224; y++ {
		for xx := 0; xx < 224; xx++ {
			r, g, b, _ := want.At(xx, y).RGBA()
			exp := [3]uint32{r >> 8, g >> 8, b >> 8}
			for c := 0; c < 3; c++ {
				v := x[(c*224+y)*224+xx]*ImageNetStd[c] + ImageNetMean[c]
				got := uint32(v*255 + 0.5)
				if got != exp[c] {
					mismatches++
					if mismatches < 5 {
						t.Errorf("pixel (%d,%d) channel %d: got %d, torchvision %d", xx, y, c, got, exp[c])
					}
				}
			}
		}
	}
	require.Zero(t, mismatches, "pixels differing from torchvision")
}

func TestPreprocessErrors(t *testing.T) {
	_, err := Preprocess(nil, image.NewRGBA(image.Rect(0, 0, 0, 5)), 256, 224)
	require.ErrorContains(t, err, "empty image")
	_, err = Preprocess(nil, image.NewRGBA(image.Rect(0, 0, 5, 5)), 100, 224)
	require.ErrorContains(t, err, "resize 100")
}
