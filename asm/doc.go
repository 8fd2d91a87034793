// Package asm holds every SIMD kernel of govgg, each with a pure-Go twin, the CPU
// dispatch that picks among them once at start-up, the blocked and packed
// multi-threaded SGEMM driver built on the micro-kernels, and the worker pool.
//
// Dispatch order is AVX-512 (F, BW, VL, DQ) ▸ AVX2 + FMA ▸ generic. Impl names the
// active path. The environment variable GOVGG_ISA (avx512, avx2 or generic) forces a
// lower path at start-up, and SetImpl switches paths in-process, which the tests use
// to check every path on one machine.
//
// Build tags: the assembly is built for amd64 && gc && !noasm && !purego; any other
// build uses the pure-Go twins only.
package asm
