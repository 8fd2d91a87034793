package vgg

import (
	"fmt"

	"github.com/govgg/govgg/conv"
)

type options struct {
	batchNorm   bool
	numClasses  int
	inChannels  int
	dropout     float32
	flavour     Flavour
	seed        uint64
	widthDiv    int
	hidden      int
	poolSize    int // AdaptiveAvgPool2d output side; 0 means flatten directly
	poolSet     bool
	classNames  []string
	convOptions []conv.Option
}

func defaultOptions() options {
	return options{numClasses: 1000, inChannels: 3, dropout: 0.5, widthDiv: 1, hidden: 4096, seed: 1}
}

// Option configures a model.
type Option func(*options)

// WithBatchNorm inserts BatchNorm2d after every convolution (torchvision's vgg16_bn).
func WithBatchNorm(on bool) Option { return func(o *options) { o.batchNorm = on } }

// WithNumClasses sets the classifier's output size (default 1000).
func WithNumClasses(n int) Option { return func(o *options) { o.numClasses = n } }

// WithInChannels sets the input channels (default 3; 1 for grey images).
func WithInChannels(n int) Option { return func(o *options) { o.inChannels = n } }

// WithDropout sets the classifier's dropout probability (default 0.5).
func WithDropout(p float32) Option { return func(o *options) { o.dropout = p } }

// WithFlavour selects torchvision's or MindCV's definition (default Torchvision).
func WithFlavour(f Flavour) Option { return func(o *options) { o.flavour = f } }

// WithSeed seeds the weight initialization and dropout (default 1).
func WithSeed(seed uint64) Option { return func(o *options) { o.seed = seed } }

// WithWidthDivisor divides every conv width by d (64 → 64/d): small, fast variants for
// small images and tests. The default is 1.
func WithWidthDivisor(d int) Option { return func(o *options) { o.widthDiv = d } }

// WithHidden sets the width of the two hidden classifier layers (default 4096). With 0
// the classifier is a single Linear layer from the pooled features to the classes
// (the CIFAR-style head).
func WithHidden(n int) Option { return func(o *options) { o.hidden = n } }

// WithPoolSize sets the AdaptiveAvgPool2d output side before the classifier (default 7
// for torchvision, none for MindCV); 0 removes the pool, so the feature map is
// flattened directly.
func WithPoolSize(s int) Option { return func(o *options) { o.poolSize, o.poolSet = s, true } }

// WithClassNames names the classifier outputs for Predict (default: the 1000 ImageNet
// classes when there are 1000 outputs, else "class N").
func WithClassNames(names []string) Option { return func(o *options) { o.classNames = names } }

// WithConvOptions passes options to every convolution's plan, e.g.
// conv.WithAlgorithm(conv.Im2col) to force an algorithm.
func WithConvOptions(opts ...conv.Option) Option {
	return func(o *options) { o.convOptions = append(o.convOptions, opts...) }
}

// resolveOptions applies opts over the defaults, fills the flavour-dependent pool
// default (7×7 for torchvision, none for MindCV) and validates the result.
func resolveOptions(opts []Option) (options, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if !o.poolSet && o.flavour == Torchvision {
		o.poolSize = 7
	}
	return o, o.validate()
}

func (o *options) validate() error {
	switch {
	case o.numClasses <= 0:
		return fmt.Errorf("vgg: number of classes must be positive, got %d", o.numClasses)
	case o.inChannels <= 0:
		return fmt.Errorf("vgg: input channels must be positive, got %d", o.inChannels)
	case o.dropout < 0 || o.dropout >= 1:
		return fmt.Errorf("vgg: dropout must be in [0, 1), got %g", o.dropout)
	case o.widthDiv <= 0 || 64%o.widthDiv != 0:
		return fmt.Errorf("vgg: width divisor must divide 64, got %d", o.widthDiv)
	case o.hidden < 0:
		return fmt.Errorf("vgg: hidden width must not be negative, got %d", o.hidden)
	case o.poolSize < 0:
		return fmt.Errorf("vgg: pool size must not be negative, got %d", o.poolSize)
	case o.classNames != nil && len(o.classNames) != o.numClasses:
		return fmt.Errorf("vgg: %d class names for %d classes", len(o.classNames), o.numClasses)
	}
	return nil
}
