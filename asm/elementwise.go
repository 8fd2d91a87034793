package asm

// The elementwise kernel families (relu, bias, bn, pool) share this layout:
//
//   - <family>.go: the exported entry points, which split long slices into bounded
//     chunks (an asm call cannot be preempted) and call the active kernel through a
//     function variable that starts at the pure-Go twin;
//   - <family>_generic.go: the pure-Go twins. They are built on every platform,
//     because they are the generic ISA path that SetImpl(Generic) selects and the
//     oracle the tests compare the assembly against;
//   - <family>_amd64.go / .s: the AVX-512 and AVX2 kernels and the registerKernels
//     hook that points the function variables at them.

// ewChunk is the most elements one elementwise asm call handles: 64 Ki floats,
// a few microseconds of work, so the Go scheduler is never held off for long.
const ewChunk = 1 << 16
