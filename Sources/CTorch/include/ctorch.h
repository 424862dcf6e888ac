/*
 * ctorch.h — the plain-C face of Loom's libtorch shim (implementation: ctorch.cpp).
 *
 * Conventions (shaped after tch-rs's torch_api.h and mlx-swift-lm's xgrammar_c.h):
 *  - Every call returns an int status: CTORCH_OK (0) or CTORCH_ERROR (-1). Results are written
 *    through out-parameters, and only when the call succeeds.
 *  - On CTORCH_ERROR, `*err` (when err is non-NULL) receives a malloc'ed NUL-terminated message with
 *    libtorch's text; the caller frees it with ctorch_free_string. No thread-local "last error":
 *    an error cannot be lost across an `await` or picked up by another caller.
 *  - Every body runs inside one exception boundary that catches std::exception and `...`; no C++
 *    exception crosses this header.
 *  - A handle (ctorch_tensor) is allocated only after everything else succeeded. The caller owns
 *    every handle a call returns and releases it with ctorch_tensor_free — the one way a handle dies.
 *    Handles passed *in* are borrowed: the callee never frees or keeps them.
 */
#ifndef CTORCH_H
#define CTORCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CTORCH_OK 0
#define CTORCH_ERROR (-1)

/* An owned reference to an at::Tensor. Opaque. */
typedef struct ctorch_tensor_s *ctorch_tensor;

/* Element types Loom uses. Values are Loom's own, not c10::ScalarType's. */
typedef enum {
    CTORCH_F32 = 0,
    CTORCH_BF16 = 1,
    CTORCH_F16 = 2,
    CTORCH_I64 = 3,
    CTORCH_U8 = 4,
    CTORCH_BOOL = 5,
    CTORCH_I32 = 6,
    CTORCH_I8 = 7,
    CTORCH_F64 = 8,
} ctorch_dtype;

/* Frees a message returned through an `err` out-parameter. NULL is ignored. */
void ctorch_free_string(char *message);

/* Library facts. `*out_version` is a static string owned by the shim: never free it. */
int ctorch_version(const char **out_version, char **err);
/* 1 when the linked libtorch was built with CUDA and a device is visible, else 0. */
int ctorch_cuda_is_available(int *out_available, char **err);
int ctorch_cuda_device_count(int *out_count, char **err);

/* Intra-op thread count (matmuls, elementwise kernels). */
int ctorch_set_num_threads(int threads, char **err);
int ctorch_get_num_threads(int *out_threads, char **err);

/* Seeds the global CPU (and, when present, CUDA) generators. */
int ctorch_manual_seed(uint64_t seed, char **err);

/*
 * A new tensor holding a copy of `byte_count` bytes at `data`, laid out contiguously (row-major)
 * with the given shape and dtype, on the CPU. `byte_count` must equal numel × element size.
 * Ownership: the caller owns `*out`; `data` is only read during the call.
 */
int ctorch_tensor_from_bytes(const void *data, size_t byte_count, const int64_t *shape, int ndim,
                             ctorch_dtype dtype, ctorch_tensor *out, char **err);

/* Releases a handle. NULL is ignored. Never fails. */
void ctorch_tensor_free(ctorch_tensor tensor);

/* Number of dimensions. */
int ctorch_tensor_ndim(ctorch_tensor tensor, int *out_ndim, char **err);
/* Writes ndim sizes into `out_shape` (capacity `capacity`, which must be ≥ ndim). */
int ctorch_tensor_shape(ctorch_tensor tensor, int64_t *out_shape, int capacity, char **err);
int ctorch_tensor_dtype(ctorch_tensor tensor, ctorch_dtype *out_dtype, char **err);
/*
 * Copies the tensor's elements (made contiguous, moved to CPU) into `dst`, which holds
 * `byte_count` bytes; `byte_count` must equal numel × element size.
 */
int ctorch_tensor_copy_to_bytes(ctorch_tensor tensor, void *dst, size_t byte_count, char **err);

#ifdef __cplusplus
}
#endif

#endif /* CTORCH_H */
