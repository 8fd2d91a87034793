package vgg

// Summary is what a model costs, computed from its configuration without building it.
type Summary struct {
	Name   string
	Params int64 // learnable parameters (torchvision's count)
	MACs   int64 // multiply-accumulates of one forward pass at the given size
}

// Summarize returns the parameter count and MACs of the model New would build, for an
// input of side imageSize, without allocating its weights.
func Summarize(cfg Config, imageSize int, opts ...Option) (Summary, error) {
	o, err := resolveOptions(opts)
	if err != nil {
		return Summary{}, err
	}
	return summarize(cfg, imageSize, o), nil
}

func summarize(cfg Config, imageSize int, o options) Summary {
	s := Summary{Name: cfg.Name}
	if o.batchNorm {
		s.Name += "_bn"
	}
	c, side, builtSide := int64(o.inChannels), int64(imageSize), int64(224)
	for _, v := range cfg.Layers {
		if v == pool {
			side /= 2
			builtSide /= 2
			continue
		}
		k := int64(v / o.widthDiv)
		s.Params += k * c * 9
		if o.flavour == Torchvision {
			s.Params += k
		}
		if o.batchNorm {
			s.Params += 2 * k
		}
		s.MACs += k * c * 9 * side * side
		c = k
	}
	flat := c * builtSide * builtSide
	if o.poolSize > 0 {
		flat = c * int64(o.poolSize) * int64(o.poolSize)
	}
	dims := []int64{flat, int64(o.hidden), int64(o.hidden), int64(o.numClasses)}
	if o.hidden == 0 {
		dims = []int64{flat, int64(o.numClasses)}
	}
	for i := 1; i < len(dims); i++ {
		s.Params += dims[i-1]*dims[i] + dims[i]
		s.MACs += dims[i-1] * dims[i]
	}
	return s
}
