// Test-only view of the ascendstub C stubs (see stub_ascend.c).
#include <stdint.h>

typedef struct {
	int nd, dt, fmt, null;
	int64_t dims[8], strides[8];
	uintptr_t addr;
} govgg_stub_tensor;

typedef struct {
	char op[64];
	int nt, cube;
	govgg_stub_tensor t[8];
} govgg_stub_rec;

typedef struct {
	int64_t devices, streams, mallocs, tensors, arrays, scalars, executors;
	int64_t syncs, h2d, d2h;
} govgg_stub_counts;

extern govgg_stub_counts govgg_stub_live;
int govgg_stub_log_len(void);
const govgg_stub_rec *govgg_stub_log_at(int i);
void govgg_stub_log_reset(void);
// govgg_stub_reject makes phase 1 of the named operator ("aclnnRelu") fail from now
// on; "" accepts everything again.
void govgg_stub_reject(const char *op);
