//go:build ascend

package npu

/*
#include "cann_decls.h"
*/
import "C"

import (
	"fmt"

	"unsafe"

	"github.com/govgg/govgg/layers"
)

// ---- batch norm ----

func bnCheck(n, c, hw int, lens ...int) error {
	if n <= 0 || c <= 0 || hw <= 0 {
		return fmt.Errorf("npu: batch norm sizes n=%d c=%d hw=%d must be positive", n, c, hw)
	}
	for i, l := range lens {
		want := n * c * hw
		if i >= 2 {
			want = c
		}
		if l < want {
			return fmt.Errorf("npu: batch norm n=%d c=%d hw=%d: argument %d has %d elements, want %d", n, c, hw, i, l, want)
		}
	}
	return nil
}

// nchw is the 4-D view N×C×HW×1 of a batch-norm operand.
func nchw(dev devPtr, n, c, hw int) tdesc {
	return contiguous(dev, int64(n*c*hw), f32, fmtNCHW, int64(n), int64(c), int64(hw), 1)
}

// BatchNormTrain runs aclnnBatchNorm in training mode without running statistics
// (the layer updates those on the host). The variance is recovered from invStd.
func (b *Backend) BatchNormTrain(y, mean, invStd, variance, x, gamma, beta []float32, n, c, hw int, eps float32) error {
	if err := bnCheck(n, c, hw, len(y), len(x), len(mean), len(invStd), len(variance), len(gamma), len(beta)); err != nil {
		return err
	}
	m := n * c * hw
	y, x, mean, invStd, variance, gamma, beta = y[:m], x[:m], mean[:c], invStd[:c], variance[:c], gamma[:c], beta[:c]
	onCPU := false
	yk := keyOf(y)
	mk := keyOf(mean)
	ik := keyOf(invStd)
	err := b.do("BatchNormTrain", func(cl *call) error {
		xd, err := b.ins(cl, x, gamma, beta)
		if err != nil {
			return err
		}
		yd, err := cl.out(yk, false)
		if err != nil {
			return err
		}
		md, err := cl.out(mk, false)
		if err != nil {
			return err
		}
		id, err := cl.out(ik, false)
		if err != nil {
			return err
		}
		xt, gt, bt, yt, mt, it := nchw(xd[0], n, c, hw), flat(xd[1], c), flat(xd[2], c), nchw(yd, n, c, hw), flat(md, c), flat(id, c)
		k := b.newKey("BatchNorm").t(xt, gt, bt, yt, mt, it).f(eps)
		return cl.launch("aclnnBatchNorm", k, func(bd *builder) error {
			var ws C.uint64_t
			st := C.aclnnBatchNormGetWorkspaceSize(bd.tensor(xt), bd.tensor(gt), bd.tensor(bt), nil, nil, true, 0.1,
				C.double(eps), bd.tensor(yt), bd.tensor(mt), bd.tensor(it), &ws, &bd.e.ex)
			return bd.done("aclnnBatchNorm", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnBatchNorm(w, n, e, s)
			})
		})
	}, func() error {
		onCPU = true
		return cpu.(layers.BatchNormBackend).BatchNormTrain(y, mean, invStd, variance, x, gamma, beta, n, c, hw, eps)
	}, yk, mk, ik)
	if err != nil || onCPU {
		return err
	}
	// The variance is derived on the host, which needs invStd; the layer's
	// running update reads mean next, so both come back now.
	if err := b.ToHost(invStd); err != nil {
		return err
	}
	if err := b.ToHost(mean); err != nil {
		return err
	}
	for i, is := range invStd {
		variance[i] = float32(max(1/(float64(is)*float64(is))-float64(eps), 0))
	}
	b.HostWrote(variance)
	return nil
}

// ins returns the device copies of up to five inputs.
func (b *Backend) ins(cl *call, ss ...[]float32) (out [5]devPtr, err error) {
	for i, s := range ss {
		k := keyOf(s)
		if out[i], err = cl.in(k, false); err != nil {
			return out, err
		}
	}
	return out, nil
}

// ChannelAffine computes (x − mean[c])·scale[c] + shift[c] as aclnnMul by scale and
// aclnnInplaceAdd of shift − mean·scale (folded on the host in float64), with the
// per-channel operands broadcast as 1×C×1×1.
func (b *Backend) ChannelAffine(y, x, mean, scale, shift []float32, n, c, hw int) error {
	if err := bnCheck(n, c, hw, len(y), len(x), len(mean), len(scale), len(shift)); err != nil {
		return err
	}
	y, x, mean, scale, shift = y[:n*c*hw], x[:n*c*hw], mean[:c], scale[:c], shift[:c]
	yk := keyOf(y)
	return b.do("ChannelAffine", func(cl *call) error {
		xd, err := b.ins(cl, x)
		if err != nil {
			return err
		}
		// shift − mean·scale is folded on the host.
		for _, s := range [3][]float32{mean, scale, shift} {
			if err := b.flush(keyOf(s)); err != nil {
				return err
			}
		}
		sk := keyOf(scale)
		sd, err := cl.in(sk, false)
		if err != nil {
			return err
		}
		if cap(b.scratch) < c {
			b.scratch = make([]float32, c)
		}
		sh := b.scratch[:c]
		for i := range sh {
			sh[i] = float32(float64(shift[i]) - float64(mean[i])*float64(scale[i]))
		}
		hk := keyOf(sh)
		hd, err := cl.in(hk, true)
		if err != nil {
			return err
		}
		yd, err := cl.out(yk, false)
		if err != nil {
			return err
		}
		xt, yt := nchw(xd[0], n, c, hw), nchw(yd, n, c, hw)
		st, ht := contiguous(sd, int64(c), f32, fmtNCHW, 1, int64(c), 1, 1), contiguous(hd, int64(c), f32, fmtNCHW, 1, int64(c), 1, 1)
		if err := b.mul(cl, xt, st, yt); err != nil {
			return err
		}
		return b.inplaceAdd(cl, yt, ht)
	}, func() error { return cpu.(layers.BatchNormBackend).ChannelAffine(y, x, mean, scale, shift, n, c, hw) }, yk)
}

// inplaceAdd launches y += o (o broadcast to y's shape).
func (b *Backend) inplaceAdd(cl *call, yt, ot tdesc) error {
	return cl.launch("aclnnInplaceAdd", b.newKey("InplaceAdd").t(yt, ot), func(bd *builder) error {
		var ws C.uint64_t
		s := C.aclnnInplaceAddGetWorkspaceSize(bd.tensor(yt), bd.tensor(ot), bd.scalar(1), &ws, &bd.e.ex)
		return bd.done("aclnnInplaceAdd", s, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
			return C.aclnnInplaceAdd(w, n, e, s)
		})
	})
}

func (b *Backend) mul(cl *call, xt, ot, yt tdesc) error {
	return cl.launch("aclnnMul", b.newKey("Mul").t(xt, ot, yt), func(bd *builder) error {
		var ws C.uint64_t
		s := C.aclnnMulGetWorkspaceSize(bd.tensor(xt), bd.tensor(ot), bd.tensor(yt), &ws, &bd.e.ex)
		return bd.done("aclnnMul", s, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
			return C.aclnnMul(w, n, e, s)
		})
	})
}

// BatchNormBackward runs aclnnBatchNormBackward. With batchStats it uses the saved
// batch statistics (training = true); otherwise it passes mean as the running mean
// and 1/invStd² as the running variance with eps 0, which is the evaluation
// transform the layer used.
func (b *Backend) BatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, mean, invStd []float32, n, c, hw int, batchStats bool) error {
	if err := bnCheck(n, c, hw, len(dy), len(x), len(gamma), len(mean), len(invStd), len(dgamma), len(dbeta)); err != nil {
		return err
	}
	m := n * c * hw
	if dx != nil {
		if len(dx) < m {
			return fmt.Errorf("npu: batch norm backward: dx has %d elements, want %d", len(dx), m)
		}
		dx = dx[:m]
	}
	dy, x, gamma, mean, invStd, dgamma, dbeta = dy[:m], x[:m], gamma[:c], mean[:c], invStd[:c], dgamma[:c], dbeta[:c]
	gk := keyOf(dgamma)
	bk := keyOf(dbeta)
	outs, nout := [3]regionKey{gk, bk}, 2
	var dxk regionKey
	if dx != nil {
		dxk = keyOf(dx)
		outs[2], nout = dxk, 3
	}
	return b.do("BatchNormBackward", func(cl *call) error {
		d, err := b.ins(cl, dy, x, gamma, mean, invStd)
		if err != nil {
			return err
		}
		var rv devPtr
		if !batchStats {
			if err := b.flush(keyOf(invStd)); err != nil { // read below
				return err
			}
			if cap(b.scratch) < c {
				b.scratch = make([]float32, c)
			}
			v := b.scratch[:c]
			for i, is := range invStd {
				v[i] = float32(1 / (float64(is) * float64(is)))
			}
			vk := keyOf(v)
			if rv, err = cl.in(vk, true); err != nil {
				return err
			}
		}
		gd, err := cl.out(gk, false)
		if err != nil {
			return err
		}
		bd0, err := cl.out(bk, false)
		if err != nil {
			return err
		}
		dyt, xt, gt, mt, it := nchw(d[0], n, c, hw), nchw(d[1], n, c, hw), flat(d[2], c), flat(d[3], c), flat(d[4], c)
		dgt, dbt := flat(gd, c), flat(bd0, c)
		var dxt *tdesc
		if dx != nil {
			dd, err := cl.out(dxk, false)
			if err != nil {
				return err
			}
			t := nchw(dd, n, c, hw)
			dxt = &t
		}
		k := b.newKey("BatchNormBackward").t(dyt, xt, gt, mt, it, dgt, dbt)
		if dxt != nil {
			k = k.t(*dxt)
		}
		var rvt tdesc
		eps := 1e-5 // unused with batch statistics (saveInvstd is given)
		if !batchStats {
			rvt, eps = flat(rv, c), 0
			k = k.t(rvt)
		}
		return cl.launch("aclnnBatchNormBackward", k, func(bd *builder) error {
			var rm, rvar, gi *C.aclTensor
			if !batchStats {
				rm, rvar = bd.tensor(mt), bd.tensor(rvt)
			}
			if dxt != nil {
				gi = bd.tensor(*dxt)
			}
			var ws C.uint64_t
			s := C.aclnnBatchNormBackwardGetWorkspaceSize(bd.tensor(dyt), bd.tensor(xt), bd.tensor(gt), rm, rvar,
				bd.tensor(mt), bd.tensor(it), C.bool(batchStats), C.double(eps), bd.bools(dx != nil, true, true),
				gi, bd.tensor(dgt), bd.tensor(dbt), &ws, &bd.e.ex)
			return bd.done("aclnnBatchNormBackward", s, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnBatchNormBackward(w, n, e, s)
			})
		})
	}, func() error {
		return cpu.(layers.BatchNormBackend).BatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, mean, invStd, n, c, hw, batchStats)
	}, outs[:nout]...)
}

// ---- softmax and cross-entropy ----

func smCheck(outer, c, inner int, lens ...int) error {
	if outer <= 0 || c <= 0 || inner <= 0 {
		return fmt.Errorf("npu: softmax sizes %d×%d×%d must be positive", outer, c, inner)
	}
	for _, l := range lens {
		if l < outer*c*inner {
			return fmt.Errorf("npu: softmax %d×%d×%d: operand has %d elements", outer, c, inner, l)
		}
	}
	return nil
}

func (b *Backend) Softmax(y, x []float32, outer, c, inner int) error {
	if err := smCheck(outer, c, inner, len(y), len(x)); err != nil {
		return err
	}
	m := outer * c * inner
	y, x = y[:m], x[:m]
	yk := keyOf(y)
	return b.do("Softmax", func(cl *call) error {
		d, err := b.ins(cl, x)
		if err != nil {
			return err
		}
		yd, err := cl.out(yk, false)
		if err != nil {
			return err
		}
		o, ch, in := int64(outer), int64(c), int64(inner)
		xt, yt := contiguous(d[0], int64(len(x)), f32, fmtND, o, ch, in), contiguous(yd, int64(len(y)), f32, fmtND, o, ch, in)
		return cl.launch("aclnnSoftmax", b.newKey("Softmax").t(xt, yt), func(bd *builder) error {
			var ws C.uint64_t
			s := C.aclnnSoftmaxGetWorkspaceSize(bd.tensor(xt), 1, bd.tensor(yt), &ws, &bd.e.ex)
			return bd.done("aclnnSoftmax", s, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnSoftmax(w, n, e, s)
			})
		})
	}, func() error { return cpu.(layers.SoftmaxBackend).Softmax(y, x, outer, c, inner) }, yk)
}

func (b *Backend) SoftmaxBackward(dx, dy, y []float32, outer, c, inner int) error {
	if err := smCheck(outer, c, inner, len(dx), len(dy), len(y)); err != nil {
		return err
	}
	m := outer * c * inner
	dx, dy, y = dx[:m], dy[:m], y[:m]
	dxk := keyOf(dx)
	return b.do("SoftmaxBackward", func(cl *call) error {
		d, err := b.ins(cl, dy, y)
		if err != nil {
			return err
		}
		dxd, err := cl.out(dxk, false)
		if err != nil {
			return err
		}
		o, ch, in, n := int64(outer), int64(c), int64(inner), int64(len(y))
		dyt, yt, dxt := contiguous(d[0], n, f32, fmtND, o, ch, in), contiguous(d[1], n, f32, fmtND, o, ch, in), contiguous(dxd, n, f32, fmtND, o, ch, in)
		return cl.launch("aclnnSoftmaxBackward", b.newKey("SoftmaxBackward").t(dyt, yt, dxt), func(bd *builder) error {
			var ws C.uint64_t
			s := C.aclnnSoftmaxBackwardGetWorkspaceSize(bd.tensor(dyt), bd.tensor(yt), 1, bd.tensor(dxt), &ws, &bd.e.ex)
			return bd.done("aclnnSoftmaxBackward", s, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnSoftmaxBackward(w, n, e, s)
			})
		})
	}, func() error { return cpu.(layers.SoftmaxBackend).SoftmaxBackward(dx, dy, y, outer, c, inner) }, dxk)
}

// ceSoftOnHost is why SoftmaxCrossEntropy with probability targets runs on the
// CPU.
const ceSoftOnHost = "aclnnCrossEntropyLoss takes class indices only, not probability targets (mixup, cutmix)"

// ceScratch holds the device-side buffers of softmax cross-entropy, keyed by
// host slices that are never read but for the loss.
type ceScratch struct {
	rows, classes int
	logProb       []float32 // rows×classes
	lse           []float32 // rows (zloss output, unused but required)
	loss, zloss   []float32 // 1 each
	one           []float32 // {1}: dL/dloss for the gradient
}

// SoftmaxCrossEntropy runs aclnnCrossEntropyLoss (mean reduction, label
// smoothing, int64 class indices; the log-probabilities stay on the device) and
// aclnnCrossEntropyLossGrad for dL/dlogits, which stays on the device too; only
// the labels go up and the loss (4 bytes) comes down. Probability targets run on
// the CPU.
func (b *Backend) SoftmaxCrossEntropy(grad, logits []float32, labels []int, soft []float32, rows, classes int, smoothing float32) (float64, error) {
	cpuCall := func() (float64, error) {
		return cpu.(layers.SoftmaxBackend).SoftmaxCrossEntropy(grad, logits, labels, soft, rows, classes, smoothing)
	}
	onHost := func(reason string) (float64, error) {
		if err := b.enter(); err != nil {
			return 0, err
		}
		defer b.leave()
		if reason != "" {
			b.notice("SoftmaxCrossEntropy", reason)
		}
		if err := b.flush(keyOf(logits)); err != nil {
			return 0, err
		}
		if err := b.flush(keyOf(soft)); err != nil {
			return 0, err
		}
		loss, err := cpuCall()
		if err == nil {
			b.announce(keyOf(grad)) // the loss's own buffer
		}
		return loss, err
	}
	if soft != nil {
		return onHost(ceSoftOnHost)
	}
	if rows <= 0 || classes <= 0 || len(labels) != rows || len(logits) < rows*classes || len(grad) < rows*classes {
		return cpuCall() // the CPU reports the bad size
	}
	for _, l := range labels {
		if l < 0 || l >= classes {
			return onHost("") // the CPU reports the bad label
		}
	}
	logits, grad = logits[:rows*classes], grad[:rows*classes]
	if err := b.enter(); err != nil {
		return 0, err
	}
	defer b.leave()
	ce := b.ceBuffers(rows, classes)
	err := b.doLocked("SoftmaxCrossEntropy", func(cl *call) error {
		ld, err := cl.in(keyOf(logits), false)
		if err != nil {
			return err
		}
		td, err := cl.in(keyOfInts(labels), false)
		if err != nil {
			return err
		}
		od, err := cl.in(keyOf(ce.one), false)
		if err != nil {
			return err
		}
		var dev [5]devPtr
		for i, s := range [...][]float32{ce.loss, ce.logProb, ce.zloss, ce.lse, grad} {
			if dev[i], err = cl.out(keyOf(s), false); err != nil {
				return err
			}
		}
		r, c := int64(rows), int64(classes)
		lt := contiguous(ld, r*c, f32, fmtND, r, c)
		tt := contiguous(td, r, intType, fmtND, r)
		ot := contiguous(od, 1, f32, fmtND, 1)
		lossT, lpT := contiguous(dev[0], 1, f32, fmtND, 1), contiguous(dev[1], r*c, f32, fmtND, r, c)
		zT, lseT := contiguous(dev[2], 1, f32, fmtND, 1), contiguous(dev[3], r, f32, fmtND, r)
		gT := contiguous(dev[4], r*c, f32, fmtND, r, c)
		err = cl.launch("aclnnCrossEntropyLoss", b.newKey("CrossEntropyLoss").t(lt, tt, lossT, lpT, zT, lseT).f(smoothing), func(bd *builder) error {
			var ws C.uint64_t
			st := C.aclnnCrossEntropyLossGetWorkspaceSize(bd.tensor(lt), bd.tensor(tt), nil, bd.cstring("mean"), -100,
				C.double(smoothing), 0, false, bd.tensor(lossT), bd.tensor(lpT), bd.tensor(zT), bd.tensor(lseT), &ws, &bd.e.ex)
			return bd.done("aclnnCrossEntropyLoss", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnCrossEntropyLoss(w, n, e, s)
			})
		})
		if err != nil {
			return err
		}
		return cl.launch("aclnnCrossEntropyLossGrad", b.newKey("CrossEntropyLossGrad").t(ot, lpT, tt, gT).f(smoothing), func(bd *builder) error {
			var ws C.uint64_t
			st := C.aclnnCrossEntropyLossGradGetWorkspaceSize(bd.tensor(ot), bd.tensor(lpT), bd.tensor(tt), nil, nil, nil,
				bd.cstring("mean"), -100, C.double(smoothing), 0, bd.tensor(gT), &ws, &bd.e.ex)
			return bd.done("aclnnCrossEntropyLossGrad", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnCrossEntropyLossGrad(w, n, e, s)
			})
		})
	}, func() error {
		l, err := cpuCall()
		ce.loss[0] = float32(l)
		return err
	}, keyOf(grad), keyOf(ce.loss))
	if err != nil {
		return 0, err
	}
	if err := b.flush(keyOf(ce.loss)); err != nil {
		return 0, err
	}
	return float64(ce.loss[0]), nil
}

// ceBuffers returns the cross-entropy scratch for rows×classes, dropping the
// device copies of scratch of another shape.
func (b *Backend) ceBuffers(rows, classes int) *ceScratch {
	ce := &b.ce
	if ce.rows == rows && ce.classes == classes {
		return ce
	}
	if ce.one != nil {
		for _, s := range [...][]float32{ce.logProb, ce.lse, ce.loss, ce.zloss, ce.one} {
			b.drop(keyOf(s))
		}
	}
	*ce = ceScratch{rows: rows, classes: classes, logProb: make([]float32, rows*classes), lse: make([]float32, rows),
		loss: make([]float32, 1), zloss: make([]float32, 1), one: []float32{1}}
	b.announce(keyOf(ce.one))
	return ce
}

// ---- dropout ----

// Dropout draws the mask on the host with the CPU backend's counter-based hash, so
// masks are identical on both backends, and multiplies on the NPU (aclnnMul).
func (b *Backend) Dropout(y, mask, x []float32, p float32, seed, step uint64) error {
	if len(y) < len(x) || len(mask) < len(x) {
		return fmt.Errorf("npu: Dropout: y has %d and mask %d elements, x %d", len(y), len(mask), len(x))
	}
	y, mask = y[:len(x)], mask[:len(x)]
	if len(x) == 0 {
		return nil
	}
	yk := keyOf(y)
	mk := keyOf(mask)
	cpuCall := func() error { return cpu.(layers.DropoutBackend).Dropout(y, mask, x, p, seed, step) }
	if !(p > 0 && p < 1) {
		// Identity or all-zero: nothing worth a launch.
		if err := b.enter(); err != nil {
			return err
		}
		defer b.leave()
		if err := b.flush(keyOf(x)); err != nil {
			return err
		}
		if err := cpuCall(); err != nil {
			return err
		}
		b.hostWrote(yk)
		b.hostWrote(mk)
		return nil
	}
	dropoutMask(mask, p, seed, step)
	return b.do("Dropout", func(cl *call) error {
		b.announce(mk) // drawn on the host just now; DropoutBackward reads it again
		d, err := b.ins(cl, x, mask)
		if err != nil {
			return err
		}
		yd, err := cl.out(yk, false)
		if err != nil {
			return err
		}
		return b.mul(cl, flat(d[0], len(x)), flat(d[1], len(x)), flat(yd, len(x)))
	}, cpuCall, yk, mk)
}

// DropoutBackward sets dx = dy·mask with aclnnMul.
func (b *Backend) DropoutBackward(dx, dy, mask []float32) error {
	if len(dx) < len(mask) || len(dy) < len(mask) {
		return fmt.Errorf("npu: DropoutBackward: dx has %d and dy %d elements, mask %d", len(dx), len(dy), len(mask))
	}
	dx, dy = dx[:len(mask)], dy[:len(mask)]
	if len(mask) == 0 {
		return nil
	}
	dxk := keyOf(dx)
	return b.do("DropoutBackward", func(cl *call) error {
		d, err := b.ins(cl, dy, mask)
		if err != nil {
			return err
		}
		dxd, err := cl.out(dxk, false)
		if err != nil {
			return err
		}
		n := len(mask)
		return b.mul(cl, flat(d[0], n), flat(d[1], n), flat(dxd, n))
	}, func() error { return cpu.(layers.DropoutBackend).DropoutBackward(dx, dy, mask) }, dxk)
}

// dropoutMask writes the CPU backend's mask: element i is kept (1/(1−p)) when the
// top 24 bits of its share of SplitMix64(key + pair index) reach p·2²⁴.
func dropoutMask(mask []float32, p float32, seed, step uint64) {
	thr := uint32(float64(p) * (1 << 24))
	scale := 1 / (1 - p)
	key := mix64(seed ^ mix64(step+0x9e3779b97f4a7c15))
	for i := 0; i < len(mask); i += 2 {
		h := mix64(key + uint64(i))
		for k := 0; k < 2 && i+k < len(mask); k++ {
			m := float32(0)
			if uint32(h>>(32*k))>>8 >= thr {
				m = scale
			}
			mask[i+k] = m
		}
	}
}

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
