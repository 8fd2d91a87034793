//go:build ascend

package npu

/*
#cgo CFLAGS: -I${SRCDIR}/internal/cann
#cgo !ascendstub LDFLAGS: -lascendcl -lnnopbase -lopapi
#cgo ascendstub LDFLAGS: -lm
#include <stdlib.h>
#include "cann_decls.h"

// Device addresses stay integers on the Go side (they are not host memory, and the
// garbage collector must never see them as pointers); these convert at the C edge.
static void *govgg_ptr(uintptr_t p) { return (void *)p; }

static aclError govgg_malloc(uintptr_t *out, size_t n) {
	void *p = NULL;
	aclError e = aclrtMalloc(&p, n, ACL_MEM_MALLOC_HUGE_FIRST);
	*out = (uintptr_t)p;
	return e;
}
*/
import "C"

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// devPtr is a device address.
type devPtr uintptr

func (p devPtr) c() unsafe.Pointer { return C.govgg_ptr(C.uintptr_t(p)) }

// aclErr turns a runtime status into an error with CANN's own message.
func aclErr(what string, st C.aclError) error {
	if st == C.ACL_SUCCESS {
		return nil
	}
	return fmt.Errorf("npu: %s: error %d%s", what, int(st), recentMsg())
}

func recentMsg() string {
	m := C.aclGetRecentErrMsg()
	if m == nil {
		return ""
	}
	return ": " + strings.TrimSpace(C.GoString(m))
}

func devMalloc(n int64) (devPtr, error) {
	var p C.uintptr_t
	if st := C.govgg_malloc(&p, C.size_t(n)); st != C.ACL_SUCCESS {
		return 0, aclErr(fmt.Sprintf("aclrtMalloc(%d bytes)", n), st)
	}
	return devPtr(p), nil
}

func devFree(p devPtr) error { return aclErr("aclrtFree", C.aclrtFree(p.c())) }

func upload(dst devPtr, src unsafe.Pointer, n int64) error {
	return aclErr("aclrtMemcpy host→device", C.aclrtMemcpy(dst.c(), C.size_t(n), src, C.size_t(n), C.ACL_MEMCPY_HOST_TO_DEVICE))
}

func download(dst unsafe.Pointer, src devPtr, n int64) error {
	return aclErr("aclrtMemcpy device→host", C.aclrtMemcpy(dst, C.size_t(n), src.c(), C.size_t(n), C.ACL_MEMCPY_DEVICE_TO_HOST))
}

// dtype is an aclDataType this package uses.
type dtype C.aclDataType

const (
	f32 = dtype(C.ACL_FLOAT)
	i32 = dtype(C.ACL_INT32)
	i64 = dtype(C.ACL_INT64)
)

// intType is the aclDataType of a Go int.
var intType = func() dtype {
	if unsafe.Sizeof(int(0)) == 4 {
		return i32
	}
	return i64
}()

// format is an aclFormat.
type format C.aclFormat

const (
	fmtNCHW = format(C.ACL_FORMAT_NCHW)
	fmtND   = format(C.ACL_FORMAT_ND)
)

// tdesc describes an aclTensor: a strided view (in elements) of a 1-D device
// storage of storage elements starting at dev. Shapes live in fixed arrays, so
// describing a call allocates nothing.
type tdesc struct {
	nd            int
	dims, strides [4]int64
	dt            dtype
	format        format
	dev           devPtr
	storage       int64
}

// contiguous returns the row-major view dims of storage elements at dev.
func contiguous(dev devPtr, storage int64, dt dtype, f format, dims ...int64) tdesc {
	d := tdesc{nd: len(dims), dt: dt, format: f, dev: dev, storage: storage}
	s := int64(1)
	for i := len(dims) - 1; i >= 0; i-- {
		d.dims[i], d.strides[i] = dims[i], s
		s *= dims[i]
	}
	return d
}

// matrix returns the rows×cols view with the given strides.
func matrix(dev devPtr, storage int64, rows, cols, rowStride, colStride int64) tdesc {
	return tdesc{nd: 2, dims: [4]int64{rows, cols}, strides: [4]int64{rowStride, colStride}, dt: f32, format: fmtND, dev: dev, storage: storage}
}

// appendKey writes the descriptor into an executor-cache key.
func (d tdesc) appendKey(b []byte) []byte {
	b = append(b, '[')
	for i := 0; i < d.nd; i++ {
		b = strconv.AppendInt(b, d.dims[i], 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, d.strides[i], 10)
		b = append(b, ',')
	}
	b = append(b, 't')
	b = strconv.AppendInt(b, int64(d.dt), 10)
	b = append(b, 'f')
	b = strconv.AppendInt(b, int64(d.format), 10)
	b = append(b, '@')
	b = strconv.AppendUint(b, uint64(d.dev), 16)
	b = append(b, '/')
	b = strconv.AppendInt(b, d.storage, 10)
	return append(b, ']')
}

// phase2 is an operator's second call: run executor on stream with a workspace.
type phase2 func(ws unsafe.Pointer, wsSize C.uint64_t, ex *C.aclOpExecutor, s C.aclrtStream) C.aclnnStatus

// executor is a cached, repeatable aclOpExecutor with the handles it was built
// from, which live exactly as long as it does.
type executor struct {
	op      string
	ex      *C.aclOpExecutor
	ws      uint64
	run     phase2
	devs    []devPtr // device buffers it reads or writes
	tensors []*C.aclTensor
	ints    []*C.aclIntArray
	bools   []*C.aclBoolArray
	scalars []*C.aclScalar
	cmem    []unsafe.Pointer
}

// builder collects the handles of an executor under construction.
type builder struct{ e *executor }

func (bd *builder) tensor(d tdesc) *C.aclTensor {
	storage := []int64{d.storage}
	t := C.aclCreateTensor((*C.int64_t)(unsafe.Pointer(&d.dims[0])), C.uint64_t(d.nd), C.aclDataType(d.dt),
		(*C.int64_t)(unsafe.Pointer(&d.strides[0])), 0, C.aclFormat(d.format),
		(*C.int64_t)(unsafe.Pointer(&storage[0])), 1, d.dev.c())
	bd.e.tensors = append(bd.e.tensors, t)
	bd.e.devs = append(bd.e.devs, d.dev)
	return t
}

func (bd *builder) ints(v ...int64) *C.aclIntArray {
	a := C.aclCreateIntArray((*C.int64_t)(unsafe.Pointer(&v[0])), C.uint64_t(len(v)))
	bd.e.ints = append(bd.e.ints, a)
	return a
}

func (bd *builder) bools(v ...bool) *C.aclBoolArray {
	a := C.aclCreateBoolArray((*C.bool)(unsafe.Pointer(&v[0])), C.uint64_t(len(v)))
	bd.e.bools = append(bd.e.bools, a)
	return a
}

// scalar makes a float32 aclScalar; its value lives in C memory freed with the
// executor, since the docs do not promise that aclCreateScalar copies it.
func (bd *builder) scalar(v float32) *C.aclScalar {
	m := C.malloc(4)
	*(*float32)(m) = v
	bd.e.cmem = append(bd.e.cmem, m)
	s := C.aclCreateScalar(m, C.ACL_FLOAT)
	bd.e.scalars = append(bd.e.scalars, s)
	return s
}

// cstring makes a C string that lives as long as the executor.
func (bd *builder) cstring(s string) *C.char {
	m := C.CString(s)
	bd.e.cmem = append(bd.e.cmem, unsafe.Pointer(m))
	return m
}

// destroy releases the executor and every handle it was built from.
func (e *executor) destroy() {
	if e.ex != nil {
		C.aclDestroyAclOpExecutor(e.ex)
		e.ex = nil
	}
	for _, t := range e.tensors {
		C.aclDestroyTensor(t)
	}
	for _, a := range e.ints {
		C.aclDestroyIntArray(a)
	}
	for _, a := range e.bools {
		C.aclDestroyBoolArray(a)
	}
	for _, s := range e.scalars {
		C.aclDestroyScalar(s)
	}
	for _, m := range e.cmem {
		C.free(m)
	}
	e.tensors, e.ints, e.bools, e.scalars, e.cmem = nil, nil, nil, nil, nil
}

// unsupportedError is a phase-1 rejection: the operator does not take these
// arguments on this device, and the call may go to the CPU instead.
type unsupportedError struct{ err error }

func (u unsupportedError) Error() string { return u.err.Error() }

func phase1Err(op string, st C.aclnnStatus) error {
	if st == 0 {
		return nil
	}
	return unsupportedError{fmt.Errorf("npu: %sGetWorkspaceSize: status %d%s", op, int(st), recentMsg())}
}

// runtime is one device context and stream.
type runtimeState struct {
	device int
	ctx    C.aclrtContext
	stream C.aclrtStream
}

// aclInit may run once per process, whichever backend starts first.
var (
	aclInitMu   sync.Mutex
	aclInitDone bool
)

func startRuntime(device int) (*runtimeState, error) {
	aclInitMu.Lock()
	if !aclInitDone {
		if err := aclErr("aclInit", C.aclInit(nil)); err != nil {
			aclInitMu.Unlock()
			return nil, err
		}
		aclInitDone = true
	}
	aclInitMu.Unlock()
	var count C.uint32_t
	if err := aclErr("aclrtGetDeviceCount", C.aclrtGetDeviceCount(&count)); err != nil {
		return nil, err
	}
	if device >= int(count) {
		return nil, fmt.Errorf("npu: device %d does not exist (%d NPUs visible)", device, int(count))
	}
	rt := &runtimeState{device: device}
	if err := aclErr(fmt.Sprintf("aclrtSetDevice(%d)", device), C.aclrtSetDevice(C.int32_t(device))); err != nil {
		return nil, err
	}
	if err := aclErr("aclrtGetCurrentContext", C.aclrtGetCurrentContext(&rt.ctx)); err != nil {
		C.aclrtResetDevice(C.int32_t(device))
		return nil, err
	}
	if err := aclErr("aclrtCreateStream", C.aclrtCreateStream(&rt.stream)); err != nil {
		C.aclrtResetDevice(C.int32_t(device))
		return nil, err
	}
	return rt, nil
}

// bind makes the runtime's context current on the calling (locked) OS thread:
// AscendCL contexts are per thread and goroutines move between threads.
func (rt *runtimeState) bind() error {
	return aclErr("aclrtSetCurrentContext", C.aclrtSetCurrentContext(rt.ctx))
}

func (rt *runtimeState) sync() error {
	return aclErr("aclrtSynchronizeStream", C.aclrtSynchronizeStream(rt.stream))
}

func (rt *runtimeState) stop() error {
	err := aclErr("aclrtDestroyStream", C.aclrtDestroyStream(rt.stream))
	if e := aclErr("aclrtResetDevice", C.aclrtResetDevice(C.int32_t(rt.device))); err == nil {
		err = e
	}
	return err
}

// launch runs an executor's phase 2 on the stream.
func (rt *runtimeState) launch(e *executor, ws devPtr) error {
	if st := e.run(ws.c(), C.uint64_t(e.ws), e.ex, rt.stream); st != 0 {
		return fmt.Errorf("npu: %s: status %d%s", e.op, int(st), recentMsg())
	}
	return nil
}

// repeatable marks an executor for reuse, which the two-phase API otherwise forbids.
func (e *executor) repeatable() error {
	if st := C.aclSetAclOpExecutorRepeatable(e.ex); st != 0 {
		return fmt.Errorf("npu: aclSetAclOpExecutorRepeatable(%s): status %d%s", e.op, int(st), recentMsg())
	}
	return nil
}
