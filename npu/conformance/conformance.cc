// conformance.cc checks, on a machine with CANN installed, that the project's
// declarations (internal/cann/cann_decls.h) agree with CANN's own headers: the types
// come from CANN, the function declarations from the project's header, and any
// prototype that differs is a "conflicting declaration of C function" error.
// It is not part of the Go build (no Go files here). Run, with ASCEND_TOOLKIT_HOME
// set by CANN's set_env.sh:
//
//	H=$ASCEND_TOOLKIT_HOME
//	g++ -std=c++17 -fsyntax-only -DGOVGG_CANN_CONFORMANCE -I$H/include -I$H/include/aclnn \
//	    -I$H/include/aclnnop -Inpu/internal/cann npu/conformance/conformance.cc
#include "acl/acl.h"
#include "aclnn/acl_meta.h"
#include "aclnnop/aclnn_add.h"
#include "aclnnop/aclnn_addmm.h"
#include "aclnnop/aclnn_batch_norm.h"
#include "aclnnop/aclnn_batch_norm_backward.h"
#include "aclnnop/aclnn_convolution.h"
#include "aclnnop/aclnn_convolution_backward.h"
#include "aclnnop/aclnn_cross_entropy_loss.h"
#include "aclnnop/aclnn_cross_entropy_loss_grad.h"
#include "aclnnop/aclnn_max_pool2d_with_indices.h"
#include "aclnnop/aclnn_max_pool2d_with_indices_backward.h"
#include "aclnnop/aclnn_mm.h"
#include "aclnnop/aclnn_mul.h"
#include "aclnnop/aclnn_reduce_sum.h"
#include "aclnnop/aclnn_relu.h"
#include "aclnnop/aclnn_softmax.h"
#include "aclnnop/aclnn_softmax_backward.h"
#include "aclnnop/aclnn_threshold_backward.h"

extern "C" {
#include "cann_decls.h"
}

// The enum values the Go side compiles in from cann_decls.h.
static_assert(ACL_SUCCESS == 0, "ACL_SUCCESS");
static_assert(ACL_FLOAT == 0 && ACL_FLOAT16 == 1 && ACL_INT32 == 3 && ACL_INT64 == 9 && ACL_BOOL == 12, "aclDataType");
static_assert(ACL_FORMAT_NCHW == 0 && ACL_FORMAT_NHWC == 1 && ACL_FORMAT_ND == 2, "aclFormat");
static_assert(ACL_MEM_MALLOC_HUGE_FIRST == 0, "aclrtMemMallocPolicy");
static_assert(ACL_MEMCPY_HOST_TO_DEVICE == 1 && ACL_MEMCPY_DEVICE_TO_HOST == 2, "aclrtMemcpyKind");
static_assert(sizeof(aclnnStatus) == 4 && sizeof(aclError) == sizeof(int), "status types");
