package vgg

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/tensor"
)

// Model is a VGG network: features (convs, optional batch norms, ReLUs, max-pools), an
// optional adaptive average pool, a flatten, and the classifier.
type Model struct {
	name       string
	cfg        Config
	opts       options
	features   *layers.Sequential
	avgpool    layers.Layer // nil when the feature map is flattened directly
	flatten    *layers.Flatten
	classifier *layers.Sequential
	imageSize  int // the input side the classifier was sized for when there is no pool
	classNames []string
	training   bool
}

// New11 returns VGG-11 (configuration A).
func New11(opts ...Option) (*Model, error) { return New(ConfigA, opts...) }

// New13 returns VGG-13 (configuration B).
func New13(opts ...Option) (*Model, error) { return New(ConfigB, opts...) }

// New16 returns VGG-16 (configuration D).
func New16(opts ...Option) (*Model, error) { return New(ConfigD, opts...) }

// New19 returns VGG-19 (configuration E).
func New19(opts ...Option) (*Model, error) { return New(ConfigE, opts...) }

// NewByName returns the model named like torchvision's constructors: "vgg11" …
// "vgg19_bn". A "_bn" suffix turns batch norm on; later options still apply.
func NewByName(name string, opts ...Option) (*Model, error) {
	cfg, bn, err := ParseName(name)
	if err != nil {
		return nil, err
	}
	return New(cfg, append([]Option{WithBatchNorm(bn)}, opts...)...)
}

// New builds a model from a configuration, initialized like torchvision: convolutions
// Kaiming-normal (fan_out, ReLU gain), linear layers N(0, 0.01), biases 0, batch-norm
// scale 1 and shift 0.
func New(cfg Config, opts ...Option) (*Model, error) {
	o, err := resolveOptions(opts)
	if err != nil {
		return nil, err
	}
	if len(cfg.Layers) == 0 {
		return nil, fmt.Errorf("vgg: configuration %q has no layers", cfg.Name)
	}
	m := &Model{cfg: cfg, opts: o, imageSize: 224, classNames: o.classNames}
	m.name = cfg.Name
	if o.batchNorm {
		m.name += "_bn"
	}

	features := layers.NewSequential()
	in, pools := o.inChannels, 0
	for _, v := range cfg.Layers {
		if v == pool {
			features.Append(layers.NewMaxPool2d(2, 2))
			pools++
			continue
		}
		out := v / o.widthDiv
		c, err := layers.NewConv2d(in, out, 3, 1, 1, o.flavour == Torchvision, o.convOptions...)
		if err != nil {
			return nil, fmt.Errorf("vgg: %w", err)
		}
		if features.Len() == 0 {
			c.SetNeedInputGrad(false) // nothing consumes dL/dimage
		}
		features.Append(c)
		if o.batchNorm {
			features.Append(layers.NewBatchNorm2d(out))
		}
		features.Append(layers.NewReLU())
		in = out
	}
	m.features = features

	side := o.poolSize
	if side > 0 {
		m.avgpool = layers.NewAdaptiveAvgPool2d(side, side)
	} else {
		side = m.imageSize >> pools
	}
	m.flatten = layers.NewFlatten()
	flat := in * side * side

	classifier := layers.NewSequential()
	if o.hidden == 0 {
		classifier.Append(layers.NewLinear(flat, o.numClasses, true))
	} else {
		classifier.Append(
			layers.NewLinear(flat, o.hidden, true),
			layers.NewReLU(),
			layers.NewDropout(o.dropout, o.seed+1),
			layers.NewLinear(o.hidden, o.hidden, true),
			layers.NewReLU(),
			layers.NewDropout(o.dropout, o.seed+2),
			layers.NewLinear(o.hidden, o.numClasses, true),
		)
	}
	m.classifier = classifier
	if err := m.Init(o.seed); err != nil {
		return nil, err
	}
	m.SetTraining(false)
	return m, nil
}

// Name returns the model's name, e.g. "vgg16_bn".
func (m *Model) Name() string { return m.name }

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Flavour returns whose definition the model follows.
func (m *Model) Flavour() Flavour { return m.opts.flavour }

// NumClasses returns the classifier's output size.
func (m *Model) NumClasses() int { return m.opts.numClasses }

// InChannels returns the number of input channels.
func (m *Model) InChannels() int { return m.opts.inChannels }

// BatchNorm reports whether the model has batch normalization.
func (m *Model) BatchNorm() bool { return m.opts.batchNorm }

// Features returns the feature extractor (convs, norms, ReLUs, pools).
func (m *Model) Features() *layers.Sequential { return m.features }

// Classifier returns the classifier.
func (m *Model) Classifier() *layers.Sequential { return m.classifier }

// Init re-initializes every parameter from seed, like torchvision, and resets batch-norm
// running statistics.
func (m *Model) Init(seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0x766767))
	for _, l := range m.features.Layers() {
		switch l := l.(type) {
		case *layers.Conv2d:
			w := l.Params()[0].Value
			fanOut := w.Dim(0) * w.Dim(2) * w.Dim(3)
			fillNormal(w.Data(), rng, math.Sqrt(2/float64(fanOut)))
			for _, p := range l.Params()[1:] {
				p.Value.Zero()
			}
		case *layers.BatchNorm2d:
			resetBatchNorm(l)
		}
	}
	for _, l := range m.classifier.Layers() {
		if lin, ok := l.(*layers.Linear); ok {
			ps := lin.Params()
			fillNormal(ps[0].Value.Data(), rng, 0.01)
			for _, p := range ps[1:] {
				p.Value.Zero()
			}
		}
	}
	m.ParamsChanged()
	return nil
}

func fillNormal(x []float32, rng *rand.Rand, std float64) {
	for i := range x {
		x[i] = float32(rng.NormFloat64() * std)
	}
}

func resetBatchNorm(bn *layers.BatchNorm2d) {
	for _, p := range append(bn.Params(), bn.Buffers()...) {
		fill := float32(0)
		if p.Name == "weight" || p.Name == "running_var" {
			fill = 1
		}
		for i := range p.Value.Data() {
			p.Value.Data()[i] = fill
		}
	}
}

// ParamsChanged tells the model that parameter values were written from outside (a
// loader or an optimizer step), so layers that keep weights in another form (packed,
// Winograd-transformed) refresh it before the next forward pass.
func (m *Model) ParamsChanged() {
	m.features.ParamsChanged()
	m.classifier.ParamsChanged()
}

// SetBackend makes every layer of the model compute with b (nil: the package
// default of layers, see layers.UseBackend), e.g. an npu.Backend.
func (m *Model) SetBackend(b layers.Backend) {
	m.features.SetBackend(b)
	if bs, ok := m.avgpool.(layers.BackendSetter); ok {
		bs.SetBackend(b)
	}
	m.classifier.SetBackend(b)
}

// SetTraining switches batch norm and dropout between training and evaluation.
func (m *Model) SetTraining(on bool) {
	m.training = on
	m.features.SetTraining(on)
	m.classifier.SetTraining(on)
}

// Training reports whether the model is in training mode.
func (m *Model) Training() bool { return m.training }

// Params returns the learnable parameters with their torchvision names, in state-dict order.
func (m *Model) Params() []*layers.Param {
	return append(prefixed("features.", m.features.Params()), prefixed("classifier.", m.classifier.Params())...)
}

// Buffers returns the non-learnable state (batch-norm running statistics).
func (m *Model) Buffers() []*layers.Param {
	return prefixed("features.", m.features.Buffers())
}

// StateDict returns parameters and buffers, in torchvision's order (each layer's
// parameters followed by its buffers).
func (m *Model) StateDict() []*layers.Param {
	var all []*layers.Param
	for i, l := range m.features.Layers() {
		pre := fmt.Sprintf("features.%d.", i)
		all = append(all, prefixed(pre, l.Params())...)
		all = append(all, prefixed(pre, l.Buffers())...)
	}
	return append(all, prefixed("classifier.", m.classifier.Params())...)
}

func prefixed(prefix string, ps []*layers.Param) []*layers.Param {
	out := make([]*layers.Param, len(ps))
	for i, p := range ps {
		out[i] = &layers.Param{Name: prefix + p.Name, Value: p.Value, Grad: p.Grad}
	}
	return out
}

// IsNorm reports whether a parameter name (as returned by Params) belongs to a batch
// norm: the set that weight-decay filters "auto" and "norm_and_bias" leave undecayed
// (optim.WithNormParams(m.IsNorm)).
func (m *Model) IsNorm(name string) bool {
	var i int
	var leaf string
	if _, err := fmt.Sscanf(name, "features.%d.%s", &i, &leaf); err != nil || i < 0 || i >= m.features.Len() {
		return false
	}
	_, bn := m.features.Layers()[i].(*layers.BatchNorm2d)
	return bn && (leaf == "weight" || leaf == "bias")
}

// NumParams returns the number of learnable parameters (torchvision's count).
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.Params() {
		n += p.Value.Len()
	}
	return n
}

// InputSize returns the input side the model expects for an h×w request: torchvision
// models take any size ≥ 32; models without the adaptive pool need exactly the size
// their classifier was built for.
func (m *Model) checkInput(shape []int) error {
	if len(shape) != 4 {
		return fmt.Errorf("vgg: input must be N×C×H×W, got shape %v", shape)
	}
	if shape[1] != m.opts.inChannels {
		return fmt.Errorf("vgg: %s expects %d input channels, got %d (shape %v)", m.name, m.opts.inChannels, shape[1], shape)
	}
	if m.avgpool == nil {
		if shape[2] != m.imageSize || shape[3] != m.imageSize {
			return fmt.Errorf("vgg: %s without adaptive pooling expects %d×%d inputs, got %d×%d", m.name, m.imageSize, m.imageSize, shape[2], shape[3])
		}
	} else if shape[2] < 32 || shape[3] < 32 {
		return fmt.Errorf("vgg: inputs must be at least 32×32, got %d×%d", shape[2], shape[3])
	}
	return nil
}

// Forward runs the network on an N×C×H×W batch and returns the N×classes logits. The
// result belongs to the model and is valid until the next Forward.
func (m *Model) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := m.checkInput(x.Shape()); err != nil {
		return nil, err
	}
	y, err := m.features.Forward(x)
	if err != nil {
		return nil, err
	}
	if m.avgpool != nil {
		if y, err = m.avgpool.Forward(y); err != nil {
			return nil, err
		}
	}
	if y, err = m.flatten.Forward(y); err != nil {
		return nil, err
	}
	if y, err = m.classifier.Forward(y); err != nil {
		return nil, err
	}
	// A backend that keeps activations on a device copies the logits back.
	return y, layers.ToHost(m.classifier, y)
}

// Backward propagates dL/dlogits for the last Forward (in training mode) and
// overwrites every parameter's gradient.
func (m *Model) Backward(dlogits *tensor.Tensor) error {
	d, err := m.classifier.Backward(dlogits)
	if err != nil {
		return err
	}
	if d, err = m.flatten.Backward(d); err != nil {
		return err
	}
	if m.avgpool != nil {
		if d, err = m.avgpool.Backward(d); err != nil {
			return err
		}
	}
	_, err = m.features.Backward(d)
	return err
}
