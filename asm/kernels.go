package asm

// kernelSetters point each kernel family's function variables at one ISA path.
var kernelSetters []func(ISA)

// registerKernels adds a kernel family's setter. Call it from a package-level
// variable declaration (var _ = registerKernels(...)): those run before any init
// function, so the dispatch in init sees every family.
func registerKernels(set func(ISA)) struct{} {
	kernelSetters = append(kernelSetters, set)
	return struct{}{}
}

// setKernels points every kernel family at the given path.
func setKernels(isa ISA) {
	for _, set := range kernelSetters {
		set(isa)
	}
}
