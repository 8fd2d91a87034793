package layers

import (
	"fmt"
	"math"
	"strings"

	"github.com/govgg/govgg/asm"
)

// cpuBackend computes with the asm kernels (AVX-512, AVX2 or pure Go, whichever
// asm dispatched), the conv plans and the SGEMM driver.
type cpuBackend struct{}

func (cpuBackend) Name() string { return "cpu" }

// Sgemm is asm.Sgemm, which also takes the streamed dot-product path of a Linear
// layer at small batch.
func (cpuBackend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
	return asm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// ToHost does nothing: the CPU computes on the host buffers themselves.
func (cpuBackend) ToHost([]float32) error { return nil }

// HostWrote does nothing.
func (cpuBackend) HostWrote([]float32) {}

// LinearForward fills y with the bias and accumulates x·wᵀ with the SGEMM.
func (c cpuBackend) LinearForward(y, x, w, bias []float32, rows, in, out int) error {
	return gemmLinearForward(c, nil, y, x, w, bias, rows, in, out)
}

// LinearBackward runs two SGEMMs and sums db over the rows.
func (c cpuBackend) LinearBackward(dw, db, dx, dy, x, w []float32, rows, in, out int) error {
	return gemmLinearBackward(c, nil, dw, db, dx, dy, x, w, rows, in, out)
}

func (cpuBackend) ReLU(y, x []float32) error {
	if err := short("ReLU", len(x), "y", len(y)); err != nil {
		return err
	}
	j := getJob(func(j *job, lo, hi int) { asm.ReLU(j.y[lo:hi], j.x[lo:hi]) })
	j.y, j.x = y[:len(x)], x
	j.do(len(x), elemGrain)
	return nil
}

func (cpuBackend) ReLUBackward(dx, dy, y []float32) error {
	if err := short("ReLUBackward", len(y), "dx,dy", len(dx), len(dy)); err != nil {
		return err
	}
	j := getJob(func(j *job, lo, hi int) { asm.ReLUBackward(j.x[lo:hi], j.y[lo:hi], j.z[lo:hi]) })
	j.x, j.y, j.z = dx[:len(y)], dy[:len(y)], y
	j.do(len(y), elemGrain)
	return nil
}

func (cpuBackend) MaxPool2d(y []float32, idx []int32, x []float32, s PoolShape) error {
	if err := s.check("MaxPool2d", len(x), len(y), len(idx)); err != nil {
		return err
	}
	j := getJob(maxPoolPlanes)
	j.y, j.idx, j.x, j.p = y, idx, x, s
	j.do(s.N*s.C, planeGrain(s.H*s.W))
	return nil
}

// maxPoolPlanes pools planes lo … hi−1.
func maxPoolPlanes(j *job, lo, hi int) {
	y, idx, x, s := j.y, j.idx, j.x, j.p
	oh, ow := s.OutH(), s.OutW()
	in, out := s.H*s.W, oh*ow
	for p := lo; p < hi; p++ {
		yp, ip, xp := y[p*out:(p+1)*out], idx[p*out:(p+1)*out], x[p*in:(p+1)*in]
		if s.Kernel == 2 && s.Stride == 2 {
			asm.MaxPool2x2(yp, ip, xp, s.H, s.W)
			continue
		}
		maxPoolPlane(yp, ip, xp, s, oh, ow)
	}
}

// maxPoolPlane is the general max pooling of one plane, in PyTorch's scan order:
// a later element wins when greater or NaN.
func maxPoolPlane(y []float32, idx []int32, x []float32, s PoolShape, oh, ow int) {
	for i := 0; i < oh; i++ {
		for j := 0; j < ow; j++ {
			i0, j0 := i*s.Stride, j*s.Stride
			k := i0*s.W + j0
			m := x[k]
			for r := i0; r < i0+s.Kernel; r++ {
				for c := j0; c < j0+s.Kernel; c++ {
					if v := x[r*s.W+c]; v > m || v != v {
						m, k = v, r*s.W+c
					}
				}
			}
			y[i*ow+j], idx[i*ow+j] = m, int32(k)
		}
	}
}

func (cpuBackend) MaxPool2dBackward(dx []float32, idx []int32, dy []float32, s PoolShape) error {
	if err := s.check("MaxPool2dBackward", len(dx), len(dy), len(idx)); err != nil {
		return err
	}
	// The 2×2/2 kernels only compare indices; the general path scatters through them.
	for _, k := range idx[:s.N*s.C*s.OutH()*s.OutW()] {
		if s.Kernel == 2 && s.Stride == 2 {
			break
		}
		if k < 0 || int(k) >= s.H*s.W {
			return fmt.Errorf("layers: cpu MaxPool2dBackward: index %d outside a %d×%d plane", k, s.H, s.W)
		}
	}
	j := getJob(maxPoolBackPlanes)
	j.x, j.idx, j.y, j.p = dx, idx, dy, s
	j.do(s.N*s.C, planeGrain(s.H*s.W))
	return nil
}

// maxPoolBackPlanes writes the input gradient of planes lo … hi−1.
func maxPoolBackPlanes(j *job, lo, hi int) {
	dx, idx, dy, s := j.x, j.idx, j.y, j.p
	oh, ow := s.OutH(), s.OutW()
	in, out := s.H*s.W, oh*ow
	for p := lo; p < hi; p++ {
		dxp, ip, dyp := dx[p*in:(p+1)*in], idx[p*out:(p+1)*out], dy[p*out:(p+1)*out]
		if s.Kernel == 2 && s.Stride == 2 {
			asm.MaxPool2x2Backward(dxp, ip, dyp, s.H, s.W)
			continue
		}
		clear(dxp)
		for o, k := range ip {
			dxp[k] += dyp[o]
		}
	}
}

func (cpuBackend) BatchNormTrain(y, mean, invStd, variance, x, gamma, beta []float32, n, c, hw int, eps float32) error {
	if err := short("BatchNormTrain", n*c*hw, "x,y", len(x), len(y)); err != nil {
		return err
	}
	if err := short("BatchNormTrain", c, "mean,invStd,variance,gamma,beta", len(mean), len(invStd), len(variance), len(gamma), len(beta)); err != nil {
		return err
	}
	j := getJob(bnTrainChannels)
	j.y, j.v1, j.v2, j.v3, j.x, j.z, j.w = y, mean, invStd, variance, x, gamma, beta
	j.n, j.c, j.hw, j.a = n, c, hw, eps
	j.do(c, planeGrain(n*hw))
	return nil
}

// bnTrainChannels normalizes channels lo … hi−1 with their batch statistics.
func bnTrainChannels(j *job, lo, hi int) {
	y, mean, invStd, variance, x, gamma, beta := j.y, j.v1, j.v2, j.v3, j.x, j.z, j.w
	n, c, hw, eps := j.n, j.c, j.hw, j.a
	cnt := float64(n * hw)
	for ch := lo; ch < hi; ch++ {
		var s, q float64
		for i := 0; i < n; i++ {
			off := (i*c + ch) * hw
			a, b := asm.SumSq(x[off : off+hw])
			s += a
			q += b
		}
		mu := s / cnt
		v := max(q/cnt-mu*mu, 0)
		is := 1 / math.Sqrt(v+float64(eps))
		mean[ch], invStd[ch], variance[ch] = float32(mu), float32(is), float32(v)
		a := float32(float64(gamma[ch]) * is)
		for i := 0; i < n; i++ {
			off := (i*c + ch) * hw
			asm.ScaleShift(y[off:off+hw], x[off:off+hw], mean[ch], a, beta[ch])
		}
	}
}

func (cpuBackend) ChannelAffine(y, x, mean, scale, shift []float32, n, c, hw int) error {
	if err := short("ChannelAffine", n*c*hw, "x,y", len(x), len(y)); err != nil {
		return err
	}
	if err := short("ChannelAffine", c, "mean,scale,shift", len(mean), len(scale), len(shift)); err != nil {
		return err
	}
	j := getJob(func(j *job, lo, hi int) {
		for p := lo; p < hi; p++ {
			ch, off := p%j.c, p*j.hw
			asm.ScaleShift(j.y[off:off+j.hw], j.x[off:off+j.hw], j.v1[ch], j.z[ch], j.w[ch])
		}
	})
	j.y, j.x, j.v1, j.z, j.w, j.c, j.hw = y, x, mean, scale, shift, c, hw
	j.do(n*c, planeGrain(hw))
	return nil
}

func (cpuBackend) BatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, mean, invStd []float32, n, c, hw int, batchStats bool) error {
	dxLen := n * c * hw
	if dx == nil {
		dxLen = len(x)
	}
	if err := short("BatchNormBackward", n*c*hw, "x,dy,dx", len(x), len(dy), dxLen); err != nil {
		return err
	}
	if err := short("BatchNormBackward", c, "dgamma,dbeta,gamma,mean,invStd", len(dgamma), len(dbeta), len(gamma), len(mean), len(invStd)); err != nil {
		return err
	}
	j := getJob(bnBackChannels)
	j.w, j.v1, j.v2, j.y, j.x, j.z, j.v3, j.v4 = dx, dgamma, dbeta, dy, x, gamma, mean, invStd
	j.n, j.c, j.hw, j.flag = n, c, hw, batchStats
	j.do(c, planeGrain(n*hw))
	return nil
}

// bnBackChannels computes the batch-norm gradients of channels lo … hi−1.
func bnBackChannels(j *job, lo, hi int) {
	dx, dgamma, dbeta, dy, x, gamma, mean, invStd := j.w, j.v1, j.v2, j.y, j.x, j.z, j.v3, j.v4
	n, c, hw, batchStats := j.n, j.c, j.hw, j.flag
	cnt := float64(n * hw)
	for ch := lo; ch < hi; ch++ {
		var sdy, sdyx float64
		for i := 0; i < n; i++ {
			off := (i*c + ch) * hw
			a, b := asm.SumDot(dy[off:off+hw], x[off:off+hw])
			sdy += a
			sdyx += b
		}
		mu, is, g := float64(mean[ch]), float64(invStd[ch]), float64(gamma[ch])
		// Σ dy·x̂ with x̂ = (x−μ)·invStd.
		sdyxh := (sdyx - mu*sdy) * is
		dgamma[ch], dbeta[ch] = float32(sdyxh), float32(sdy)
		if dx == nil {
			continue
		}
		// dx = a·dy + b·(x − μ) + c.
		a := g * is
		var b, cc float64
		if batchStats {
			b = -g * is * is * sdyxh / cnt
			cc = -a * sdy / cnt
		}
		for i := 0; i < n; i++ {
			off := (i*c + ch) * hw
			asm.AxpByC(dx[off:off+hw], dy[off:off+hw], x[off:off+hw], mean[ch], float32(a), float32(b), float32(cc))
		}
	}
}

func (cpuBackend) Softmax(y, x []float32, outer, c, inner int) error {
	if err := short("Softmax", outer*c*inner, "x,y", len(x), len(y)); err != nil {
		return err
	}
	for o := 0; o < outer; o++ {
		base := o * c * inner
		for in := 0; in < inner; in++ {
			m := float32(math.Inf(-1))
			for k := 0; k < c; k++ {
				m = max(m, x[base+k*inner+in])
			}
			var s float64
			for k := 0; k < c; k++ {
				e := math.Exp(float64(x[base+k*inner+in] - m))
				y[base+k*inner+in] = float32(e)
				s += e
			}
			r := 1 / s
			for k := 0; k < c; k++ {
				y[base+k*inner+in] = float32(float64(y[base+k*inner+in]) * r)
			}
		}
	}
	return nil
}

func (cpuBackend) SoftmaxBackward(dx, dy, y []float32, outer, c, inner int) error {
	if err := short("SoftmaxBackward", outer*c*inner, "dx,dy,y", len(dx), len(dy), len(y)); err != nil {
		return err
	}
	for o := 0; o < outer; o++ {
		base := o * c * inner
		for in := 0; in < inner; in++ {
			var s float64
			for k := 0; k < c; k++ {
				s += float64(dy[base+k*inner+in]) * float64(y[base+k*inner+in])
			}
			for k := 0; k < c; k++ {
				i := base + k*inner + in
				dx[i] = float32(float64(y[i]) * (float64(dy[i]) - s))
			}
		}
	}
	return nil
}

func (cpuBackend) SoftmaxCrossEntropy(grad, logits []float32, labels []int, soft []float32, rows, classes int, smoothing float32) (float64, error) {
	if err := short("SoftmaxCrossEntropy", rows*classes, "grad,logits", len(grad), len(logits)); err != nil {
		return 0, err
	}
	switch {
	case (labels == nil) == (soft == nil):
		return 0, fmt.Errorf("layers: cpu SoftmaxCrossEntropy: give exactly one of labels and soft targets")
	case labels != nil && len(labels) < rows:
		return 0, fmt.Errorf("layers: cpu SoftmaxCrossEntropy: %d labels for %d rows", len(labels), rows)
	case soft != nil && len(soft) < rows*classes:
		return 0, fmt.Errorf("layers: cpu SoftmaxCrossEntropy: soft targets have %d elements, need %d", len(soft), rows*classes)
	}
	eps := float64(smoothing)
	u := eps / float64(classes)
	var total float64
	for r := 0; r < rows; r++ {
		z := logits[r*classes : (r+1)*classes]
		g := grad[r*classes : (r+1)*classes]
		label := -1
		if labels != nil {
			label = labels[r]
			if label < 0 || label >= classes {
				return 0, fmt.Errorf("layers: cross-entropy: label %d of row %d is outside [0, %d)", label, r, classes)
			}
		}
		m := math.Inf(-1)
		for _, v := range z {
			m = max(m, float64(v))
		}
		var s float64
		for _, v := range z {
			s += math.Exp(float64(v) - m)
		}
		lse := m + math.Log(s) // log Σ exp z
		var loss float64
		for k, v := range z {
			var q float64
			if labels != nil {
				q = u
				if k == label {
					q += 1 - eps
				}
			} else {
				q = (1-eps)*float64(soft[r*classes+k]) + u
			}
			logp := float64(v) - lse
			if q != 0 {
				loss -= q * logp
			}
			g[k] = float32((math.Exp(logp) - q) / float64(rows))
		}
		total += loss
	}
	return total / float64(rows), nil
}

func (cpuBackend) Dropout(y, mask, x []float32, p float32, seed, step uint64) error {
	if err := short("Dropout", len(x), "y,mask", len(y), len(mask)); err != nil {
		return err
	}
	if p <= 0 {
		for i := range x {
			mask[i] = 1
		}
		copy(y, x)
		return nil
	}
	if p >= 1 { // x·0, as PyTorch: NaN and ±Inf give NaN
		clear(mask[:len(x)])
		for i, v := range x {
			y[i] = v * 0
		}
		return nil
	}
	j := getJob(dropoutPairs)
	j.y, j.v1, j.x, j.a, j.seed, j.step = y, mask, x, p, seed, step
	j.do((len(x)+1)/2, elemGrain/2)
	return nil
}

// dropoutPairs draws the mask of elements 2·lo … 2·hi−1. Element i is kept when its
// 24-bit uniform u/2²⁴ is ≥ p; the uniforms come from a counter-based hash of
// (seed, step, i), two per hash, so a mask depends on those three only, not on how
// the work was split.
func dropoutPairs(j *job, lo, hi int) {
	y, mask, x, p := j.y, j.v1, j.x, j.a
	thr := uint32(float64(p) * (1 << 24))
	scale := 1 / (1 - p)
	key := mix64(j.seed ^ mix64(j.step+0x9e3779b97f4a7c15))
	for i := 2 * lo; i < min(2*hi, len(x)); i += 2 {
		h := mix64(key + uint64(i))
		for k := 0; k < 2 && i+k < len(x); k++ {
			u := uint32(h>>(32*k)) >> 8
			m := float32(0)
			if u >= thr {
				m = scale
			}
			mask[i+k] = m
			y[i+k] = x[i+k] * m
		}
	}
}

// mix64 is the SplitMix64 finalizer, a bijective 64-bit hash.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (cpuBackend) DropoutBackward(dx, dy, mask []float32) error {
	if err := short("DropoutBackward", len(mask), "dx,dy", len(dx), len(dy)); err != nil {
		return err
	}
	dx = dx[:len(mask)]
	for i, m := range mask {
		dx[i] = dy[i] * m
	}
	return nil
}

// short reports the first of the lengths below need; names lists their names,
// comma-separated. (Plain int arguments: the check allocates nothing.)
func short(op string, need int, names string, lens ...int) error {
	for i, l := range lens {
		if l < need {
			return fmt.Errorf("layers: cpu %s: %s has %d elements, needs %d", op, strings.Split(names, ",")[i], l, need)
		}
	}
	return nil
}

// check reports a bad pooling shape or slices too short for it.
func (s PoolShape) check(op string, in, out, idx int) error {
	if s.N < 0 || s.C < 0 || s.Kernel <= 0 || s.Stride <= 0 || s.H < s.Kernel || s.W < s.Kernel {
		return fmt.Errorf("layers: cpu %s: bad pooling shape %+v", op, s)
	}
	if err := short(op, s.N*s.C*s.H*s.W, "input", in); err != nil {
		return err
	}
	o := s.N * s.C * s.OutH() * s.OutW()
	return short(op, o, "output,indices", out, idx)
}
