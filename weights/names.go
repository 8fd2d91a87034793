package weights

import "strings"

// Batch-norm parameter names: MindSpore (MindCV) on the left, torchvision on the right.
var bnMindToTorch = [...][2]string{
	{".gamma", ".weight"},
	{".beta", ".bias"},
	{".moving_mean", ".running_mean"},
	{".moving_variance", ".running_var"},
}

// MindCVToTorchvision maps a MindCV (MindSpore) VGG parameter name to the
// torchvision state-dict name: batch-norm gamma, beta, moving_mean and
// moving_variance become weight, bias, running_mean and running_var. Conv and
// Dense names (features.N.weight, classifier.N.weight/bias) are the same in both.
func MindCVToTorchvision(name string) string {
	for _, p := range bnMindToTorch {
		if strings.HasSuffix(name, p[0]) {
			return strings.TrimSuffix(name, p[0]) + p[1]
		}
	}
	return name
}

// TorchvisionToMindCV returns a name mapper from torchvision to MindCV names for
// the given set of torchvision names. Batch-norm modules are recognised by their
// running_mean or running_var entries, so that only their weight and bias become
// gamma and beta; num_batches_tracked maps to "" (dropped), since MindSpore's
// BatchNorm2d has no such parameter. Every other name is unchanged. MindCV's VGG
// convolutions have no bias: a torchvision conv bias keeps its name and is left
// for the loader to report as unexpected.
func TorchvisionToMindCV(names []string) func(string) string {
	bn := map[string]bool{}
	for _, n := range names {
		for _, s := range []string{".running_mean", ".running_var"} {
			if strings.HasSuffix(n, s) {
				bn[strings.TrimSuffix(n, s)] = true
			}
		}
	}
	return func(name string) string {
		if strings.HasSuffix(name, ".num_batches_tracked") {
			return ""
		}
		i := strings.LastIndexByte(name, '.')
		if i < 0 {
			return name
		}
		mod, leaf := name[:i], name[i:]
		for _, p := range bnMindToTorch {
			if leaf == p[1] && (bn[mod] || leaf == ".running_mean" || leaf == ".running_var") {
				return mod + p[0]
			}
		}
		return name
	}
}

// StripPrefix returns a name mapper that removes prefix where present, e.g.
// "module." from a model saved through torch.nn.DataParallel.
func StripPrefix(prefix string) func(string) string {
	return func(name string) string { return strings.TrimPrefix(name, prefix) }
}

// Names returns the names of ts in order.
func Names(ts []Named) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

// DetectFlavor tells MindCV names (BatchNorm gamma, beta, moving_mean,
// moving_variance) from torchvision ones. A set without batch norm is the same in
// both flavours except for conv biases, and is reported as Torchvision.
func DetectFlavor(names []string) Flavor {
	for _, n := range names {
		for _, p := range bnMindToTorch {
			if strings.HasSuffix(n, p[0]) {
				return MindCV
			}
		}
	}
	return Torchvision
}
