package weights

import (
	"fmt"
	"path/filepath"
)

// Flavor names a parameter-naming convention for VGG weights.
type Flavor uint8

// The naming flavours.
const (
	// Torchvision names: BatchNorm weight/bias/running_mean/running_var.
	Torchvision Flavor = iota + 1
	// MindCV names: BatchNorm gamma/beta/moving_mean/moving_variance.
	MindCV
)

func (f Flavor) String() string {
	switch f {
	case Torchvision:
		return "torchvision"
	case MindCV:
		return "mindcv"
	}
	return "unknown"
}

// ConvertOption configures Convert.
type ConvertOption func(*convertConfig)

type convertConfig struct {
	rename func(names []string) func(string) string
	crc    bool
}

// RenameTo maps the tensor names to a flavour while converting: MindCV to
// torchvision names (for a .ckpt going to safetensors) or torchvision to MindCV
// names (for a .pth or safetensors going to .ckpt).
func RenameTo(f Flavor) ConvertOption {
	return func(c *convertConfig) {
		switch f {
		case Torchvision:
			c.rename = func([]string) func(string) string { return MindCVToTorchvision }
		case MindCV:
			c.rename = TorchvisionToMindCV
		}
	}
}

// ConvertCRC appends the crc_num trailer when the destination is a .ckpt.
func ConvertCRC() ConvertOption { return func(c *convertConfig) { c.crc = true } }

// Convert reads any supported weight file and writes its model tensors to dst as
// safetensors (.safetensors) or MindSpore .ckpt (.ckpt), chosen by dst's extension.
func Convert(src, dst string, opts ...ConvertOption) error {
	var c convertConfig
	for _, o := range opts {
		o(&c)
	}
	out := FormatFromExt(dst)
	if out != Safetensors && out != MindSpore {
		return fmt.Errorf("weights: cannot convert to %s: the destination must end in .safetensors or .ckpt", dst)
	}
	f, err := ReadFile(src)
	if err != nil {
		return err
	}
	ts := f.Tensors
	if c.rename != nil {
		mapName := c.rename(Names(ts))
		renamed := make([]Named, 0, len(ts))
		for _, t := range ts {
			if t.Name = mapName(t.Name); t.Name != "" {
				renamed = append(renamed, t)
			}
		}
		ts = renamed
	}
	var sopts []SaveOption
	if out == Safetensors {
		sopts = append(sopts, WithMetadata(map[string]string{
			"format":         "pt",
			"converted_from": filepath.Base(src),
			"source_format":  f.Format.String(),
		}))
	} else if c.crc {
		sopts = append(sopts, WithCRC())
	}
	return Save(dst, ts, out, sopts...)
}
