//go:build ascend && ascendstub

// A stand-in for AscendCL and the aclnn operators this package binds, for tests on
// machines without CANN (build tags ascend,ascendstub). "Device" memory is host
// memory; every operator computes a plain float64-accumulated reference result, so
// tests can compare a network run through this backend with the CPU backend. Every
// create and destroy is counted, every operator call is logged with its tensor
// descriptors, and the two-phase rules are enforced: running an executor a second
// time without aclSetAclOpExecutorRepeatable fails, as on the device.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cann_decls.h"
#include "stub_ascend.h"

struct aclTensor {
	int nd;
	int64_t dims[8], strides[8], offset, storage;
	int dt, fmt;
	char *data;
};
struct aclIntArray { int n; int64_t v[8]; };
struct aclBoolArray { int n; bool v[8]; };
struct aclScalar { double v; };

enum { OP_CONV, OP_CONVBWD, OP_MM, OP_ADDMM, OP_RELU, OP_IRELU, OP_THRBWD, OP_POOL, OP_POOLBWD,
	OP_SOFTMAX, OP_SOFTMAXBWD, OP_BN, OP_BNBWD, OP_MUL, OP_IADD, OP_RSUM, OP_CE, OP_CEGRAD };

struct aclOpExecutor {
	int op, repeatable, runs, nt;
	const aclTensor *t[8];
	int64_t a[4][8]; // int-array arguments (stride, padding, dilation, kernel)
	int na[4];
	bool mask[3];
	double s[2]; // scalars
	int64_t dim;
	bool flag;
	double eps;
};

#define BAD 161002
#define NEED(c) do { if (!(c)) return BAD; } while (0)

govgg_stub_counts govgg_stub_live;
static govgg_stub_rec *logv;
static int logn, logcap;
static int inited, device = -1;

static void record(const char *op, const aclOpExecutor *e, int cube) {
	if (logn == logcap) {
		logcap = logcap ? 2 * logcap : 256;
		logv = realloc(logv, logcap * sizeof *logv);
	}
	govgg_stub_rec *r = &logv[logn++];
	memset(r, 0, sizeof *r);
	snprintf(r->op, sizeof r->op, "%s", op);
	r->cube = cube;
	if (e == NULL) return;
	r->nt = e->nt;
	for (int i = 0; i < e->nt; i++) {
		const aclTensor *t = e->t[i];
		if (t == NULL) { r->t[i].null = 1; continue; }
		r->t[i].nd = t->nd;
		r->t[i].dt = t->dt;
		r->t[i].fmt = t->fmt;
		r->t[i].addr = (uintptr_t)t->data;
		for (int d = 0; d < t->nd; d++) {
			r->t[i].dims[d] = t->dims[d];
			r->t[i].strides[d] = t->strides[d];
		}
	}
}

int govgg_stub_log_len(void) { return logn; }
const govgg_stub_rec *govgg_stub_log_at(int i) { return &logv[i]; }
void govgg_stub_log_reset(void) { logn = 0; }

// ---- runtime ----
aclError aclInit(const char *p) { (void)p; if (inited) return 100002; inited = 1; record("aclInit", NULL, 0); return 0; }
aclError aclFinalize(void) { inited = 0; return 0; }
aclError aclrtGetDeviceCount(uint32_t *n) { *n = 2; return 0; }
aclError aclrtSetDevice(int32_t id) {
	if (!inited) return 100000;
	device = id; govgg_stub_live.devices++; record("aclrtSetDevice", NULL, id); return 0;
}
aclError aclrtResetDevice(int32_t id) { (void)id; govgg_stub_live.devices--; record("aclrtResetDevice", NULL, 0); return 0; }
static int ctxtoken;
aclError aclrtGetCurrentContext(aclrtContext *c) { *c = &ctxtoken; return 0; }
aclError aclrtSetCurrentContext(aclrtContext c) { return c == &ctxtoken ? 0 : 107002; }
aclError aclrtCreateStream(aclrtStream *s) { *s = malloc(1); govgg_stub_live.streams++; return 0; }
aclError aclrtDestroyStream(aclrtStream s) { free(s); govgg_stub_live.streams--; return 0; }
aclError aclrtSynchronizeStream(aclrtStream s) { (void)s; govgg_stub_live.syncs++; return 0; }
aclError aclrtMalloc(void **p, size_t n, aclrtMemMallocPolicy pol) {
	(void)pol;
	if (device < 0) return 107002;
	*p = calloc(1, n);
	govgg_stub_live.mallocs++;
	return *p ? 0 : 207001;
}
aclError aclrtFree(void *p) { free(p); govgg_stub_live.mallocs--; return 0; }
aclError aclrtMemcpy(void *dst, size_t max, const void *src, size_t n, aclrtMemcpyKind k) {
	if (n > max || k < 0 || k > 3) return 107000;
	memcpy(dst, src, n);
	if (k == ACL_MEMCPY_HOST_TO_DEVICE) govgg_stub_live.h2d++;
	if (k == ACL_MEMCPY_DEVICE_TO_HOST) govgg_stub_live.d2h++;
	return 0;
}
const char *aclGetRecentErrMsg(void) { return "stub"; }

// ---- handles ----
aclTensor *aclCreateTensor(const int64_t *dims, uint64_t nd, aclDataType dt, const int64_t *strides,
		int64_t offset, aclFormat fmt, const int64_t *sdims, uint64_t snd, void *data) {
	if (nd > 8 || snd != 1) return NULL;
	aclTensor *t = calloc(1, sizeof *t);
	t->nd = (int)nd; t->dt = dt; t->fmt = fmt; t->offset = offset; t->storage = sdims[0];
	t->data = data;
	for (uint64_t i = 0; i < nd; i++) { t->dims[i] = dims[i]; t->strides[i] = strides[i]; }
	govgg_stub_live.tensors++;
	return t;
}
aclIntArray *aclCreateIntArray(const int64_t *v, uint64_t n) {
	aclIntArray *a = calloc(1, sizeof *a); a->n = (int)n;
	for (uint64_t i = 0; i < n && i < 8; i++) a->v[i] = v[i];
	govgg_stub_live.arrays++;
	return a;
}
aclBoolArray *aclCreateBoolArray(const bool *v, uint64_t n) {
	aclBoolArray *a = calloc(1, sizeof *a); a->n = (int)n;
	for (uint64_t i = 0; i < n && i < 8; i++) a->v[i] = v[i];
	govgg_stub_live.arrays++;
	return a;
}
aclScalar *aclCreateScalar(void *v, aclDataType dt) {
	aclScalar *s = calloc(1, sizeof *s);
	s->v = dt == ACL_FLOAT ? *(float *)v : 0;
	govgg_stub_live.scalars++;
	return s;
}
aclnnStatus aclDestroyTensor(const aclTensor *t) { if (t) { free((void *)t); govgg_stub_live.tensors--; } return 0; }
aclnnStatus aclDestroyIntArray(const aclIntArray *a) { free((void *)a); govgg_stub_live.arrays--; return 0; }
aclnnStatus aclDestroyBoolArray(const aclBoolArray *a) { free((void *)a); govgg_stub_live.arrays--; return 0; }
aclnnStatus aclDestroyScalar(const aclScalar *s) { free((void *)s); govgg_stub_live.scalars--; return 0; }
aclnnStatus aclSetAclOpExecutorRepeatable(aclOpExecutor *e) { e->repeatable = 1; return 0; }
aclnnStatus aclDestroyAclOpExecutor(aclOpExecutor *e) { free(e); govgg_stub_live.executors--; return 0; }

static aclOpExecutor *newex(int op, uint64_t *ws, aclOpExecutor **out) {
	aclOpExecutor *e = calloc(1, sizeof *e);
	e->op = op;
	*ws = 64 * (op + 1); // a workspace, so its allocation path runs
	*out = e;
	govgg_stub_live.executors++;
	return e;
}
static char reject[64];
void govgg_stub_reject(const char *op) { snprintf(reject, sizeof reject, "%s", op); }

// done1 ends a phase-1 call: logged and accepted, or rejected (as a device rejects
// arguments it does not support) when the test named this operator.
static aclnnStatus done1(const char *name, aclOpExecutor *e, aclOpExecutor **ex, int cube) {
	if (reject[0] && strncmp(name, reject, strlen(reject)) == 0 && strlen(name) == strlen(reject) + strlen("GetWorkspaceSize")) {
		free(e);
		govgg_stub_live.executors--;
		*ex = NULL;
		return BAD;
	}
	record(name, e, cube);
	return 0;
}

static void targ(aclOpExecutor *e, const aclTensor *t) { e->t[e->nt++] = t; }
static void iarg(aclOpExecutor *e, int i, const aclIntArray *a) {
	e->na[i] = a ? a->n : 0;
	for (int k = 0; a && k < a->n; k++) e->a[i][k] = a->v[k];
}

// ---- element access ----
static float *F(const aclTensor *t) { return t ? (float *)t->data + t->offset : NULL; }
static int64_t numel(const aclTensor *t) { int64_t n = 1; for (int i = 0; i < t->nd; i++) n *= t->dims[i]; return n; }
static int contig(const aclTensor *t) {
	int64_t s = 1;
	for (int i = t->nd - 1; i >= 0; i--) { if (t->dims[i] != 1 && t->strides[i] != s) return 0; s *= t->dims[i]; }
	return t->dt == ACL_FLOAT || t->dt == ACL_INT32;
}

// ---- phase 1 ----
aclnnStatus aclnnConvolutionGetWorkspaceSize(const aclTensor *x, const aclTensor *w, const aclTensor *b,
		const aclIntArray *stride, const aclIntArray *pad, const aclIntArray *dil, bool tr,
		const aclIntArray *opad, int64_t groups, aclTensor *y, int8_t cube, uint64_t *ws, aclOpExecutor **ex) {
	(void)opad;
	NEED(x && w && y && !tr && groups == 1 && x->nd == 4 && w->nd == 4 && y->nd == 4 && contig(x) && contig(w) && contig(y));
	NEED(stride->n == 2 && pad->n == 2 && dil->n == 2 && x->dims[1] == w->dims[1] && y->dims[1] == w->dims[0]);
	aclOpExecutor *e = newex(OP_CONV, ws, ex);
	targ(e, x); targ(e, w); targ(e, b); targ(e, y);
	iarg(e, 0, stride); iarg(e, 1, pad); iarg(e, 2, dil);
	return done1("aclnnConvolutionGetWorkspaceSize", e, ex, cube);
}
aclnnStatus aclnnConvolutionBackwardGetWorkspaceSize(const aclTensor *dy, const aclTensor *x, const aclTensor *w,
		const aclIntArray *biasSizes, const aclIntArray *stride, const aclIntArray *pad, const aclIntArray *dil,
		bool tr, const aclIntArray *opad, int groups, const aclBoolArray *mask, int8_t cube, aclTensor *dx,
		aclTensor *dw, aclTensor *db, uint64_t *ws, aclOpExecutor **ex) {
	(void)biasSizes; (void)opad;
	NEED(dy && x && w && !tr && groups == 1 && mask && mask->n == 3);
	NEED((!mask->v[0] || dx) && (!mask->v[1] || dw) && (!mask->v[2] || db));
	aclOpExecutor *e = newex(OP_CONVBWD, ws, ex);
	targ(e, dy); targ(e, x); targ(e, w); targ(e, dx); targ(e, dw); targ(e, db);
	iarg(e, 0, stride); iarg(e, 1, pad); iarg(e, 2, dil);
	for (int i = 0; i < 3; i++) e->mask[i] = mask->v[i];
	return done1("aclnnConvolutionBackwardGetWorkspaceSize", e, ex, cube);
}
aclnnStatus aclnnMmGetWorkspaceSize(const aclTensor *a, const aclTensor *b, aclTensor *out, int8_t cube,
		uint64_t *ws, aclOpExecutor **ex) {
	NEED(a->nd == 2 && b->nd == 2 && out->nd == 2 && a->dims[1] == b->dims[0] && out->dims[0] == a->dims[0] && out->dims[1] == b->dims[1]);
	aclOpExecutor *e = newex(OP_MM, ws, ex);
	targ(e, a); targ(e, b); targ(e, out);
	return done1("aclnnMmGetWorkspaceSize", e, ex, cube);
}
aclnnStatus aclnnInplaceAddmmGetWorkspaceSize(const aclTensor *c, const aclTensor *a, const aclTensor *b,
		const aclScalar *beta, const aclScalar *alpha, int8_t cube, uint64_t *ws, aclOpExecutor **ex) {
	NEED(a->nd == 2 && b->nd == 2 && c->nd == 2 && a->dims[1] == b->dims[0] && c->dims[0] == a->dims[0] && c->dims[1] == b->dims[1]);
	aclOpExecutor *e = newex(OP_ADDMM, ws, ex);
	targ(e, a); targ(e, b); targ(e, c);
	e->s[0] = beta->v; e->s[1] = alpha->v;
	return done1("aclnnInplaceAddmmGetWorkspaceSize", e, ex, cube);
}
static aclnnStatus unary(int op, const char *name, const aclTensor *a, const aclTensor *b, const aclTensor *c,
		uint64_t *ws, aclOpExecutor **ex) {
	NEED(contig(a) && (!b || contig(b)) && (!c || contig(c)));
	aclOpExecutor *e = newex(op, ws, ex);
	targ(e, a); if (b) targ(e, b); if (c) targ(e, c);
	return done1(name, e, ex, 0);
}
aclnnStatus aclnnReluGetWorkspaceSize(const aclTensor *x, aclTensor *y, uint64_t *ws, aclOpExecutor **ex) {
	NEED(numel(x) == numel(y));
	return unary(OP_RELU, "aclnnReluGetWorkspaceSize", x, y, NULL, ws, ex);
}
aclnnStatus aclnnInplaceReluGetWorkspaceSize(aclTensor *x, uint64_t *ws, aclOpExecutor **ex) {
	return unary(OP_IRELU, "aclnnInplaceReluGetWorkspaceSize", x, NULL, NULL, ws, ex);
}
aclnnStatus aclnnThresholdBackwardGetWorkspaceSize(const aclTensor *dy, const aclTensor *x, const aclScalar *thr,
		aclTensor *dx, uint64_t *ws, aclOpExecutor **ex) {
	NEED(numel(dy) == numel(x) && numel(x) == numel(dx));
	aclnnStatus st = unary(OP_THRBWD, "aclnnThresholdBackwardGetWorkspaceSize", dy, x, dx, ws, ex);
	if (st == 0) (*ex)->s[0] = thr->v;
	return st;
}
static aclnnStatus poolargs(aclOpExecutor *e, const aclIntArray *k, const aclIntArray *s, const aclIntArray *p,
		const aclIntArray *d, bool ceil) {
	iarg(e, 0, s); iarg(e, 1, p); iarg(e, 2, d); iarg(e, 3, k);
	return (ceil || k->n != 2 || s->n != 2 || p->v[0] || p->v[1] || d->v[0] != 1 || d->v[1] != 1) ? BAD : 0;
}
aclnnStatus aclnnMaxPool2dWithIndicesGetWorkspaceSize(const aclTensor *x, const aclIntArray *k, const aclIntArray *s,
		const aclIntArray *p, const aclIntArray *d, bool ceil, aclTensor *y, aclTensor *idx, uint64_t *ws, aclOpExecutor **ex) {
	NEED(x->nd == 4 && y->nd == 4 && idx->dt == ACL_INT32 && contig(x) && contig(y) && contig(idx));
	aclOpExecutor *e = newex(OP_POOL, ws, ex);
	targ(e, x); targ(e, y); targ(e, idx);
	record("aclnnMaxPool2dWithIndicesGetWorkspaceSize", e, 0);
	return poolargs(e, k, s, p, d, ceil);
}
aclnnStatus aclnnMaxPool2dWithIndicesBackwardGetWorkspaceSize(const aclTensor *dy, const aclTensor *x, const aclTensor *idx,
		const aclIntArray *k, const aclIntArray *s, const aclIntArray *p, const aclIntArray *d, bool ceil,
		aclTensor *dx, uint64_t *ws, aclOpExecutor **ex) {
	NEED(dy->nd == 4 && x->nd == 4 && dx->nd == 4 && idx->dt == ACL_INT32 && numel(x) == numel(dx));
	aclOpExecutor *e = newex(OP_POOLBWD, ws, ex);
	targ(e, dy); targ(e, x); targ(e, idx); targ(e, dx);
	record("aclnnMaxPool2dWithIndicesBackwardGetWorkspaceSize", e, 0);
	return poolargs(e, k, s, p, d, ceil);
}
aclnnStatus aclnnSoftmaxGetWorkspaceSize(const aclTensor *x, int64_t dim, aclTensor *y, uint64_t *ws, aclOpExecutor **ex) {
	NEED(dim >= 0 && dim < x->nd && numel(x) == numel(y));
	aclnnStatus st = unary(OP_SOFTMAX, "aclnnSoftmaxGetWorkspaceSize", x, y, NULL, ws, ex);
	if (st == 0) (*ex)->dim = dim;
	return st;
}
aclnnStatus aclnnSoftmaxBackwardGetWorkspaceSize(const aclTensor *dy, const aclTensor *y, int64_t dim, aclTensor *dx,
		uint64_t *ws, aclOpExecutor **ex) {
	NEED(dim >= 0 && dim < y->nd);
	aclnnStatus st = unary(OP_SOFTMAXBWD, "aclnnSoftmaxBackwardGetWorkspaceSize", dy, y, dx, ws, ex);
	if (st == 0) (*ex)->dim = dim;
	return st;
}
aclnnStatus aclnnBatchNormGetWorkspaceSize(const aclTensor *x, const aclTensor *g, const aclTensor *b, aclTensor *rm,
		aclTensor *rv, bool training, double momentum, double eps, aclTensor *y, aclTensor *sm, aclTensor *si,
		uint64_t *ws, aclOpExecutor **ex) {
	(void)momentum;
	NEED(training && !rm && !rv && x->nd >= 2 && contig(x) && contig(y));
	aclOpExecutor *e = newex(OP_BN, ws, ex);
	targ(e, x); targ(e, g); targ(e, b); targ(e, y); targ(e, sm); targ(e, si);
	e->eps = eps;
	return done1("aclnnBatchNormGetWorkspaceSize", e, ex, 0);
}
aclnnStatus aclnnBatchNormBackwardGetWorkspaceSize(const aclTensor *dy, const aclTensor *x, const aclTensor *g,
		const aclTensor *rm, const aclTensor *rv, const aclTensor *sm, const aclTensor *si, bool training, double eps,
		const aclBoolArray *mask, aclTensor *dx, aclTensor *dg, aclTensor *db, uint64_t *ws, aclOpExecutor **ex) {
	NEED(mask && mask->n == 3 && (!mask->v[0] || dx) && dg && db && (training || (rm && rv)));
	aclOpExecutor *e = newex(OP_BNBWD, ws, ex);
	targ(e, dy); targ(e, x); targ(e, g); targ(e, rm); targ(e, rv); targ(e, sm); targ(e, si);
	targ(e, dx); // t[7]; dg, db kept in a/eps slots below
	e->flag = training; e->eps = eps;
	for (int i = 0; i < 3; i++) e->mask[i] = mask->v[i];
	e->a[0][0] = (int64_t)(uintptr_t)dg; e->a[0][1] = (int64_t)(uintptr_t)db;
	return done1("aclnnBatchNormBackwardGetWorkspaceSize", e, ex, 0);
}
aclnnStatus aclnnMulGetWorkspaceSize(const aclTensor *a, const aclTensor *b, aclTensor *out, uint64_t *ws, aclOpExecutor **ex) {
	NEED(a->nd == out->nd && b->nd == out->nd);
	aclOpExecutor *e = newex(OP_MUL, ws, ex);
	targ(e, a); targ(e, b); targ(e, out);
	return done1("aclnnMulGetWorkspaceSize", e, ex, 0);
}
aclnnStatus aclnnInplaceAddGetWorkspaceSize(const aclTensor *a, const aclTensor *b, const aclScalar *alpha,
		uint64_t *ws, aclOpExecutor **ex) {
	NEED(a->nd == b->nd);
	aclOpExecutor *e = newex(OP_IADD, ws, ex);
	targ(e, a); targ(e, b);
	e->s[0] = alpha->v;
	return done1("aclnnInplaceAddGetWorkspaceSize", e, ex, 0);
}

aclnnStatus aclnnReduceSumGetWorkspaceSize(const aclTensor *x, const aclIntArray *dims, bool keep, aclDataType dt,
		aclTensor *out, uint64_t *ws, aclOpExecutor **ex) {
	// What the backend uses: a row-major 2-D x summed over dimension 0 into a float out.
	NEED(x->nd == 2 && contig(x) && contig(out) && dims && dims->n == 1 && dims->v[0] == 0 && !keep &&
		dt == ACL_FLOAT && numel(out) == x->dims[1]);
	aclOpExecutor *e = newex(OP_RSUM, ws, ex);
	targ(e, x); targ(e, out);
	return done1("aclnnReduceSumGetWorkspaceSize", e, ex, 0);
}

static int celabels(const aclTensor *x, const aclTensor *t) {
	return x->nd == 2 && contig(x) && x->dt == ACL_FLOAT && t->nd == 1 && t->dims[0] == x->dims[0] &&
		(t->dt == ACL_INT64 || t->dt == ACL_INT32);
}
aclnnStatus aclnnCrossEntropyLossGetWorkspaceSize(const aclTensor *x, const aclTensor *t, const aclTensor *w,
		char *red, int64_t ignore, double smooth, double zscale, bool retz, const aclTensor *loss,
		const aclTensor *logp, const aclTensor *zloss, const aclTensor *lse, uint64_t *ws, aclOpExecutor **ex) {
	NEED(x && t && loss && logp && zloss && lse); // zloss outputs are required even when unused
	NEED(celabels(x, t) && !w && red && strcmp(red, "mean") == 0 && zscale == 0 && !retz && smooth >= 0 && smooth <= 1);
	NEED(numel(loss) == 1 && numel(logp) == numel(x) && contig(logp) && numel(lse) == x->dims[0]);
	aclOpExecutor *e = newex(OP_CE, ws, ex);
	targ(e, x); targ(e, t); targ(e, loss); targ(e, logp);
	e->s[0] = smooth; e->dim = ignore;
	return done1("aclnnCrossEntropyLossGetWorkspaceSize", e, ex, 0);
}
aclnnStatus aclnnCrossEntropyLossGradGetWorkspaceSize(const aclTensor *g, const aclTensor *logp, const aclTensor *t,
		const aclTensor *w, const aclTensor *gz, const aclTensor *lse, char *red, int64_t ignore, double smooth,
		double zscale, const aclTensor *out, uint64_t *ws, aclOpExecutor **ex) {
	NEED(g && logp && t && out && !w && !gz && !lse && red && strcmp(red, "mean") == 0 && zscale == 0);
	NEED(celabels(logp, t) && numel(g) == 1 && numel(out) == numel(logp) && contig(out));
	aclOpExecutor *e = newex(OP_CEGRAD, ws, ex);
	targ(e, g); targ(e, logp); targ(e, t); targ(e, out);
	e->s[0] = smooth; e->dim = ignore;
	return done1("aclnnCrossEntropyLossGradGetWorkspaceSize", e, ex, 0);
}

// ---- phase 2: reference arithmetic ----
static void conv(aclOpExecutor *e) {
	const aclTensor *x = e->t[0], *w = e->t[1], *b = e->t[2], *y = e->t[3];
	int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], K = w->dims[0], R = w->dims[2], S = w->dims[3];
	int64_t OH = y->dims[2], OW = y->dims[3];
	float *xp = F(x), *wp = F(w), *bp = F(b), *yp = F(y);
	for (int64_t n = 0; n < N; n++) for (int64_t k = 0; k < K; k++) for (int64_t i = 0; i < OH; i++) for (int64_t j = 0; j < OW; j++) {
		double s = bp ? bp[k] : 0;
		for (int64_t c = 0; c < C; c++) for (int64_t r = 0; r < R; r++) for (int64_t q = 0; q < S; q++) {
			int64_t h = i * e->a[0][0] - e->a[1][0] + r * e->a[2][0], v = j * e->a[0][1] - e->a[1][1] + q * e->a[2][1];
			if (h >= 0 && h < H && v >= 0 && v < W) s += (double)xp[((n * C + c) * H + h) * W + v] * wp[((k * C + c) * R + r) * S + q];
		}
		yp[((n * K + k) * OH + i) * OW + j] = (float)s;
	}
}
static void convbwd(aclOpExecutor *e) {
	const aclTensor *dy = e->t[0], *x = e->t[1], *w = e->t[2], *dx = e->t[3], *dw = e->t[4], *db = e->t[5];
	int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], K = w->dims[0], R = w->dims[2], S = w->dims[3];
	int64_t OH = dy->dims[2], OW = dy->dims[3];
	float *dyp = F(dy), *xp = F(x), *wp = F(w);
	double *gx = e->mask[0] ? calloc(N * C * H * W, 8) : NULL, *gw = e->mask[1] ? calloc(K * C * R * S, 8) : NULL;
	for (int64_t n = 0; n < N; n++) for (int64_t k = 0; k < K; k++) for (int64_t i = 0; i < OH; i++) for (int64_t j = 0; j < OW; j++) {
		double g = dyp[((n * K + k) * OH + i) * OW + j];
		for (int64_t c = 0; c < C; c++) for (int64_t r = 0; r < R; r++) for (int64_t q = 0; q < S; q++) {
			int64_t h = i * e->a[0][0] - e->a[1][0] + r * e->a[2][0], v = j * e->a[0][1] - e->a[1][1] + q * e->a[2][1];
			if (h < 0 || h >= H || v < 0 || v >= W) continue;
			if (gx) gx[((n * C + c) * H + h) * W + v] += g * wp[((k * C + c) * R + r) * S + q];
			if (gw) gw[((k * C + c) * R + r) * S + q] += g * xp[((n * C + c) * H + h) * W + v];
		}
	}
	if (gx) { for (int64_t i = 0; i < N * C * H * W; i++) F(dx)[i] = (float)gx[i]; free(gx); }
	if (gw) { for (int64_t i = 0; i < K * C * R * S; i++) F(dw)[i] = (float)gw[i]; free(gw); }
	if (e->mask[2]) for (int64_t k = 0; k < K; k++) {
		double s = 0;
		for (int64_t n = 0; n < N; n++) for (int64_t i = 0; i < OH * OW; i++) s += dyp[(n * K + k) * OH * OW + i];
		F(db)[k] = (float)s;
	}
}
static void mm(aclOpExecutor *e, int add) {
	const aclTensor *a = e->t[0], *b = e->t[1], *c = e->t[2];
	int64_t M = a->dims[0], K = a->dims[1], N = b->dims[1];
	for (int64_t i = 0; i < M; i++) for (int64_t j = 0; j < N; j++) {
		double s = 0;
		for (int64_t k = 0; k < K; k++) s += (double)F(a)[i * a->strides[0] + k * a->strides[1]] * F(b)[k * b->strides[0] + j * b->strides[1]];
		float *cp = &F(c)[i * c->strides[0] + j * c->strides[1]];
		*cp = add ? (float)(e->s[0] * *cp + e->s[1] * s) : (float)s;
	}
}
// bcast computes out = f(a, b) elementwise with size-1 dimensions of a and b broadcast.
static void bcast(const aclTensor *a, const aclTensor *b, const aclTensor *o, int add, double alpha) {
	int64_t n = numel(o), idx[8] = {0};
	for (int64_t l = 0; l < n; l++) {
		int64_t ia = 0, ib = 0, io = 0;
		for (int d = 0; d < o->nd; d++) {
			ia += a->dims[d] == 1 ? 0 : idx[d] * a->strides[d];
			ib += b->dims[d] == 1 ? 0 : idx[d] * b->strides[d];
			io += idx[d] * o->strides[d];
		}
		F(o)[io] = add ? (float)(F(a)[ia] + alpha * F(b)[ib]) : F(a)[ia] * F(b)[ib];
		for (int d = o->nd - 1; d >= 0 && ++idx[d] == o->dims[d]; d--) idx[d] = 0;
	}
}
static void pool(aclOpExecutor *e) {
	const aclTensor *x = e->t[0], *y = e->t[1], *ix = e->t[2];
	int64_t P = x->dims[0] * x->dims[1], H = x->dims[2], W = x->dims[3], OH = y->dims[2], OW = y->dims[3];
	int64_t k = e->a[3][0], s = e->a[0][0];
	for (int64_t p = 0; p < P; p++) for (int64_t i = 0; i < OH; i++) for (int64_t j = 0; j < OW; j++) {
		const float *xp = F(x) + p * H * W;
		int64_t best = i * s * W + j * s;
		for (int64_t r = i * s; r < i * s + k; r++) for (int64_t c = j * s; c < j * s + k; c++) {
			float v = xp[r * W + c];
			if (v > xp[best] || v != v) best = r * W + c;
		}
		F(y)[(p * OH + i) * OW + j] = xp[best];
		((int32_t *)F(ix))[(p * OH + i) * OW + j] = (int32_t)best;
	}
}
static void poolbwd(aclOpExecutor *e) {
	const aclTensor *dy = e->t[0], *ix = e->t[2], *dx = e->t[3];
	int64_t P = dx->dims[0] * dx->dims[1], HW = dx->dims[2] * dx->dims[3], O = dy->dims[2] * dy->dims[3];
	memset(F(dx), 0, P * HW * 4);
	for (int64_t p = 0; p < P; p++) for (int64_t o = 0; o < O; o++)
		F(dx)[p * HW + ((int32_t *)F(ix))[p * O + o]] += F(dy)[p * O + o];
}
static void softmax(aclOpExecutor *e, int bwd) {
	const aclTensor *a = e->t[0], *b = e->t[1], *o = bwd ? e->t[2] : e->t[1];
	int64_t outer = 1, inner = 1, c = a->dims[e->dim];
	for (int d = 0; d < e->dim; d++) outer *= a->dims[d];
	for (int d = e->dim + 1; d < a->nd; d++) inner *= a->dims[d];
	for (int64_t u = 0; u < outer; u++) for (int64_t v = 0; v < inner; v++) {
		int64_t base = u * c * inner + v;
		double m = -INFINITY, s = 0;
		if (bwd) { // a = dy, b = y
			for (int64_t k = 0; k < c; k++) s += (double)F(a)[base + k * inner] * F(b)[base + k * inner];
			for (int64_t k = 0; k < c; k++) F(o)[base + k * inner] = (float)(F(b)[base + k * inner] * (F(a)[base + k * inner] - s));
			continue;
		}
		for (int64_t k = 0; k < c; k++) m = fmax(m, F(a)[base + k * inner]);
		for (int64_t k = 0; k < c; k++) s += exp(F(a)[base + k * inner] - m);
		for (int64_t k = 0; k < c; k++) F(o)[base + k * inner] = (float)(exp(F(a)[base + k * inner] - m) / s);
	}
}
static void bn(aclOpExecutor *e) {
	const aclTensor *x = e->t[0], *y = e->t[3];
	int64_t N = x->dims[0], C = x->dims[1], HW = numel(x) / (N * C);
	for (int64_t c = 0; c < C; c++) {
		double s = 0, q = 0, cnt = (double)(N * HW);
		for (int64_t n = 0; n < N; n++) for (int64_t i = 0; i < HW; i++) { double v = F(x)[(n * C + c) * HW + i]; s += v; q += v * v; }
		double mu = s / cnt, var = fmax(q / cnt - mu * mu, 0), is = 1 / sqrt(var + e->eps);
		F(e->t[4])[c] = (float)mu; F(e->t[5])[c] = (float)is;
		for (int64_t n = 0; n < N; n++) for (int64_t i = 0; i < HW; i++) {
			int64_t at = (n * C + c) * HW + i;
			F(y)[at] = (float)((F(x)[at] - mu) * is * F(e->t[1])[c] + F(e->t[2])[c]);
		}
	}
}
static void bnbwd(aclOpExecutor *e) {
	const aclTensor *dy = e->t[0], *x = e->t[1], *g = e->t[2], *dx = e->t[7];
	aclTensor *dg = (aclTensor *)(uintptr_t)e->a[0][0], *db = (aclTensor *)(uintptr_t)e->a[0][1];
	int64_t N = x->dims[0], C = x->dims[1], HW = numel(x) / (N * C);
	double cnt = (double)(N * HW);
	for (int64_t c = 0; c < C; c++) {
		double mu = e->flag ? F(e->t[5])[c] : F(e->t[3])[c];
		double is = e->flag ? F(e->t[6])[c] : 1 / sqrt(F(e->t[4])[c] + e->eps);
		double sdy = 0, sdyxh = 0;
		for (int64_t n = 0; n < N; n++) for (int64_t i = 0; i < HW; i++) {
			int64_t at = (n * C + c) * HW + i;
			sdy += F(dy)[at]; sdyxh += F(dy)[at] * (F(x)[at] - mu) * is;
		}
		F(dg)[c] = (float)sdyxh; F(db)[c] = (float)sdy;
		if (!e->mask[0]) continue;
		for (int64_t n = 0; n < N; n++) for (int64_t i = 0; i < HW; i++) {
			int64_t at = (n * C + c) * HW + i;
			double d = F(dy)[at];
			if (e->flag) d -= sdy / cnt + (F(x)[at] - mu) * is * sdyxh / cnt;
			F(dx)[at] = (float)(F(g)[c] * is * d);
		}
	}
}
static int64_t label(const aclTensor *t, int64_t i) {
	return t->dt == ACL_INT64 ? ((int64_t *)F(t))[i] : ((int32_t *)F(t))[i];
}
// ce: the mean over non-ignored rows of −Σ_c q·logp with q = (1−ε)·onehot + ε/C,
// and logp; cegrad: g·(exp(logp) − q)/rows.
static void ce(aclOpExecutor *e, int grad) {
	const aclTensor *t = e->t[grad ? 2 : 1], *lp = grad ? e->t[1] : e->t[3];
	int64_t N = lp->dims[0], C = lp->dims[1], valid = 0;
	double eps = e->s[0], sum = 0;
	for (int64_t n = 0; n < N; n++) valid += label(t, n) != e->dim;
	for (int64_t n = 0; n < N; n++) {
		int64_t y = label(t, n);
		float *row = F(lp) + n * C;
		if (!grad) {
			const float *x = F(e->t[0]) + n * C;
			double m = -INFINITY, s = 0;
			for (int64_t c = 0; c < C; c++) m = fmax(m, x[c]);
			for (int64_t c = 0; c < C; c++) s += exp(x[c] - m);
			double lse = m + log(s), all = 0;
			for (int64_t c = 0; c < C; c++) { row[c] = (float)(x[c] - lse); all += x[c] - lse; }
			if (y != e->dim) sum -= (1 - eps) * (x[y] - lse) + eps * all / C;
			continue;
		}
		float *o = F(e->t[3]) + n * C;
		double g = F(e->t[0])[0] / (double)valid;
		for (int64_t c = 0; c < C; c++)
			o[c] = y == e->dim ? 0 : (float)(g * (exp(row[c]) - (1 - eps) * (c == y) - eps / C));
	}
	if (!grad) F(e->t[2])[0] = (float)(sum / (double)valid);
}
static aclnnStatus run(const char *name, int op, void *ws, uint64_t wsSize, aclOpExecutor *e, aclrtStream s) {
	(void)s;
	if (e == NULL || e->op != op) return BAD;
	if (e->runs > 0 && !e->repeatable) return 361001; // the two-phase rule
	if (wsSize < 64 * (uint64_t)(op + 1) || ws == NULL) return BAD;
	e->runs++;
	record(name, e, 0);
	switch (op) {
	case OP_CONV: conv(e); break;
	case OP_CONVBWD: convbwd(e); break;
	case OP_MM: mm(e, 0); break;
	case OP_ADDMM: mm(e, 1); break;
	case OP_RELU: case OP_IRELU: {
		const aclTensor *x = e->t[0], *y = op == OP_RELU ? e->t[1] : e->t[0];
		for (int64_t i = 0; i < numel(x); i++) { float v = F(x)[i]; F(y)[i] = (v > 0 || v != v) ? v : 0; }
		break;
	}
	case OP_THRBWD:
		for (int64_t i = 0; i < numel(e->t[0]); i++) { float v = F(e->t[1])[i]; F(e->t[2])[i] = (v > e->s[0] || v != v) ? F(e->t[0])[i] : 0; }
		break;
	case OP_POOL: pool(e); break;
	case OP_POOLBWD: poolbwd(e); break;
	case OP_SOFTMAX: softmax(e, 0); break;
	case OP_SOFTMAXBWD: softmax(e, 1); break;
	case OP_BN: bn(e); break;
	case OP_BNBWD: bnbwd(e); break;
	case OP_MUL: bcast(e->t[0], e->t[1], e->t[2], 0, 0); break;
	case OP_IADD: bcast(e->t[0], e->t[1], e->t[0], 1, e->s[0]); break;
	case OP_CE: ce(e, 0); break;
	case OP_CEGRAD: ce(e, 1); break;
	case OP_RSUM: {
		const aclTensor *x = e->t[0];
		for (int64_t j = 0; j < x->dims[1]; j++) {
			double s = 0;
			for (int64_t i = 0; i < x->dims[0]; i++) s += F(x)[i * x->dims[1] + j];
			F(e->t[1])[j] = (float)s;
		}
		break;
	}
	}
	return 0;
}
#define RUN(fn, op) aclnnStatus fn(void *ws, uint64_t n, aclOpExecutor *e, aclrtStream s) { return run(#fn, op, ws, n, e, s); }
RUN(aclnnConvolution, OP_CONV)
RUN(aclnnConvolutionBackward, OP_CONVBWD)
RUN(aclnnMm, OP_MM)
RUN(aclnnInplaceAddmm, OP_ADDMM)
RUN(aclnnRelu, OP_RELU)
RUN(aclnnInplaceRelu, OP_IRELU)
RUN(aclnnThresholdBackward, OP_THRBWD)
RUN(aclnnMaxPool2dWithIndices, OP_POOL)
RUN(aclnnMaxPool2dWithIndicesBackward, OP_POOLBWD)
RUN(aclnnSoftmax, OP_SOFTMAX)
RUN(aclnnSoftmaxBackward, OP_SOFTMAXBWD)
RUN(aclnnBatchNorm, OP_BN)
RUN(aclnnBatchNormBackward, OP_BNBWD)
RUN(aclnnMul, OP_MUL)
RUN(aclnnInplaceAdd, OP_IADD)
RUN(aclnnReduceSum, OP_RSUM)
RUN(aclnnCrossEntropyLoss, OP_CE)
RUN(aclnnCrossEntropyLossGrad, OP_CEGRAD)
