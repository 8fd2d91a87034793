package vgg

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed imagenet_classes.txt
var imagenetClassesText string

// ImageNetClasses returns the 1000 ImageNet-1k class names in torchvision's order.
func ImageNetClasses() []string {
	return strings.Split(strings.TrimRight(imagenetClassesText, "\n"), "\n")
}

// ClassNames returns the names Predict reports for each output.
func (m *Model) ClassNames() []string {
	if m.classNames != nil {
		return m.classNames
	}
	if m.opts.numClasses == 1000 {
		m.classNames = ImageNetClasses()
	} else {
		m.classNames = make([]string, m.opts.numClasses)
		for i := range m.classNames {
			m.classNames[i] = fmt.Sprintf("class %d", i)
		}
	}
	return m.classNames
}

// MACs returns the multiply-accumulate operations of one forward pass on a size×size
// image in the convolutions and linear layers: the figure torchvision reports as
// "GFLOPS" (15.47 G for VGG-16 at 224×224). Floating-point operations are twice this.
func (m *Model) MACs(size int) int64 { return summarize(m.cfg, size, m.opts).MACs }
