//go:build ascend

package npu

/*
#include "cann_decls.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"strconv"
	"unsafe"

	"github.com/govgg/govgg/conv"
	"github.com/govgg/govgg/layers"
)

var cpu = layers.CPU()

var (
	_ layers.ConvBackend       = (*Backend)(nil)
	_ layers.GemmBackend       = (*Backend)(nil)
	_ layers.LinearBackend     = (*Backend)(nil)
	_ layers.HostSync          = (*Backend)(nil)
	_ layers.ActivationBackend = (*Backend)(nil)
	_ layers.PoolBackend       = (*Backend)(nil)
	_ layers.BatchNormBackend  = (*Backend)(nil)
	_ layers.SoftmaxBackend    = (*Backend)(nil)
	_ layers.DropoutBackend    = (*Backend)(nil)
)

// key builds an executor-cache key: the operator, its tensors (shapes, strides,
// types, formats, device addresses) and its scalar arguments.
type key []byte

// newKey starts a key in the backend's buffer; keys are used one at a time.
func (b *Backend) newKey(op string) key {
	if b.keyBuf == nil {
		b.keyBuf = make(key, 0, 1024)
	}
	return append(b.keyBuf[:0], op...)
}

func (k key) t(ds ...tdesc) key {
	for _, d := range ds {
		k = d.appendKey(k)
	}
	return k
}

func (k key) i(vs ...int64) key {
	for _, v := range vs {
		k = append(k, ' ')
		k = strconv.AppendInt(k, v, 10)
	}
	return k
}

func (k key) f(vs ...float32) key {
	for _, v := range vs {
		k = append(k, ' ')
		k = strconv.AppendFloat(k, float64(v), 'g', -1, 32)
	}
	return k
}

// done finishes a phase-1 call: it records the workspace size and phase 2.
func (bd *builder) done(op string, st C.aclnnStatus, ws C.uint64_t, run phase2) error {
	bd.e.ws = uint64(ws)
	bd.e.run = run
	return phase1Err(op, st)
}

// flat is a 1-D float32 view of n elements.
func flat(dev devPtr, n int) tdesc { return contiguous(dev, int64(n), f32, fmtND, int64(n)) }

// ---- convolution ----

// convOp is a convolution of fixed geometry whose weights live on the device.
type convOp struct {
	b    *Backend
	g    conv.Geometry
	opts []conv.Option
	relu bool // conv.WithReLU was given: Forward applies a ReLU

	mem          *convMem
	hasW, hasB   bool
	wHost, bHost []float32 // host copies for the CPU fallback
	x            []float32 // the last Forward's input (aclnn's backward needs its shape)

	plan      *conv.Plan // the CPU fallback, made on first need
	planStale bool
}

// convMem holds a convOp's device weights; a cleanup hands them to the backend to
// free when the op is collected.
type convMem struct{ w, bias devPtr }

// NewConv returns a convolution of geometry g on the NPU. Of the conv options only
// conv.WithReLU matters here; the others steer the CPU fallback.
func (b *Backend) NewConv(g conv.Geometry, opts ...conv.Option) (layers.ConvOp, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	relu, err := fusedReLU(g, opts)
	if err != nil {
		return nil, err
	}
	op := &convOp{b: b, g: g, opts: opts, relu: relu, mem: &convMem{}}
	runtime.AddCleanup(op, func(m *convMem) {
		b.mu.Lock()
		if b.convs[m] {
			delete(b.convs, m)
			b.pending = append(b.pending, m.w, m.bias)
		}
		b.mu.Unlock()
	}, op.mem)
	return op, nil
}

// fusedReLU reports whether opts include conv.WithReLU(true). The conv package
// keeps its options private, so this asks a CPU plan of a one-pixel convolution of
// the same kernel: with zero weights and bias −1 it outputs 0 exactly when it
// applies a ReLU.
func fusedReLU(g conv.Geometry, opts []conv.Option) (bool, error) {
	t := conv.Geometry{C: 1, K: 1, R: g.R, S: g.S, H: g.DilH*(g.R-1) + 1, W: g.DilW*(g.S-1) + 1,
		StrideH: g.StrideH, StrideW: g.StrideW, DilH: g.DilH, DilW: g.DilW}
	p, err := conv.NewPlan(t, opts...)
	if err != nil {
		return false, err
	}
	if err := p.SetWeights(make([]float32, g.R*g.S), []float32{-1}); err != nil {
		return false, err
	}
	y := []float32{7}
	if err := p.Forward(y, make([]float32, t.H*t.W), 1); err != nil {
		return false, err
	}
	return y[0] == 0, nil
}

func (op *convOp) SetWeights(w, bias []float32) error {
	g := op.g
	if want := g.K * g.C * g.R * g.S; len(w) != want {
		return fmt.Errorf("npu: conv weights for %v have %d elements, want %d (K×C×R×S)", g, len(w), want)
	}
	if bias != nil && len(bias) != g.K {
		return fmt.Errorf("npu: conv bias for %v has %d elements, want %d", g, len(bias), g.K)
	}
	b := op.b
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	m := op.mem
	b.convs[m] = true
	var err error
	if m.w == 0 {
		if m.w, err = b.alloc(int64(len(w)) * 4); err != nil {
			return err
		}
	}
	if err := b.up(m.w, unsafe.Pointer(&w[0]), int64(len(w))*4); err != nil {
		return err
	}
	op.hasB = bias != nil
	if op.hasB {
		if m.bias == 0 {
			if m.bias, err = b.alloc(int64(g.K) * 4); err != nil {
				return err
			}
		}
		if err := b.up(m.bias, unsafe.Pointer(&bias[0]), int64(g.K)*4); err != nil {
			return err
		}
	}
	op.wHost = append(op.wHost[:0], w...)
	op.bHost = append(op.bHost[:0], bias...)
	op.hasW, op.planStale = true, true
	return nil
}

// cpuPlan returns the CPU plan with the current weights.
func (op *convOp) cpuPlan() (*conv.Plan, error) {
	if op.plan == nil {
		p, err := conv.NewPlan(op.g, op.opts...)
		if err != nil {
			return nil, err
		}
		op.plan, op.planStale = p, true
	}
	if op.planStale {
		var bias []float32
		if op.hasB {
			bias = op.bHost
		}
		if err := op.plan.SetWeights(op.wHost, bias); err != nil {
			return nil, err
		}
		op.planStale = false
	}
	return op.plan, nil
}

func (op *convOp) check(n int, xs, ys string, lx, ly int) error {
	g := op.g
	if !op.hasW {
		return fmt.Errorf("npu: conv %v has no weights: call SetWeights first", g)
	}
	switch {
	case n <= 0:
		return fmt.Errorf("npu: conv %v: batch size %d must be positive", g, n)
	case lx != n*g.C*g.H*g.W:
		return fmt.Errorf("npu: conv %v: %s has %d elements, want %d (batch %d)", g, xs, lx, n*g.C*g.H*g.W, n)
	case ly != n*g.K*g.OutH()*g.OutW():
		return fmt.Errorf("npu: conv %v: %s has %d elements, want %d (batch %d)", g, ys, ly, n*g.K*g.OutH()*g.OutW(), n)
	}
	return nil
}

// descs returns the NCHW descriptors of input, weight, bias and output.
func (op *convOp) descs(xd, yd devPtr, n int) (x, w, bias, y tdesc) {
	g := op.g
	i := func(v int) int64 { return int64(v) }
	x = contiguous(xd, i(n*g.C*g.H*g.W), f32, fmtNCHW, i(n), i(g.C), i(g.H), i(g.W))
	w = contiguous(op.mem.w, i(g.K*g.C*g.R*g.S), f32, fmtNCHW, i(g.K), i(g.C), i(g.R), i(g.S))
	bias = contiguous(op.mem.bias, i(g.K), f32, fmtND, i(g.K))
	y = contiguous(yd, i(n*g.K*g.OutH()*g.OutW()), f32, fmtNCHW, i(n), i(g.K), i(g.OutH()), i(g.OutW()))
	return
}

func (op *convOp) Forward(y, x []float32, n int) error {
	if err := op.check(n, "x", "y", len(x), len(y)); err != nil {
		return err
	}
	g, b := op.g, op.b
	xk := keyOf(x)
	yk := keyOf(y)
	err := b.do("Conv2d", func(c *call) error {
		xd, err := c.keepIn(xk)
		if err != nil {
			return err
		}
		yd, err := c.out(yk, false)
		if err != nil {
			return err
		}
		xt, wt, bt, yt := op.descs(xd, yd, n)
		cube := b.cfg.cubeMath
		k := b.newKey("Convolution").t(xt, wt).i(int64(g.StrideH), int64(g.StrideW), int64(g.PadH), int64(g.PadW),
			int64(g.DilH), int64(g.DilW), int64(cube))
		if op.hasB {
			k = k.t(bt)
		}
		err = c.launch("aclnnConvolution", k.t(yt), func(bd *builder) error {
			var bias *C.aclTensor
			if op.hasB {
				bias = bd.tensor(bt)
			}
			var ws C.uint64_t
			st := C.aclnnConvolutionGetWorkspaceSize(bd.tensor(xt), bd.tensor(wt), bias,
				bd.ints(int64(g.StrideH), int64(g.StrideW)), bd.ints(int64(g.PadH), int64(g.PadW)),
				bd.ints(int64(g.DilH), int64(g.DilW)), false, bd.ints(0, 0), 1, bd.tensor(yt),
				C.int8_t(cube), &ws, &bd.e.ex)
			return bd.done("aclnnConvolution", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnConvolution(w, n, e, s)
			})
		})
		if err != nil || !op.relu {
			return err
		}
		return c.launch("aclnnInplaceRelu", b.newKey("InplaceRelu").t(yt), func(bd *builder) error {
			var ws C.uint64_t
			st := C.aclnnInplaceReluGetWorkspaceSize(bd.tensor(yt), &ws, &bd.e.ex)
			return bd.done("aclnnInplaceRelu", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnInplaceRelu(w, n, e, s)
			})
		})
	}, func() error {
		p, err := op.cpuPlan()
		if err != nil {
			return err
		}
		return p.Forward(y, x, n)
	}, yk)
	if err == nil {
		op.x = x
	}
	return err
}

// backward runs aclnnConvolutionBackward for the outputs that are non-nil.
func (op *convOp) backward(c *call, x, dy, dx, dw, db []float32, n int) error {
	g, b := op.g, op.b
	xk := keyOf(x)
	xd, err := c.keptIn(xk)
	if err != nil {
		return err
	}
	dyk := keyOf(dy)
	dyd, err := c.in(dyk, false)
	if err != nil {
		return err
	}
	xt, wt, _, dyt := op.descs(xd, dyd, n)
	var dxt, dwt, dbt *tdesc
	outs := func(s []float32, mk func(devPtr) tdesc) (*tdesc, error) {
		if s == nil {
			return nil, nil
		}
		k := keyOf(s)
		d, err := c.out(k, false)
		if err != nil {
			return nil, err
		}
		t := mk(d)
		return &t, nil
	}
	if dxt, err = outs(dx, func(d devPtr) tdesc { t, _, _, _ := op.descs(d, 0, n); return t }); err != nil {
		return err
	}
	if dwt, err = outs(dw, func(d devPtr) tdesc { _, t, _, _ := (&convOp{g: g, mem: &convMem{w: d}}).descs(0, 0, n); return t }); err != nil {
		return err
	}
	if dbt, err = outs(db, func(d devPtr) tdesc { return flat(d, g.K) }); err != nil {
		return err
	}
	cube := b.cfg.cubeMath
	k := b.newKey("ConvolutionBackward").t(dyt, xt, wt).i(int64(g.StrideH), int64(g.StrideW), int64(g.PadH),
		int64(g.PadW), int64(g.DilH), int64(g.DilW), int64(cube))
	for _, t := range []*tdesc{dxt, dwt, dbt} {
		if t == nil {
			k = append(k, "-"...)
		} else {
			k = k.t(*t)
		}
	}
	return c.launch("aclnnConvolutionBackward", k, func(bd *builder) error {
		opt := func(t *tdesc) *C.aclTensor {
			if t == nil {
				return nil
			}
			return bd.tensor(*t)
		}
		var ws C.uint64_t
		st := C.aclnnConvolutionBackwardGetWorkspaceSize(bd.tensor(dyt), bd.tensor(xt), bd.tensor(wt),
			bd.ints(int64(g.K)), bd.ints(int64(g.StrideH), int64(g.StrideW)), bd.ints(int64(g.PadH), int64(g.PadW)),
			bd.ints(int64(g.DilH), int64(g.DilW)), false, bd.ints(0, 0), 1,
			bd.bools(dxt != nil, dwt != nil, dbt != nil), C.int8_t(cube),
			opt(dxt), opt(dwt), opt(dbt), &ws, &bd.e.ex)
		return bd.done("aclnnConvolutionBackward", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
			return C.aclnnConvolutionBackward(w, n, e, s)
		})
	})
}

func (op *convOp) BackwardData(dx, dy []float32, n int) error {
	if err := op.check(n, "dx", "dy", len(dx), len(dy)); err != nil {
		return err
	}
	// aclnn wants the forward input for its shape; the last Forward's input is
	// normally still mirrored. Without one, dx stands in (its values are not read).
	x := op.x
	if len(x) != len(dx) {
		x = dx
	}
	k := keyOf(dx)
	return op.b.do("Conv2d backward-data", func(c *call) error {
		return op.backward(c, x, dy, dx, nil, nil, n)
	}, func() error {
		p, err := op.cpuPlan()
		if err != nil {
			return err
		}
		return p.BackwardData(dx, dy, n)
	}, k)
}

func (op *convOp) BackwardFilter(dw, db, x, dy []float32, n int) error {
	g := op.g
	if err := op.check(n, "x", "dy", len(x), len(dy)); err != nil {
		return err
	}
	if want := g.K * g.C * g.R * g.S; len(dw) != want {
		return fmt.Errorf("npu: conv %v: dw has %d elements, want %d (K×C×R×S)", g, len(dw), want)
	}
	if db != nil && len(db) != g.K {
		return fmt.Errorf("npu: conv %v: db has %d elements, want %d", g, len(db), g.K)
	}
	outs, nout := [2]regionKey{keyOf(dw)}, 1
	if db != nil {
		outs[1], nout = keyOf(db), 2
	}
	return op.b.do("Conv2d backward-filter", func(c *call) error {
		return op.backward(c, x, dy, nil, dw, db, n)
	}, func() error {
		p, err := op.cpuPlan()
		if err != nil {
			return err
		}
		return p.BackwardFilter(dw, db, x, dy, n)
	}, outs[:nout]...)
}

// ---- matrix products ----

// Sgemm computes C = alpha·op(A)·op(B) + beta·C with aclnnMm (alpha 1, beta 0) or
// aclnnInplaceAddmm; transposes and leading dimensions become strides.
func (b *Backend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) error {
	cpuCall := func() error {
		return cpu.(layers.GemmBackend).Sgemm(transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
	}
	ck := keyOf(c)
	if m <= 0 || n <= 0 || k <= 0 {
		// Nothing for the NPU; the CPU validates or scales C.
		if err := b.enter(); err != nil {
			return err
		}
		defer b.leave()
		if err := b.flush(ck); err != nil {
			return err
		}
		if err := cpuCall(); err != nil {
			return err
		}
		b.hostWrote(ck)
		return nil
	}
	if !gemmFits(transA, transB, m, n, k, len(a), lda, len(bm), ldb, len(c), ldc) {
		return cpuCall() // the CPU reports the bad size
	}
	return b.do("Sgemm", func(cl *call) error {
		return b.gemm(cl, transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc, regionKey{})
	}, cpuCall, ck)
}

// gemmView describes op(X) as rows×cols from X stored with leading dimension ld,
// and returns how many elements it spans.
func gemmView(trans bool, rows, cols, ld int) (rs, cs int64, need int) {
	if trans { // stored cols×rows
		return 1, int64(ld), (cols-1)*ld + rows
	}
	return int64(ld), 1, (rows-1)*ld + cols
}

// gemmFits reports whether the operands hold the views Sgemm describes.
func gemmFits(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) bool {
	_, _, na := gemmView(transA, m, k, lda)
	_, _, nb := gemmView(transB, k, n, ldb)
	_, _, nc := gemmView(false, m, n, ldc)
	return na <= la && nb <= lb && nc <= lc && lda >= 1 && ldb >= 1 && ldc >= n &&
		(transA || lda >= k) && (!transA || lda >= m) && (transB || ldb >= n) && (!transB || ldb >= k)
}

// gemm launches C = alpha·op(A)·op(B) + beta·C within call cl. The operand whose
// key is kept is a forward input read again (see keepIn).
func (b *Backend) gemm(cl *call, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int, kept regionKey) error {
	ars, acs, _ := gemmView(transA, m, k, lda)
	brs, bcs, _ := gemmView(transB, k, n, ldb)
	in := func(k regionKey) (devPtr, error) {
		if k == kept {
			return cl.keptIn(k)
		}
		return cl.in(k, false)
	}
	adev, err := in(keyOf(a))
	if err != nil {
		return err
	}
	bdev, err := in(keyOf(bm))
	if err != nil {
		return err
	}
	at := matrix(adev, int64(len(a)), int64(m), int64(k), ars, acs)
	bt := matrix(bdev, int64(len(bm)), int64(k), int64(n), brs, bcs)
	cube := b.cfg.cubeMath
	ck := keyOf(c)
	if alpha == 1 && beta == 0 {
		cdev, err := cl.out(ck, ldc != n || len(c) != m*n)
		if err != nil {
			return err
		}
		ct := matrix(cdev, int64(len(c)), int64(m), int64(n), int64(ldc), 1)
		return cl.launch("aclnnMm", b.newKey("Mm").t(at, bt, ct).i(int64(cube)), func(bd *builder) error {
			var ws C.uint64_t
			st := C.aclnnMmGetWorkspaceSize(bd.tensor(at), bd.tensor(bt), bd.tensor(ct), C.int8_t(cube), &ws, &bd.e.ex)
			return bd.done("aclnnMm", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnMm(w, n, e, s)
			})
		})
	}
	cdev, err := cl.out(ck, true) // C is read
	if err != nil {
		return err
	}
	ct := matrix(cdev, int64(len(c)), int64(m), int64(n), int64(ldc), 1)
	return cl.launch("aclnnInplaceAddmm", b.newKey("InplaceAddmm").t(ct, at, bt).f(beta, alpha).i(int64(cube)), func(bd *builder) error {
		var ws C.uint64_t
		st := C.aclnnInplaceAddmmGetWorkspaceSize(bd.tensor(ct), bd.tensor(at), bd.tensor(bt),
			bd.scalar(beta), bd.scalar(alpha), C.int8_t(cube), &ws, &bd.e.ex)
		return bd.done("aclnnInplaceAddmm", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
			return C.aclnnInplaceAddmm(w, n, e, s)
		})
	})
}

// LinearForward computes y = x·wᵀ (aclnnMm) and adds the bias broadcast over the
// rows (aclnnInplaceAdd), all on the device.
func (b *Backend) LinearForward(y, x, w, bias []float32, rows, in, out int) error {
	cpuCall := func() error { return cpu.(layers.LinearBackend).LinearForward(y, x, w, bias, rows, in, out) }
	if rows <= 0 || in <= 0 || out <= 0 || len(y) < rows*out || len(x) < rows*in || len(w) < out*in ||
		(bias != nil && len(bias) < out) {
		return cpuCall() // the CPU reports the bad size
	}
	y, x, w = y[:rows*out], x[:rows*in], w[:out*in]
	return b.do("Linear", func(cl *call) error {
		// x is read again by LinearBackward (dw = dyᵀ·x).
		xk := keyOf(x)
		if _, err := cl.keepIn(xk); err != nil {
			return err
		}
		if err := b.gemm(cl, false, true, rows, out, in, 1, x, in, w, in, 0, y, out, xk); err != nil {
			return err
		}
		if bias == nil {
			return nil
		}
		bias = bias[:out]
		yd, err := cl.out(keyOf(y), false)
		if err != nil {
			return err
		}
		bd, err := cl.in(keyOf(bias), false)
		if err != nil {
			return err
		}
		yt := contiguous(yd, int64(rows*out), f32, fmtND, int64(rows), int64(out))
		bt := contiguous(bd, int64(out), f32, fmtND, 1, int64(out))
		return b.inplaceAdd(cl, yt, bt)
	}, cpuCall, keyOf(y))
}

// LinearBackward computes dw = dyᵀ·x and dx = dy·w (aclnnMm) and db, the column
// sums of dy (aclnnReduceSum over dimension 0), on the device.
func (b *Backend) LinearBackward(dw, db, dx, dy, x, w []float32, rows, in, out int) error {
	cpuCall := func() error {
		return cpu.(layers.LinearBackend).LinearBackward(dw, db, dx, dy, x, w, rows, in, out)
	}
	if rows <= 0 || in <= 0 || out <= 0 || len(dw) < out*in || len(dy) < rows*out || len(x) < rows*in ||
		len(w) < out*in || (db != nil && len(db) < out) || (dx != nil && len(dx) < rows*in) {
		return cpuCall()
	}
	dw, dy, x, w = dw[:out*in], dy[:rows*out], x[:rows*in], w[:out*in]
	outs, nout := [3]regionKey{keyOf(dw)}, 1
	if db != nil {
		db = db[:out]
		outs[nout], nout = keyOf(db), nout+1
	}
	if dx != nil {
		dx = dx[:rows*in]
		outs[nout], nout = keyOf(dx), nout+1
	}
	return b.do("Linear backward", func(cl *call) error {
		if err := b.gemm(cl, true, false, out, in, rows, 1, dy, out, x, in, 0, dw, in, keyOf(x)); err != nil {
			return err
		}
		if db != nil {
			dyd, err := cl.in(keyOf(dy), false)
			if err != nil {
				return err
			}
			dbd, err := cl.out(keyOf(db), false)
			if err != nil {
				return err
			}
			dyt := contiguous(dyd, int64(rows*out), f32, fmtND, int64(rows), int64(out))
			dbt := flat(dbd, out)
			err = cl.launch("aclnnReduceSum", b.newKey("ReduceSum").t(dyt, dbt), func(bd *builder) error {
				var ws C.uint64_t
				st := C.aclnnReduceSumGetWorkspaceSize(bd.tensor(dyt), bd.ints(0), false, C.ACL_FLOAT, bd.tensor(dbt), &ws, &bd.e.ex)
				return bd.done("aclnnReduceSum", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
					return C.aclnnReduceSum(w, n, e, s)
				})
			})
			if err != nil {
				return err
			}
		}
		if dx == nil {
			return nil
		}
		return b.gemm(cl, false, false, rows, in, out, 1, dy, out, w, in, 0, dx, in, regionKey{})
	}, cpuCall, outs[:nout]...)
}

// ---- activations ----

func (b *Backend) ReLU(y, x []float32) error {
	if len(y) < len(x) {
		return fmt.Errorf("npu: ReLU: output has %d elements, input %d", len(y), len(x))
	}
	y = y[:len(x)]
	if len(x) == 0 {
		return nil
	}
	xk := keyOf(x)
	yk := keyOf(y)
	return b.do("ReLU", func(c *call) error {
		xd, err := c.in(xk, false)
		if err != nil {
			return err
		}
		yd, err := c.out(yk, false)
		if err != nil {
			return err
		}
		xt, yt := flat(xd, len(x)), flat(yd, len(y))
		if xk == yk {
			return c.launch("aclnnInplaceRelu", b.newKey("InplaceRelu").t(xt), func(bd *builder) error {
				var ws C.uint64_t
				st := C.aclnnInplaceReluGetWorkspaceSize(bd.tensor(xt), &ws, &bd.e.ex)
				return bd.done("aclnnInplaceRelu", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
					return C.aclnnInplaceRelu(w, n, e, s)
				})
			})
		}
		return c.launch("aclnnRelu", b.newKey("Relu").t(xt, yt), func(bd *builder) error {
			var ws C.uint64_t
			st := C.aclnnReluGetWorkspaceSize(bd.tensor(xt), bd.tensor(yt), &ws, &bd.e.ex)
			return bd.done("aclnnRelu", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnRelu(w, n, e, s)
			})
		})
	}, func() error { return cpu.(layers.ActivationBackend).ReLU(y, x) }, yk)
}

func (b *Backend) ReLUBackward(dx, dy, y []float32) error {
	if len(dx) < len(y) || len(dy) < len(y) {
		return fmt.Errorf("npu: ReLUBackward: dx has %d and dy %d elements, y %d", len(dx), len(dy), len(y))
	}
	dx, dy = dx[:len(y)], dy[:len(y)]
	if len(y) == 0 {
		return nil
	}
	dxk := keyOf(dx)
	return b.do("ReLUBackward", func(c *call) error {
		dyk := keyOf(dy)
		dyd, err := c.in(dyk, false)
		if err != nil {
			return err
		}
		yk := keyOf(y)
		yd, err := c.in(yk, false)
		if err != nil {
			return err
		}
		dxd, err := c.out(dxk, false)
		if err != nil {
			return err
		}
		dyt, yt, dxt := flat(dyd, len(y)), flat(yd, len(y)), flat(dxd, len(y))
		return c.launch("aclnnThresholdBackward", b.newKey("ThresholdBackward").t(dyt, yt, dxt), func(bd *builder) error {
			var ws C.uint64_t
			st := C.aclnnThresholdBackwardGetWorkspaceSize(bd.tensor(dyt), bd.tensor(yt), bd.scalar(0), bd.tensor(dxt), &ws, &bd.e.ex)
			return bd.done("aclnnThresholdBackward", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnThresholdBackward(w, n, e, s)
			})
		})
	}, func() error { return cpu.(layers.ActivationBackend).ReLUBackward(dx, dy, y) }, dxk)
}

// ---- pooling ----

func poolCheck(s layers.PoolShape, y, x, idx int) error {
	if s.N <= 0 || s.C <= 0 || s.Kernel <= 0 || s.Stride <= 0 || s.H < s.Kernel || s.W < s.Kernel {
		return fmt.Errorf("npu: max-pool shape %+v is invalid", s)
	}
	in, out := s.N*s.C*s.H*s.W, s.N*s.C*s.OutH()*s.OutW()
	if x < in || y < out || idx < out {
		return fmt.Errorf("npu: max-pool %+v: input %d (want %d), output %d and indices %d (want %d) elements", s, x, in, y, idx, out)
	}
	return nil
}

func (s poolDims) descs(x, y, idx devPtr) (xt, yt, it tdesc) {
	i := func(v int) int64 { return int64(v) }
	xt = contiguous(x, i(s.N*s.C*s.H*s.W), f32, fmtNCHW, i(s.N), i(s.C), i(s.H), i(s.W))
	yt = contiguous(y, i(s.N*s.C*s.OutH()*s.OutW()), f32, fmtNCHW, i(s.N), i(s.C), i(s.OutH()), i(s.OutW()))
	it = yt
	it.dev, it.dt = idx, i32
	return
}

type poolDims struct{ layers.PoolShape }

func (bd *builder) poolArgs(s layers.PoolShape) (k, st, pad, dil *C.aclIntArray) {
	return bd.ints(int64(s.Kernel), int64(s.Kernel)), bd.ints(int64(s.Stride), int64(s.Stride)), bd.ints(0, 0), bd.ints(1, 1)
}

// MaxPool2d runs aclnnMaxPool2dWithIndices (int32 indices within each plane,
// PyTorch's convention).
func (b *Backend) MaxPool2d(y []float32, idx []int32, x []float32, s layers.PoolShape) error {
	if err := poolCheck(s, len(y), len(x), len(idx)); err != nil {
		return err
	}
	in, out := s.N*s.C*s.H*s.W, s.N*s.C*s.OutH()*s.OutW()
	y, idx, x = y[:out], idx[:out], x[:in]
	yk := keyOf(y)
	ik := keyOf(idx)
	err := b.do("MaxPool2d", func(c *call) error {
		xk := keyOf(x)
		xd, err := c.in(xk, false)
		if err != nil {
			return err
		}
		yd, err := c.out(yk, false)
		if err != nil {
			return err
		}
		id, err := c.out(ik, false)
		if err != nil {
			return err
		}
		xt, yt, it := poolDims{s}.descs(xd, yd, id)
		k := b.newKey("MaxPool2dWithIndices").t(xt, yt, it).i(int64(s.Kernel), int64(s.Stride))
		return c.launch("aclnnMaxPool2dWithIndices", k, func(bd *builder) error {
			kk, ss, pp, dd := bd.poolArgs(s)
			var ws C.uint64_t
			st := C.aclnnMaxPool2dWithIndicesGetWorkspaceSize(bd.tensor(xt), kk, ss, pp, dd, false, bd.tensor(yt), bd.tensor(it), &ws, &bd.e.ex)
			return bd.done("aclnnMaxPool2dWithIndices", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnMaxPool2dWithIndices(w, n, e, s)
			})
		})
	}, func() error { return cpu.(layers.PoolBackend).MaxPool2d(y, idx, x, s) }, yk, ik)
	if err == nil {
		b.mu.Lock()
		b.poolX[unsafe.Pointer(unsafe.SliceData(idx))] = x
		b.mu.Unlock()
	}
	return err
}

// MaxPool2dBackward runs aclnnMaxPool2dWithIndicesBackward. aclnn also wants the
// forward input, which the interface does not pass: the backend remembers it per
// index buffer from MaxPool2d.
func (b *Backend) MaxPool2dBackward(dx []float32, idx []int32, dy []float32, s layers.PoolShape) error {
	if err := poolCheck(s, len(dy), len(dx), len(idx)); err != nil {
		return err
	}
	in, out := s.N*s.C*s.H*s.W, s.N*s.C*s.OutH()*s.OutW()
	dx, idx, dy = dx[:in], idx[:out], dy[:out]
	dxk := keyOf(dx)
	return b.do("MaxPool2dBackward", func(c *call) error {
		x := b.poolX[unsafe.Pointer(unsafe.SliceData(idx))]
		if len(x) != len(dx) {
			x = dx // shape only
		}
		xk := keyOf(x)
		xd, err := c.in(xk, false)
		if err != nil {
			return err
		}
		dyk := keyOf(dy)
		dyd, err := c.in(dyk, false)
		if err != nil {
			return err
		}
		ik := keyOf(idx)
		id, err := c.in(ik, false)
		if err != nil {
			return err
		}
		dxd, err := c.out(dxk, false)
		if err != nil {
			return err
		}
		xt, dyt, it := poolDims{s}.descs(xd, dyd, id)
		dxt := xt
		dxt.dev = dxd
		k := b.newKey("MaxPool2dWithIndicesBackward").t(dyt, xt, it, dxt).i(int64(s.Kernel), int64(s.Stride))
		return c.launch("aclnnMaxPool2dWithIndicesBackward", k, func(bd *builder) error {
			kk, ss, pp, dd := bd.poolArgs(s)
			var ws C.uint64_t
			st := C.aclnnMaxPool2dWithIndicesBackwardGetWorkspaceSize(bd.tensor(dyt), bd.tensor(xt), bd.tensor(it), kk, ss, pp, dd, false, bd.tensor(dxt), &ws, &bd.e.ex)
			return bd.done("aclnnMaxPool2dWithIndicesBackward", st, ws, func(w unsafe.Pointer, n C.uint64_t, e *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus {
				return C.aclnnMaxPool2dWithIndicesBackward(w, n, e, s)
			})
		})
	}, func() error { return cpu.(layers.PoolBackend).MaxPool2dBackward(dx, idx, dy, s) }, dxk)
}
