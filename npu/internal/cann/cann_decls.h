/*
 * cann_decls.h — the subset of AscendCL and the aclnn operator API that govgg's
 * npu package calls, declared by the project in plain C.
 *
 * Pinned to CANN 8.0.0 (the release MindCV's VGG results were measured with on
 * Atlas 800T A2). Written from the public API documentation, not copied from CANN's
 * headers: CANN's aclnn/acl_meta.h is C++-only in some releases (<cstdint>,
 * constexpr), and cgo compiles its preamble as C.
 *
 * Sources of each declaration (CANN 8.0.0 "AscendCL API reference" and "aclnn API
 * reference"; the same prototypes as the hicann/ops-nn operator docs):
 *   runtime ........ acl/acl.h, acl/acl_rt.h, acl/acl_base.h (enum values as in acl_base.h)
 *   tensors ........ aclnn/acl_meta.h: aclCreateTensor/IntArray/BoolArray/Scalar, aclDestroy*
 *   executors ...... aclnn/aclnn_base.h (aclnn/opdev): aclSetAclOpExecutorRepeatable,
 *                    aclDestroyAclOpExecutor
 *   operators ...... aclnnop/aclnn_convolution.h, aclnn_convolution_backward.h, aclnn_mm.h,
 *                    aclnn_addmm.h, aclnn_relu.h, aclnn_threshold_backward.h,
 *                    aclnn_max_pool2d_with_indices.h, aclnn_max_pool2d_with_indices_backward.h,
 *                    aclnn_softmax.h, aclnn_softmax_backward.h, aclnn_batch_norm.h,
 *                    aclnn_batch_norm_backward.h, aclnn_mul.h, aclnn_add.h,
 *                    aclnn_reduce_sum.h (the "aclnnReduceSum" page),
 *                    aclnn_cross_entropy_loss.h, aclnn_cross_entropy_loss_grad.h
 *
 * API drift is real (older releases lack cubeMathType on aclnnConvolution): on a
 * machine with CANN, conformance/conformance.cc includes CANN's own headers and then
 * this one with GOVGG_CANN_CONFORMANCE defined (types from CANN, functions from here),
 * so any prototype that differs is a compile error; see that file for the command.
 * Only the types this package needs are declared; all handles are opaque.
 */
#ifndef GOVGG_CANN_DECLS_H
#define GOVGG_CANN_DECLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef GOVGG_CANN_CONFORMANCE /* types: from here, or from CANN's headers */

/* ---- acl_base.h ---- */
typedef int aclError;
typedef int32_t aclnnStatus;
#define ACL_SUCCESS 0

typedef enum {
	ACL_FLOAT = 0,
	ACL_FLOAT16 = 1,
	ACL_INT32 = 3,
	ACL_INT64 = 9,
	ACL_BOOL = 12,
} aclDataType;

typedef enum {
	ACL_FORMAT_NCHW = 0,
	ACL_FORMAT_NHWC = 1,
	ACL_FORMAT_ND = 2,
} aclFormat;

typedef void *aclrtStream;
typedef void *aclrtContext;

/* ---- acl_rt.h ---- */
typedef enum {
	ACL_MEM_MALLOC_HUGE_FIRST = 0,
} aclrtMemMallocPolicy;

typedef enum {
	ACL_MEMCPY_HOST_TO_HOST = 0,
	ACL_MEMCPY_HOST_TO_DEVICE = 1,
	ACL_MEMCPY_DEVICE_TO_HOST = 2,
	ACL_MEMCPY_DEVICE_TO_DEVICE = 3,
} aclrtMemcpyKind;

#endif /* GOVGG_CANN_CONFORMANCE */

aclError aclInit(const char *configPath);
aclError aclFinalize(void);
aclError aclrtSetDevice(int32_t deviceId);
aclError aclrtResetDevice(int32_t deviceId);
aclError aclrtGetDeviceCount(uint32_t *count);
aclError aclrtGetCurrentContext(aclrtContext *context);
aclError aclrtSetCurrentContext(aclrtContext context);
aclError aclrtCreateStream(aclrtStream *stream);
aclError aclrtDestroyStream(aclrtStream stream);
aclError aclrtSynchronizeStream(aclrtStream stream);
aclError aclrtMalloc(void **devPtr, size_t size, aclrtMemMallocPolicy policy);
aclError aclrtFree(void *devPtr);
aclError aclrtMemcpy(void *dst, size_t destMax, const void *src, size_t count, aclrtMemcpyKind kind);
const char *aclGetRecentErrMsg(void);

/* ---- acl_meta.h ---- */
#ifndef GOVGG_CANN_CONFORMANCE
typedef struct aclTensor aclTensor;
typedef struct aclIntArray aclIntArray;
typedef struct aclBoolArray aclBoolArray;
typedef struct aclScalar aclScalar;
typedef struct aclOpExecutor aclOpExecutor;
#endif

aclTensor *aclCreateTensor(const int64_t *viewDims, uint64_t viewDimsNum, aclDataType dataType,
                           const int64_t *stride, int64_t offset, aclFormat format,
                           const int64_t *storageDims, uint64_t storageDimsNum, void *tensorData);
aclIntArray *aclCreateIntArray(const int64_t *value, uint64_t size);
aclBoolArray *aclCreateBoolArray(const bool *value, uint64_t size);
aclScalar *aclCreateScalar(void *value, aclDataType dataType);
aclnnStatus aclDestroyTensor(const aclTensor *tensor);
aclnnStatus aclDestroyIntArray(const aclIntArray *array);
aclnnStatus aclDestroyBoolArray(const aclBoolArray *array);
aclnnStatus aclDestroyScalar(const aclScalar *scalar);

/* ---- aclnn_base.h: repeatable executors ---- */
aclnnStatus aclSetAclOpExecutorRepeatable(aclOpExecutor *executor);
aclnnStatus aclDestroyAclOpExecutor(aclOpExecutor *executor);

/* ---- operators: phase 1 (GetWorkspaceSize) and phase 2 (run) ---- */
#define GOVGG_ACLNN_RUN(name) \
	aclnnStatus name(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream)

aclnnStatus aclnnConvolutionGetWorkspaceSize(const aclTensor *input, const aclTensor *weight,
	const aclTensor *bias, const aclIntArray *stride, const aclIntArray *padding,
	const aclIntArray *dilation, bool transposed, const aclIntArray *outputPadding,
	int64_t groups, aclTensor *output, int8_t cubeMathType, uint64_t *workspaceSize,
	aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnConvolution);

aclnnStatus aclnnConvolutionBackwardGetWorkspaceSize(const aclTensor *gradOutput,
	const aclTensor *input, const aclTensor *weight, const aclIntArray *biasSizes,
	const aclIntArray *stride, const aclIntArray *padding, const aclIntArray *dilation,
	bool transposed, const aclIntArray *outputPadding, int groups,
	const aclBoolArray *outputMask, int8_t cubeMathType, aclTensor *gradInput,
	aclTensor *gradWeight, aclTensor *gradBias, uint64_t *workspaceSize,
	aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnConvolutionBackward);

aclnnStatus aclnnMmGetWorkspaceSize(const aclTensor *self, const aclTensor *mat2, aclTensor *out,
	int8_t cubeMathType, uint64_t *workspaceSize, aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnMm);

aclnnStatus aclnnInplaceAddmmGetWorkspaceSize(const aclTensor *selfRef, const aclTensor *mat1,
	const aclTensor *mat2, const aclScalar *beta, const aclScalar *alpha, int8_t cubeMathType,
	uint64_t *workspaceSize, aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnInplaceAddmm);

aclnnStatus aclnnReluGetWorkspaceSize(const aclTensor *self, aclTensor *out,
	uint64_t *workspaceSize, aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnRelu);

aclnnStatus aclnnInplaceReluGetWorkspaceSize(aclTensor *selfRef, uint64_t *workspaceSize,
	aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnInplaceRelu);

aclnnStatus aclnnThresholdBackwardGetWorkspaceSize(const aclTensor *gradOutput,
	const aclTensor *self, const aclScalar *threshold, aclTensor *out,
	uint64_t *workspaceSize, aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnThresholdBackward);

aclnnStatus aclnnMaxPool2dWithIndicesGetWorkspaceSize(const aclTensor *self,
	const aclIntArray *kernelSize, const aclIntArray *stride, const aclIntArray *padding,
	const aclIntArray *dilation, bool ceilMode, aclTensor *out, aclTensor *indices,
	uint64_t *workspaceSize, aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnMaxPool2dWithIndices);

aclnnStatus aclnnMaxPool2dWithIndicesBackwardGetWorkspaceSize(const aclTensor *gradOutput,
	const aclTensor *self, const aclTensor *indices, const aclIntArray *kernelSize,
	const aclIntArray *stride, const aclIntArray *padding, const aclIntArray *dilation,
	bool ceilMode, aclTensor *gradInput, uint64_t *workspaceSize, aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnMaxPool2dWithIndicesBackward);

aclnnStatus aclnnSoftmaxGetWorkspaceSize(const aclTensor *self, int64_t dim, aclTensor *out,
	uint64_t *workspaceSize, aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnSoftmax);

aclnnStatus aclnnSoftmaxBackwardGetWorkspaceSize(const aclTensor *gradOutput,
	const aclTensor *output, int64_t dim, aclTensor *out, uint64_t *workspaceSize,
	aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnSoftmaxBackward);

aclnnStatus aclnnBatchNormGetWorkspaceSize(const aclTensor *input, const aclTensor *weight,
	const aclTensor *bias, aclTensor *runningMean, aclTensor *runningVar, bool training,
	double momentum, double eps, aclTensor *output, aclTensor *saveMean, aclTensor *saveInvstd,
	uint64_t *workspaceSize, aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnBatchNorm);

aclnnStatus aclnnBatchNormBackwardGetWorkspaceSize(const aclTensor *gradOut,
	const aclTensor *input, const aclTensor *weight, const aclTensor *runningMean,
	const aclTensor *runningVar, const aclTensor *saveMean, const aclTensor *saveInvstd,
	bool training, double eps, const aclBoolArray *outputMask, aclTensor *gradInput,
	aclTensor *gradWeight, aclTensor *gradBias, uint64_t *workspaceSize,
	aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnBatchNormBackward);

aclnnStatus aclnnMulGetWorkspaceSize(const aclTensor *self, const aclTensor *other, aclTensor *out,
	uint64_t *workspaceSize, aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnMul);

aclnnStatus aclnnInplaceAddGetWorkspaceSize(const aclTensor *selfRef, const aclTensor *other,
	const aclScalar *alpha, uint64_t *workspaceSize, aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnInplaceAdd);

aclnnStatus aclnnReduceSumGetWorkspaceSize(const aclTensor *self, const aclIntArray *dims,
	bool keepDims, aclDataType dtype, aclTensor *out, uint64_t *workspaceSize,
	aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnReduceSum);

/* aclnnop/aclnn_cross_entropy_loss.h and aclnn_cross_entropy_loss_grad.h (the
 * "aclnnCrossEntropyLoss" and "aclnnCrossEntropyLossGrad" pages, Atlas A2/A3 only):
 * labelSmoothing and lseSquareScaleForZloss are double; zlossOut and lseForZlossOut
 * must be given even with returnZloss false; reductionOptional is "mean", "sum" or
 * "none"; target holds int32 or int64 class indices. */
aclnnStatus aclnnCrossEntropyLossGetWorkspaceSize(const aclTensor *input, const aclTensor *target,
	const aclTensor *weightOptional, char *reductionOptional, int64_t ignoreIndex,
	double labelSmoothing, double lseSquareScaleForZloss, bool returnZloss,
	const aclTensor *lossOut, const aclTensor *logProbOut, const aclTensor *zlossOut,
	const aclTensor *lseForZlossOut, uint64_t *workspaceSize, aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnCrossEntropyLoss);

aclnnStatus aclnnCrossEntropyLossGradGetWorkspaceSize(const aclTensor *gradLoss,
	const aclTensor *logProb, const aclTensor *target, const aclTensor *weightOptional,
	const aclTensor *gradZlossOptional, const aclTensor *lseForZlossOptional,
	char *reductionOptional, int64_t ignoreIndex, double labelSmoothing,
	double lseSquareScaleForZloss, const aclTensor *out, uint64_t *workspaceSize,
	aclOpExecutor **executor);
GOVGG_ACLNN_RUN(aclnnCrossEntropyLossGrad);

#undef GOVGG_ACLNN_RUN

#endif /* GOVGG_CANN_DECLS_H */
