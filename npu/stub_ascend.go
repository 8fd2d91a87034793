//go:build ascend && ascendstub

package npu

/*
#include <stdlib.h>
#include "stub_ascend.h"
*/
import "C"

import "unsafe"

// This file exposes the ascendstub C stubs' call log and object counts to the tests.

// stubTensor is a logged aclTensor descriptor.
type stubTensor struct {
	Null          bool
	Dims, Strides []int64
	DType, Format int
	Addr          uintptr
}

// stubRec is one logged call: a phase-1 GetWorkspaceSize (with its tensors) or a
// phase-2 run, or a runtime call.
type stubRec struct {
	Op      string
	Cube    int
	Tensors []stubTensor
}

// stubCounts are the live objects (creates minus destroys) and the totals of
// synchronizations and copies.
type stubCounts struct {
	Devices, Streams, Mallocs, Tensors, Arrays, Scalars, Executors int64
	Syncs, H2D, D2H                                                int64
}

func stubLog() []stubRec {
	n := int(C.govgg_stub_log_len())
	out := make([]stubRec, n)
	for i := range out {
		r := C.govgg_stub_log_at(C.int(i))
		rec := stubRec{Op: C.GoString(&r.op[0]), Cube: int(r.cube)}
		for j := 0; j < int(r.nt); j++ {
			t := r.t[j]
			st := stubTensor{Null: t.null != 0, DType: int(t.dt), Format: int(t.fmt), Addr: uintptr(t.addr)}
			for d := 0; d < int(t.nd); d++ {
				st.Dims = append(st.Dims, int64(t.dims[d]))
				st.Strides = append(st.Strides, int64(t.strides[d]))
			}
			rec.Tensors = append(rec.Tensors, st)
		}
		out[i] = rec
	}
	return out
}

func stubLogReset() { C.govgg_stub_log_reset() }

func stubLive() stubCounts {
	c := C.govgg_stub_live
	return stubCounts{int64(c.devices), int64(c.streams), int64(c.mallocs), int64(c.tensors), int64(c.arrays),
		int64(c.scalars), int64(c.executors), int64(c.syncs), int64(c.h2d), int64(c.d2h)}
}

// stubReject makes phase 1 of operator op fail ("" for none).
func stubReject(op string) {
	s := C.CString(op)
	defer C.free(unsafe.Pointer(s))
	C.govgg_stub_reject(s)
}
