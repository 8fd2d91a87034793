package vgg

import (
	"fmt"
	"strings"
)

// pool marks a 2×2 max-pool in a configuration.
const pool = 0

// Config is a VGG feature extractor: conv output widths in order, 0 for a max-pool.
type Config struct {
	Name   string
	Layers []int
}

// The configurations of the paper's Table 1 (torchvision's "A", "B", "D", "E").
var (
	ConfigA = Config{"vgg11", []int{64, pool, 128, pool, 256, 256, pool, 512, 512, pool, 512, 512, pool}}
	ConfigB = Config{"vgg13", []int{64, 64, pool, 128, 128, pool, 256, 256, pool, 512, 512, pool, 512, 512, pool}}
	ConfigD = Config{"vgg16", []int{64, 64, pool, 128, 128, pool, 256, 256, 256, pool, 512, 512, 512, pool, 512, 512, 512, pool}}
	ConfigE = Config{"vgg19", []int{64, 64, pool, 128, 128, pool, 256, 256, 256, 256, pool, 512, 512, 512, 512, pool, 512, 512, 512, 512, pool}}
)

// Configs lists the four standard configurations by depth.
var Configs = map[int]Config{11: ConfigA, 13: ConfigB, 16: ConfigD, 19: ConfigE}

// Names lists the model names New accepts.
var Names = []string{"vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"}

// ParseName maps "vgg16" or "vgg16_bn" to its configuration and batch-norm flag.
func ParseName(name string) (Config, bool, error) {
	base, bn := strings.CutSuffix(strings.ToLower(name), "_bn")
	for _, c := range Configs {
		if c.Name == base {
			return c, bn, nil
		}
	}
	return Config{}, false, fmt.Errorf("vgg: unknown model %q (want one of %s)", name, strings.Join(Names, ", "))
}

// Flavour selects whose definition of VGG to follow.
type Flavour int

const (
	// Torchvision: conv bias, AdaptiveAvgPool2d(7, 7) before the classifier.
	Torchvision Flavour = iota
	// MindCV: no conv bias, the 7×7×512 feature map flattened directly (224×224 input).
	MindCV
)

func (f Flavour) String() string {
	if f == MindCV {
		return "mindcv"
	}
	return "torchvision"
}

// ParseFlavour maps "torchvision" or "mindcv" to a Flavour.
func ParseFlavour(s string) (Flavour, error) {
	switch strings.ToLower(s) {
	case "torchvision", "torch", "pytorch":
		return Torchvision, nil
	case "mindcv", "mindspore":
		return MindCV, nil
	}
	return Torchvision, fmt.Errorf("vgg: unknown flavour %q (want torchvision or mindcv)", s)
}
