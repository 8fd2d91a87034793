// Package bench holds govgg's benchmarks of whole networks (kernel and layer
// benchmarks live beside their packages: asm, conv, layers). Run them with
//
//	go test -bench . -benchtime 5x ./bench/
//
// Each case reports ms/img and img/s; sub-benchmarks name the model, batch and threads
// (BenchmarkForward/vgg16/batch=1/threads=1). The machine is shared and noisy: compare
// runs side by side (benchstat) rather than against numbers from elsewhere.
package bench
