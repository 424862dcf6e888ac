/*
 * ctorch.h — the plain-C face of Loom's libtorch shim (implementation: ctorch_*.cpp beside include/).
 *
 * Conventions (shaped after tch-rs's torch_api.h and mlx-swift-lm's xgrammar_c.h):
 *  - Every call returns an int status: CTORCH_OK (0) or CTORCH_ERROR (-1). Results are written
 *    through out-parameters, and only when the call succeeds.
 *  - On CTORCH_ERROR, `*err` (when err is non-NULL) receives a malloc'ed NUL-terminated message with
 *    libtorch's text (for tensor ops followed by the op name and the operands' shapes and dtypes);
 *    the caller frees it with ctorch_free_string. No thread-local "last error": an error cannot be
 *    lost across an `await` or picked up by another caller.
 *  - Every body runs inside one exception boundary that catches std::exception and `...`; no C++
 *    exception crosses this header.
 *  - A handle is allocated only after everything else succeeded. The caller owns every handle a
 *    call returns (`ctorch_tensor *out…`) and releases it with ctorch_tensor_free (tensors) or
 *    ctorch_generator_free (generators) — the one way a handle dies. Handles passed *in* are
 *    borrowed: the callee never frees or keeps them (libtorch may keep its own reference to the
 *    underlying tensor, e.g. in the autograd graph; that never affects the handle).
 *  - Two handles may share storage (views such as reshape/narrow/transpose, or `ctorch_grad`):
 *    an in-place op through one is visible through the other, exactly as in PyTorch.
 *  - Functions named `…_inplace` modify their first tensor argument and return no new handle.
 *  - Autograd: every op is dispatched through ATen, so ops on tensors that require grad are
 *    recorded unless grad mode is off (ctorch_set_grad_enabled — thread-local, like PyTorch's).
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
/* An owned reference to an at::Generator (a seeded random stream). Opaque. */
typedef struct ctorch_generator_s *ctorch_generator;

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

typedef enum {
    CTORCH_DEVICE_CPU = 0,
    CTORCH_DEVICE_CUDA = 1,
} ctorch_device_type;

/* A device: `{CTORCH_DEVICE_CPU, 0}` or `{CTORCH_DEVICE_CUDA, N}` for cuda:N. */
typedef struct {
    int32_t type;  /* ctorch_device_type */
    int32_t index; /* ignored for the CPU */
} ctorch_device;

typedef enum {
    CTORCH_SCALAR_REAL = 0, /* `real` holds the value (a Python float) */
    CTORCH_SCALAR_INT = 1,  /* `integer` holds the value (a Python int) */
    CTORCH_SCALAR_BOOL = 2, /* `integer` is 0 or 1 */
} ctorch_scalar_kind;

/* A number passed by value, typed like a Python scalar (it takes part in type promotion the same way). */
typedef struct {
    int32_t kind; /* ctorch_scalar_kind */
    double real;
    int64_t integer;
} ctorch_scalar;

/* ───────────────────────────── library, threads, global seed ───────────────────────────── */

/* Frees a message returned through an `err` out-parameter. NULL is ignored. */
void ctorch_free_string(char *message);

/* Library facts. `*out_version` is a static string owned by the shim: never free it. */
int ctorch_version(const char **out_version, char **err);
/*
 * Where libtorch came from. `*out_loaded`: the path of the libtorch_cpu the dynamic loader mapped into
 * this process. `*out_built_against`: the lib/ directory this shim was compiled and linked against
 * ("" when the build did not say). Both static strings owned by the shim: never free them.
 */
int ctorch_libtorch_location(const char **out_loaded, const char **out_built_against, char **err);
/*
 * libtorch's own build summary (`at::show_config()`: compiler, BLAS/LAPACK, CPU capability, CUDA…).
 * A static string owned by the shim: never free it.
 */
int ctorch_build_configuration(const char **out_text, char **err);
/* 1 when the linked libtorch was built with CUDA and a device is visible, else 0. */
int ctorch_cuda_is_available(int *out_available, char **err);
int ctorch_cuda_device_count(int *out_count, char **err);
/*
 * Peak bytes allocated and reserved by libtorch's CUDA caching allocator on `device` since the last reset
 * (`torch.cuda.max_memory_allocated` / `max_memory_reserved`); with `reset` nonzero the peaks are reset
 * after reading. Read through libtorch's device-generic allocator interface, so no CUDA headers are needed;
 * an error where no CUDA allocator is registered (a CPU-only libtorch).
 */
int ctorch_cuda_memory_peak(int device, int reset, int64_t *out_allocated, int64_t *out_reserved, char **err);

/* Intra-op thread count (matmuls, elementwise kernels). Process-wide. */
int ctorch_set_num_threads(int threads, char **err);
int ctorch_get_num_threads(int *out_threads, char **err);
/* Runs Loom's parallel loop (the one its CPU kernels use) over `items` items, one per task; reports how
   many distinct threads ran them and whether it forked through libtorch's OpenMP runtime (1) or ATen's
   own parallel_for (0). `fail_at` ≥ 0 makes that item throw, to check that the error comes back. */
int ctorch_parallel_loop_check(int64_t items, int64_t fail_at, int *out_threads, int *out_openmp, char **err);

/* Seeds the global CPU (and, when present, CUDA) generators used when a call gets generator NULL. */
int ctorch_manual_seed(uint64_t seed, char **err);

/*
 * Returns the free pages of the C heap to the system (glibc's malloc_trim(0); nothing elsewhere). Freed
 * blocks below glibc's dynamic mmap threshold stay in the heap and count as resident until reused.
 */
int ctorch_release_free_heap_memory(char **err);

/* ───────────────────────────── tensor handles and facts ───────────────────────────── */

/* Releases a handle. NULL is ignored. Never fails. */
void ctorch_tensor_free(ctorch_tensor tensor);

/* A second handle to the same tensor (same storage, same autograd identity). Caller owns `*out`. */
int ctorch_tensor_share(ctorch_tensor tensor, ctorch_tensor *out, char **err);

/* Number of dimensions. */
int ctorch_tensor_ndim(ctorch_tensor tensor, int *out_ndim, char **err);
/* Writes ndim sizes into `out_shape` (capacity `capacity`, which must be ≥ ndim). */
int ctorch_tensor_shape(ctorch_tensor tensor, int64_t *out_shape, int capacity, char **err);
int ctorch_tensor_dtype(ctorch_tensor tensor, ctorch_dtype *out_dtype, char **err);
int ctorch_tensor_device(ctorch_tensor tensor, ctorch_device *out_device, char **err);
int ctorch_tensor_numel(ctorch_tensor tensor, int64_t *out_numel, char **err);
int ctorch_tensor_is_contiguous(ctorch_tensor tensor, int *out_contiguous, char **err);
/* libtorch's own printout (values included). `*out` is malloc'ed: free with ctorch_free_string. */
int ctorch_tensor_to_string(ctorch_tensor tensor, char **out, char **err);

/* ───────────────────────────── bytes in and out ───────────────────────────── */

/*
 * A new tensor holding a copy of `byte_count` bytes at `data`, laid out contiguously (row-major)
 * with the given shape and dtype, on the CPU. `byte_count` must equal numel × element size.
 * Ownership: the caller owns `*out`; `data` is only read during the call (any alignment).
 */
int ctorch_tensor_from_bytes(const void *data, size_t byte_count, const int64_t *shape, int ndim,
                             ctorch_dtype dtype, ctorch_tensor *out, char **err);

/*
 * Like ctorch_tensor_from_bytes, but the bytes hold `source_dtype` elements and the new tensor has
 * `target_dtype` on `device`: conversion and copy happen in one pass (no intermediate tensor of the
 * source dtype when the data is suitably aligned). Used to upcast bf16/f16 checkpoints to f32.
 */
int ctorch_tensor_from_bytes_as(const void *data, size_t byte_count, const int64_t *shape, int ndim,
                                ctorch_dtype source_dtype, ctorch_dtype target_dtype, ctorch_device device,
                                ctorch_tensor *out, char **err);

/*
 * Copies the tensor's elements, converted to `dtype` (made contiguous, moved to the CPU), into `dst`,
 * which holds `byte_count` bytes; `byte_count` must equal numel × size of `dtype`.
 */
int ctorch_tensor_copy_to_bytes(ctorch_tensor tensor, ctorch_dtype dtype, void *dst, size_t byte_count,
                                char **err);

/*
 * The address of the first element of a contiguous CPU tensor. The pointer is borrowed: valid while
 * the tensor (any handle to it) lives and is not resized. Fails for other tensors.
 */
int ctorch_tensor_data(ctorch_tensor tensor, void **out_data, char **err);

/* The value of a one-element tensor, typed by the tensor's dtype (floating → REAL, bool → BOOL, else INT). */
int ctorch_tensor_item(ctorch_tensor tensor, ctorch_scalar *out, char **err);

/* 1 when both tensors have the same shape, dtype and the same values bit for bit (torch.equal). */
int ctorch_tensor_equal(ctorch_tensor a, ctorch_tensor b, int *out_equal, char **err);

/* ───────────────────────────── factories ───────────────────────────── */
/* Each returns a new tensor the caller owns. `requires_grad` is off: set it with
 * ctorch_set_requires_grad (ATen factories ignore it in their options). */

/* Uninitialised memory. */
int ctorch_empty(const int64_t *shape, int ndim, ctorch_dtype dtype, ctorch_device device, ctorch_tensor *out,
                 char **err);
/* Every element = `value` (zeros: 0, ones: 1). */
int ctorch_full(const int64_t *shape, int ndim, ctorch_scalar value, ctorch_dtype dtype, ctorch_device device,
                ctorch_tensor *out, char **err);
/* Same shape, dtype and device as `like`; `empty` nonzero → uninitialised, else filled with `value`. */
int ctorch_full_like(ctorch_tensor like, ctorch_scalar value, int empty, ctorch_tensor *out, char **err);
/* [start, end) in steps of `step`. */
int ctorch_arange(ctorch_scalar start, ctorch_scalar end, ctorch_scalar step, ctorch_dtype dtype,
                  ctorch_device device, ctorch_tensor *out, char **err);

typedef enum {
    CTORCH_RANDOM_UNIFORM = 0, /* uniform on [a, b) */
    CTORCH_RANDOM_NORMAL = 1,  /* normal with mean a, standard deviation b */
} ctorch_random_kind;

/* A random tensor drawn from `generator` (NULL: the global generator). */
int ctorch_random(ctorch_random_kind kind, double a, double b, const int64_t *shape, int ndim, ctorch_dtype dtype,
                  ctorch_device device, ctorch_generator generator, ctorch_tensor *out, char **err);
/* Integers uniform on [low, high). */
int ctorch_randint(int64_t low, int64_t high, const int64_t *shape, int ndim, ctorch_dtype dtype,
                   ctorch_device device, ctorch_generator generator, ctorch_tensor *out, char **err);
/* A random permutation of 0..<n (int64). */
int ctorch_randperm(int64_t n, ctorch_device device, ctorch_generator generator, ctorch_tensor *out, char **err);

/* ───────────────────────────── conversion ───────────────────────────── */

/* `tensor` converted to `dtype` (a new handle to the same tensor when it already has that dtype). */
int ctorch_to_dtype(ctorch_tensor tensor, ctorch_dtype dtype, ctorch_tensor *out, char **err);
/* `tensor` on `device` (a new handle to the same tensor when it is already there). */
int ctorch_to_device(ctorch_tensor tensor, ctorch_device device, ctorch_tensor *out, char **err);

/* ───────────────────────────── elementwise ───────────────────────────── */

typedef enum {
    CTORCH_NEG = 0, CTORCH_ABS, CTORCH_SQRT, CTORCH_RSQRT, CTORCH_EXP, CTORCH_LOG, CTORCH_LOG1P,
    CTORCH_SIN, CTORCH_COS, CTORCH_TANH, CTORCH_SIGMOID, CTORCH_SILU, CTORCH_GELU, CTORCH_GELU_TANH,
    CTORCH_RELU, CTORCH_RECIPROCAL, CTORCH_SQUARE, CTORCH_FLOOR, CTORCH_CEIL, CTORCH_ROUND, CTORCH_SIGN,
    CTORCH_ERF, CTORCH_LOGICAL_NOT, CTORCH_BITWISE_NOT, CTORCH_ISNAN, CTORCH_ISINF, CTORCH_ISFINITE,
    CTORCH_CONTIGUOUS, /* the tensor itself when already contiguous */
    CTORCH_CLONE,      /* a copy with its own storage (recorded by autograd) */
    CTORCH_DETACH,     /* same storage, cut from the autograd graph */
} ctorch_unary_op;

/* `op(tensor)` as a new tensor. */
int ctorch_unary(ctorch_unary_op op, ctorch_tensor tensor, ctorch_tensor *out, char **err);
/* `op(tensor)` written into `tensor` (not for CONTIGUOUS, CLONE and the predicates ISNAN/ISINF/ISFINITE). */
int ctorch_unary_inplace(ctorch_unary_op op, ctorch_tensor tensor, char **err);

typedef enum {
    CTORCH_ADD = 0, CTORCH_SUB, CTORCH_MUL, CTORCH_DIV, CTORCH_POW, CTORCH_REMAINDER, CTORCH_FLOOR_DIVIDE,
    CTORCH_MAXIMUM, CTORCH_MINIMUM, CTORCH_ATAN2,
    CTORCH_EQ, CTORCH_NE, CTORCH_LT, CTORCH_LE, CTORCH_GT, CTORCH_GE, /* → bool tensors */
    CTORCH_BITWISE_AND, CTORCH_BITWISE_OR, CTORCH_BITWISE_XOR, CTORCH_SHIFT_LEFT, CTORCH_SHIFT_RIGHT,
    CTORCH_LOGICAL_AND, CTORCH_LOGICAL_OR,
    CTORCH_MATMUL, /* torch.matmul (batched, broadcasting) — tensor × tensor only */
    CTORCH_MM,     /* 2-D × 2-D */
    CTORCH_BMM,    /* 3-D × 3-D, same batch */
} ctorch_binary_op;

/* `a op b` with broadcasting and PyTorch's type promotion. */
int ctorch_binary(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out, char **err);
/* `a op= b` (b broadcast to a's shape; every op except MAXIMUM, MINIMUM, MATMUL, MM and BMM). */
int ctorch_binary_inplace(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b, char **err);
/*
 * `a op s`, or `s op a` when `scalar_first` is nonzero. The scalar promotes like a Python number, and
 * `s op a` is computed as PyTorch computes it for a Python number on the left (`s / a` = a.reciprocal()·s).
 */
int ctorch_binary_scalar(ctorch_binary_op op, ctorch_tensor a, ctorch_scalar s, int scalar_first, ctorch_tensor *out,
                         char **err);
/* `a op= s`. */
int ctorch_binary_scalar_inplace(ctorch_binary_op op, ctorch_tensor a, ctorch_scalar s, char **err);

/* `a + alpha·b` (torch.add with alpha); the in-place form is the optimizer's and accumulation's workhorse. */
int ctorch_add_scaled(ctorch_tensor a, ctorch_tensor b, ctorch_scalar alpha, ctorch_tensor *out, char **err);
int ctorch_add_scaled_inplace(ctorch_tensor a, ctorch_tensor b, ctorch_scalar alpha, char **err);

/* Clamp to [min, max]; either bound may be NULL (absent). */
int ctorch_clamp(ctorch_tensor tensor, const ctorch_scalar *min, const ctorch_scalar *max, ctorch_tensor *out,
                 char **err);
int ctorch_clamp_inplace(ctorch_tensor tensor, const ctorch_scalar *min, const ctorch_scalar *max, char **err);

/* `condition ? a : b` elementwise, broadcasting. */
int ctorch_where(ctorch_tensor condition, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out, char **err);
/* `tensor` with `value` where `mask` (bool, broadcast) is true. */
int ctorch_masked_fill(ctorch_tensor tensor, ctorch_tensor mask, ctorch_scalar value, ctorch_tensor *out, char **err);
int ctorch_masked_fill_inplace(ctorch_tensor tensor, ctorch_tensor mask, ctorch_scalar value, char **err);

/* ───────────────────────────── in-place updates (optimizers, initialisation) ───────────────────────────── */

/* self += value · t1 · t2 */
int ctorch_addcmul_inplace(ctorch_tensor self, ctorch_tensor t1, ctorch_tensor t2, ctorch_scalar value, char **err);
/* self += value · t1 / t2 */
int ctorch_addcdiv_inplace(ctorch_tensor self, ctorch_tensor t1, ctorch_tensor t2, ctorch_scalar value, char **err);
/* self += weight · (end − self) */
int ctorch_lerp_inplace(ctorch_tensor self, ctorch_tensor end, ctorch_scalar weight, char **err);
/* self ← src (broadcast, converted to self's dtype and device). */
int ctorch_copy_inplace(ctorch_tensor self, ctorch_tensor src, char **err);
/* self ← value everywhere (0 zeroes it). */
int ctorch_fill_inplace(ctorch_tensor self, ctorch_scalar value, char **err);
/* self ← random values drawn from `generator` (NULL: global): UNIFORM on [a, b) or NORMAL(a, b). */
int ctorch_random_inplace(ctorch_tensor self, ctorch_random_kind kind, double a, double b,
                          ctorch_generator generator, char **err);
/* self ← 1 with probability p, else 0 (dropout masks). */
int ctorch_bernoulli_inplace(ctorch_tensor self, double p, ctorch_generator generator, char **err);

/* ───────────────────────────── shape and layout ───────────────────────────── */

typedef enum {
    CTORCH_RESHAPE = 0, /* args: new shape (one −1 allowed); a view when possible */
    CTORCH_VIEW,        /* args: new shape; fails when a view is impossible */
    CTORCH_EXPAND,      /* args: new shape (−1 keeps a size); a broadcast view */
    CTORCH_PERMUTE,     /* args: dimension order */
    CTORCH_REPEAT,      /* args: repeats per dimension (copies) */
    CTORCH_TRANSPOSE,   /* args: dim0, dim1 */
    CTORCH_NARROW,      /* args: dim, start, length (a view) */
    CTORCH_SLICE,       /* args: dim, start, end, step (a view; end is clamped) */
    CTORCH_SELECT,      /* args: dim, index (drops dim; a view) */
    CTORCH_SQUEEZE,     /* args: none (every size-1 dim) or dim */
    CTORCH_UNSQUEEZE,   /* args: dim */
    CTORCH_FLATTEN,     /* args: start_dim, end_dim */
    CTORCH_TRIU,        /* args: diagonal */
    CTORCH_TRIL,        /* args: diagonal */
    CTORCH_CUMSUM,      /* args: dim */
    CTORCH_SOFTMAX,     /* args: dim */
    CTORCH_LOG_SOFTMAX, /* args: dim */
    CTORCH_REPEAT_INTERLEAVE, /* args: repeats, dim */
    CTORCH_ROLL,        /* args: shift, dim */
} ctorch_shape_op;

/* `op(tensor, args…)` (see ctorch_shape_op for the meaning of `args`). */
int ctorch_shape_apply(ctorch_shape_op op, ctorch_tensor tensor, const int64_t *args, int nargs, ctorch_tensor *out,
                    char **err);

/* Joins `count` tensors along `dim`: stack nonzero → a new dimension (torch.stack), else torch.cat. */
int ctorch_cat(const ctorch_tensor *tensors, int count, int64_t dim, int stack, ctorch_tensor *out, char **err);

typedef enum {
    CTORCH_SPLIT_SIZE = 0, /* args: split size — pieces of that size along dim (the last may be smaller) */
    CTORCH_SPLIT_SIZES,    /* args: the size of each piece */
    CTORCH_CHUNK,          /* args: number of chunks */
    CTORCH_UNBIND,         /* args: none — one piece per index, dim removed */
} ctorch_split_op;

/*
 * Splits `tensor` along `dim` into views. `*out_tensors` receives a malloc'ed array of `*out_count`
 * handles: the caller owns each handle and frees the array itself with ctorch_free_tensor_array.
 */
int ctorch_split(ctorch_split_op op, ctorch_tensor tensor, const int64_t *args, int nargs, int64_t dim,
                 ctorch_tensor **out_tensors, int *out_count, char **err);
/* Frees an array returned by ctorch_split (not the handles in it). NULL is ignored. */
void ctorch_free_tensor_array(ctorch_tensor *tensors);

/* ───────────────────────────── indexing ───────────────────────────── */

typedef enum {
    CTORCH_INDEX_SELECT = 0, /* rows of `tensor` along dim at `index` (int64 1-D) */
    CTORCH_GATHER,           /* torch.gather(tensor, dim, index) */
} ctorch_index_op;

int ctorch_index(ctorch_index_op op, ctorch_tensor tensor, int64_t dim, ctorch_tensor index, ctorch_tensor *out,
                 char **err);

typedef enum {
    CTORCH_INDEX_COPY = 0, /* tensor[index along dim] = source */
    CTORCH_INDEX_ADD,      /* tensor[index along dim] += source */
    CTORCH_SCATTER,        /* torch.scatter(tensor, dim, index, source) */
    CTORCH_SCATTER_ADD,    /* torch.scatter_add(tensor, dim, index, source) */
} ctorch_index_update_op;

/* A new tensor = `tensor` updated at `index` from `source` (differentiable in both). */
int ctorch_index_update(ctorch_index_update_op op, ctorch_tensor tensor, int64_t dim, ctorch_tensor index,
                        ctorch_tensor source, ctorch_tensor *out, char **err);
/* The same, written into `tensor`. */
int ctorch_index_update_inplace(ctorch_index_update_op op, ctorch_tensor tensor, int64_t dim, ctorch_tensor index,
                                ctorch_tensor source, char **err);

/* Rows of `weight` [num, dim] at `indices` (any shape, int64) → [..., dim]. padding_idx < 0: none. */
int ctorch_embedding(ctorch_tensor weight, ctorch_tensor indices, int64_t padding_idx, ctorch_tensor *out, char **err);

/* ───────────────────────────── reductions and sorting ───────────────────────────── */

typedef enum {
    CTORCH_SUM = 0, CTORCH_MEAN, CTORCH_AMAX, CTORCH_AMIN, CTORCH_PROD, CTORCH_LOGSUMEXP,
    CTORCH_ALL, CTORCH_ANY,
    CTORCH_ARGMAX, CTORCH_ARGMIN, /* at most one dim; none → index into the flattened tensor */
    CTORCH_VAR, CTORCH_STD,       /* unbiased (N−1) */
} ctorch_reduce_op;

/* Reduces over `dims` (ndims = 0: over every element); keepdim nonzero keeps them as size 1. */
int ctorch_reduce(ctorch_reduce_op op, ctorch_tensor tensor, const int64_t *dims, int ndims, int keepdim,
                  ctorch_tensor *out, char **err);
/* The `ord`-norm over `dims` (ndims = 0: all elements), computed in `tensor`'s dtype. */
int ctorch_vector_norm(ctorch_tensor tensor, double ord, const int64_t *dims, int ndims, int keepdim,
                       ctorch_tensor *out, char **err);

typedef enum {
    CTORCH_MAX_DIM = 0, /* k unused: max over dim with its indices */
    CTORCH_MIN_DIM,     /* k unused */
    CTORCH_TOPK,        /* the k largest (or smallest when `descending` is 0), sorted */
    CTORCH_SORT,        /* k unused; stable sort, descending when `descending` is nonzero */
} ctorch_values_indices_op;

/* Values and their int64 indices along `dim`. keepdim applies to MAX_DIM/MIN_DIM. Caller owns both. */
int ctorch_values_indices(ctorch_values_indices_op op, ctorch_tensor tensor, int64_t k, int64_t dim, int descending,
                          int keepdim, ctorch_tensor *out_values, ctorch_tensor *out_indices, char **err);

/* For each row of `probabilities` (1-D or 2-D, non-negative), `samples` int64 indices drawn from `generator`. */
int ctorch_multinomial(ctorch_tensor probabilities, int64_t samples, int replacement, ctorch_generator generator,
                       ctorch_tensor *out, char **err);

/* Index of the bucket of each element of `tensor` in the sorted 1-D `boundaries` (torch.bucketize, right=false). */
int ctorch_bucketize(ctorch_tensor tensor, ctorch_tensor boundaries, ctorch_tensor *out, char **err);

/* ───────────────────────────── neural-network ops ───────────────────────────── */

/* x · weightᵀ + bias (torch.nn.functional.linear); `bias` may be NULL. x [..., in], weight [out, in]. */
int ctorch_linear(ctorch_tensor x, ctorch_tensor weight, ctorch_tensor bias, ctorch_tensor *out, char **err);
/* beta·self + alpha·(mat1 @ mat2) for 2-D mats (e.g. a LoRA update scaled and added to the base output in the GEMM). */
int ctorch_addmm(ctorch_tensor self, ctorch_tensor mat1, ctorch_tensor mat2, ctorch_scalar beta, ctorch_scalar alpha,
                 ctorch_tensor *out, char **err);
/* beta·self + alpha·(batch1 @ batch2), batched (attention scores with a mask in one op). */
int ctorch_baddbmm(ctorch_tensor self, ctorch_tensor batch1, ctorch_tensor batch2, ctorch_scalar beta,
                   ctorch_scalar alpha, ctorch_tensor *out, char **err);

typedef enum {
    CTORCH_REDUCTION_NONE = 0,
    CTORCH_REDUCTION_MEAN = 1, /* mean over targets that are not ignore_index */
    CTORCH_REDUCTION_SUM = 2,
} ctorch_reduction;

/* Cross-entropy of `logits` [N, C] (or [N, C, d…]) against int64 class `targets` [N] (or [N, d…]). */
int ctorch_cross_entropy(ctorch_tensor logits, ctorch_tensor targets, ctorch_reduction reduction,
                         int64_t ignore_index, double label_smoothing, ctorch_tensor *out, char **err);

/* ───────────────────────────── fused kernels ───────────────────────────── */
/*
 * Block-wise 4-bit codebook quantisation (the storage of QLoRA's NF4). Composites of ATen ops for these
 * make ~8 full-size passes with int64 intermediates; a fused loop makes one (bench/torch-ops measures
 * both). Layout as bitsandbytes stores it: element 2i in the high nibble of byte i, 2i+1 in the low one;
 * one absmax (f32) per block of `block_size` consecutive elements (the last block may be partial).
 */

/*
 * Quantises the elements of `values` (floating, any shape, flattened row-major): per block, absmax =
 * max |x|; each x·(1/absmax) becomes the index of its nearest entry of `codebook` (16 ascending f32
 * values; a value exactly between two entries takes the lower). `block_size` must be even and positive.
 * Caller owns `*out_packed` (u8 [ceil(n/2)]) and `*out_absmax` (f32 [ceil(n/block_size)]), on the device of `values`
 * (the codes are computed on the CPU, once per weight at load).
 */
int ctorch_quantize_4bit(ctorch_tensor values, ctorch_tensor codebook, int64_t block_size, ctorch_tensor *out_packed,
                         ctorch_tensor *out_absmax, char **err);

/*
 * The inverse: a new tensor of `shape` and floating `dtype` whose element i is
 * codebook[code i] · absmax[i / block_size], computed in f32 and then converted. On a non-CPU device the
 * same arithmetic runs as ATen ops. Caller owns `*out`.
 */
int ctorch_dequantize_4bit(ctorch_tensor packed, ctorch_tensor absmax, ctorch_tensor codebook, int64_t block_size,
                           const int64_t *shape, int ndim, ctorch_dtype dtype, ctorch_tensor *out, char **err);

/*
 * x · Wᵀ for x [..., in_features] and the 4-bit weight W [out_features, in_features] (codes, absmax and
 * codebook as above), in x's dtype. Recorded by autograd with respect to x only: W is dequantised again
 * in backward instead of being saved, so between forward and backward only the codes stay alive. On the CPU
 * W is rebuilt in blocks of rows (at most 4 MiB of them at a time), never whole.
 */
int ctorch_linear_4bit(ctorch_tensor x, ctorch_tensor packed, ctorch_tensor absmax, ctorch_tensor codebook,
                       int64_t block_size, int64_t out_features, int64_t in_features, ctorch_tensor *out, char **err);

/*
 * The same for a weight whose absmax are double-quantised (QLoRA): absmax of block b =
 * absmax_table[absmax_codes[b]] · absmax_scales[b / absmax_block_size] + absmax_offset, in f32
 * (absmax_codes u8 [blocks], absmax_scales f32 [ceil(blocks / absmax_block_size)], absmax_table f32 [256]).
 * The codes, not f32 absmax, are what is kept for backward. Caller owns `*out`.
 */
int ctorch_linear_4bit_double_quantized(ctorch_tensor x, ctorch_tensor packed, ctorch_tensor absmax_codes,
                                        ctorch_tensor absmax_scales, ctorch_tensor absmax_table, double absmax_offset,
                                        int64_t absmax_block_size, ctorch_tensor codebook, int64_t block_size,
                                        int64_t out_features, int64_t in_features, ctorch_tensor *out, char **err);

/*
 * RMSNorm over the last dimension: weight · x / sqrt(mean(x²) + eps) (Llama's; statistics in f32),
 * differentiable in x and weight. One pass forward and one backward, keeping x and one f32 per row
 * (the composite makes ~16 passes and keeps several full-size intermediates).
 */
int ctorch_rms_norm(ctorch_tensor x, ctorch_tensor weight, double eps, ctorch_tensor *out, char **err);

/* ───────────────────────────── autograd ───────────────────────────── */

int ctorch_requires_grad(ctorch_tensor tensor, int *out_requires_grad, char **err);
/* Marks a leaf tensor as a parameter whose gradient is accumulated into its `.grad`. */
int ctorch_set_requires_grad(ctorch_tensor tensor, int requires_grad, char **err);
int ctorch_is_leaf(ctorch_tensor tensor, int *out_is_leaf, char **err);
/* Keeps the gradient of a non-leaf tensor (for inspection) after backward. */
int ctorch_retain_grad(ctorch_tensor tensor, char **err);

/*
 * Back-propagates from `tensor` (a one-element tensor when `gradient` is NULL), accumulating into
 * the `.grad` of every leaf that requires grad. retain_graph nonzero allows a second backward.
 */
int ctorch_backward(ctorch_tensor tensor, ctorch_tensor gradient, int retain_graph, char **err);

/*
 * Activation recomputation ("gradient checkpointing"). `function(context, input, &out, &err)` computes a
 * tensor from `input`: it owns the `input` handle it is given and gives the caller ownership of `*out`;
 * it returns CTORCH_OK, or CTORCH_ERROR with a malloc'ed message in `*err`. ctorch_checkpoint runs it
 * once with grad mode off (no graph, no activations kept) and returns its result recorded by autograd
 * as one node that keeps only `input`; backward runs `function` again with grad mode on and
 * back-propagates through that, which gives `input`'s gradient and accumulates the gradients of every
 * parameter the function used. The function must compute the same thing both times (restore any random
 * state it draws from). `release(context)` is called once, when the node dies (or on error); NULL for none.
 * Caller owns `*out`.
 */
typedef int (*ctorch_checkpoint_fn)(void *context, ctorch_tensor input, ctorch_tensor *out, char **err);
typedef void (*ctorch_release_fn)(void *context);
int ctorch_checkpoint(ctorch_tensor input, ctorch_checkpoint_fn function, void *context, ctorch_release_fn release,
                      ctorch_tensor *out, char **err);

/* A handle to the accumulated gradient (shares storage with it), or `*out` = NULL when there is none. */
int ctorch_grad(ctorch_tensor tensor, ctorch_tensor *out, char **err);
/* Replaces the gradient; `gradient` NULL clears it (PyTorch's zero_grad(set_to_none=True)). */
int ctorch_set_grad(ctorch_tensor tensor, ctorch_tensor gradient, char **err);

/* Grad mode of the calling thread (PyTorch's torch.set_grad_enabled). `*out_previous` gets the old mode. */
int ctorch_set_grad_enabled(int enabled, int *out_previous, char **err);
int ctorch_is_grad_enabled(int *out_enabled, char **err);

/* ───────────────────────────── generators ───────────────────────────── */

/* A new generator for `device` (CPU: Mersenne Twister; CUDA: Philox), seeded with `seed`. Caller owns `*out`. */
int ctorch_generator_new(ctorch_device device, uint64_t seed, ctorch_generator *out, char **err);
/* Releases a generator handle. NULL is ignored. Never fails. */
void ctorch_generator_free(ctorch_generator generator);
/* Re-seeds (resets the stream). */
int ctorch_generator_set_seed(ctorch_generator generator, uint64_t seed, char **err);
/* The seed it was last seeded with. */
int ctorch_generator_seed(ctorch_generator generator, uint64_t *out_seed, char **err);
/* The full stream state as a new uint8 tensor (a checkpoint of the stream position). Caller owns `*out`. */
int ctorch_generator_get_state(ctorch_generator generator, ctorch_tensor *out, char **err);
/* Restores a state from ctorch_generator_get_state; the stream continues exactly from there. */
int ctorch_generator_set_state(ctorch_generator generator, ctorch_tensor state, char **err);

/* ───────────────────────────── fused transformer kernels ───────────────────────────── */
/* Autograd functions over the hot spots of a Llama layer (implementation: ctorch_transformer.cpp): CPU
 * loops, an error for tensors on other devices (the model uses composites of ATen ops there). */

/*
 * Splits a fused q|k|v projection `qkv` [batch·T, (heads + 2·kv_heads)·D] (rows with unit column stride,
 * e.g. a column block of a larger tensor, or contiguous) into head-major q [batch, heads, T, D],
 * k [batch, kv_heads, T, D] and v [batch, kv_heads, T, D], q and k rotated by the rotary tables `cos`,
 * `sin` [T, D] in Hugging Face's rotate-half layout. Differentiable in `qkv` (backward writes its
 * gradient in one pass). Caller owns the three outputs.
 */
int ctorch_attention_heads(ctorch_tensor qkv, ctorch_tensor cos, ctorch_tensor sin, int64_t batch, int64_t heads, int64_t kv_heads,
                           ctorch_tensor *out_q, ctorch_tensor *out_k, ctorch_tensor *out_v, char **err);

/* silu(gate)·up for `gate_up` [rows, 2·I] = [gate | up] → [rows, I]; differentiable in `gate_up`. */
int ctorch_swiglu(ctorch_tensor gate_up, ctorch_tensor *out, char **err);

/*
 * Mean cross-entropy of `logits` [N, C] against int64 `targets` [N] over the targets that are not
 * `ignore_index` (NaN when none is counted). Forward keeps the gradient (softmax − one-hot, f32), so
 * backward is one scaling pass. Caller owns `*out` (a 0-d tensor).
 */
int ctorch_cross_entropy_fused(ctorch_tensor logits, ctorch_tensor targets, int64_t ignore_index, ctorch_tensor *out, char **err);
/* Mean cross-entropy of hidden [N, C] · weightᵀ ([V, C]) against int64 targets [N] (ignore_index skipped),
   the logits made and consumed chunk_rows rows at a time, both gradients computed in the forward pass.
   f32 CPU tensors. */
int ctorch_linear_cross_entropy(ctorch_tensor hidden, ctorch_tensor weight, ctorch_tensor targets, int64_t ignore_index, int64_t chunk_rows,
                                ctorch_tensor *out, char **err);

/*
 * Causal attention softmax(q·kᵀ/√D + mask)·v for q [B, H, T, D] and k, v [B, KV, S, D] (KV dividing H:
 * query head h uses key/value head h / (H/KV)); the T queries are the last T of the S positions. With
 * `window` > 0 a query at position p sees keys p − window < s ≤ p only. Returns [B·T, H·D], token-major
 * (the input of the output projection). Differentiable in q, k and v. f32 only; computed block-wise:
 * only the keys a block of queries may see are multiplied (BLAS sgemm_ of the process).
 */
int ctorch_causal_attention(ctorch_tensor q, ctorch_tensor k, ctorch_tensor v, int64_t window, ctorch_tensor *out, char **err);

/*
 * `at::scaled_dot_product_attention` (PyTorch's SDPA: flash / memory-efficient kernels on CUDA, a fused
 * CPU kernel): q [B, H, T, D], k and v [B, KV, S, D] with `enable_gqa` when KV < H; `mask` (nullable) an
 * additive float mask broadcastable to [B, H, T, S], or `is_causal` for the plain causal mask (T == S);
 * `scale` ≤ 0 means 1/√D. Returns [B, H, T, D]. Any device, differentiable.
 */
int ctorch_scaled_dot_product_attention(ctorch_tensor q, ctorch_tensor k, ctorch_tensor v, ctorch_tensor mask, int is_causal,
                                        double scale, int enable_gqa, ctorch_tensor *out, char **err);

/*
 * LoRA updates of a fused projection, in place: for i < count (at most 3), `output` [N, W] columns
 * [offsets[i], offsets[i] + out_i) += scales[i] · low_rank[:, r-columns of i] · B_iᵀ, where `low_rank`
 * [N, Σ r_i] holds each part's dropout(x)·A_iᵀ side by side (in the order of `b_matrices`) and B_i is
 * [out_i, r_i]. `output` must be contiguous and not needed by autograd as it was (a projection's fresh
 * result); it is modified in place and `*out` is a new handle to it, recorded by autograd (gradients
 * for `low_rank` and each B). f32 CPU tensors.
 */
int ctorch_lora_update_inplace(ctorch_tensor output, ctorch_tensor low_rank, const ctorch_tensor *b_matrices, const int64_t *offsets,
                               const double *scales, int count, ctorch_tensor *out, char **err);

/* ───────────────────────────── profiling ───────────────────────────── */

/* An op-level recording in progress. Opaque. */
typedef struct ctorch_profiler_s *ctorch_profiler;

/*
 * Starts recording every ATen op run by the process (forward ops and autograd's backward nodes, with
 * durations). Caller owns `*out` and ends the recording with ctorch_profiler_stop, which writes the ops
 * as a Chrome trace (JSON) to `path`. One recording at a time.
 */
int ctorch_profiler_start(const char *path, ctorch_profiler *out, char **err);
/* Stops the recording and writes its trace. NULL is ignored. Never fails (a write error is lost). */
void ctorch_profiler_stop(ctorch_profiler profiler);

/* ───────────────────────────── data parallel (c10d) ───────────────────────────── */

/* A c10d process group: the ranks of one data-parallel job. Opaque. */
typedef struct ctorch_process_group_s *ctorch_process_group;

/*
 * The collective backends this build of the shim can create, comma-separated ("gloo", "nccl", both, or
 * ""), as a malloc'd string the caller frees with ctorch_free_string. Never fails.
 */
char *ctorch_process_group_backends(void);

/*
 * Joins the process group of `world_size` ranks as `rank`: rendezvous through c10d's TCPStore at
 * host:port (rank 0 serves it), then a `backend` ("gloo" for CPU tensors, "nccl" for CUDA tensors)
 * group. `timeout_ms` bounds the rendezvous and every collective: a rank that died or hangs makes the
 * others fail within it rather than wait forever. Caller owns `*out`.
 */
int ctorch_process_group_new(const char *host, int port, int rank, int world_size, const char *backend, int64_t timeout_ms,
                             ctorch_process_group *out, char **err);
/* Leaves the group (its connections close). NULL is ignored. Never fails. */
void ctorch_process_group_free(ctorch_process_group group);
/*
 * Sums `count` tensors over every rank, in place, as one flattened buffer (one collective whatever
 * `count`), then multiplies them by `scale` (1/world_size averages). Every rank must pass tensors of the
 * same shapes and dtypes in the same order.
 */
int ctorch_process_group_all_reduce(ctorch_process_group group, const ctorch_tensor *tensors, size_t count, double scale,
                                    char **err);
/* Copies `count` tensors of rank `root` into every other rank's tensors of the same shapes, in place. */
int ctorch_process_group_broadcast(ctorch_process_group group, const ctorch_tensor *tensors, size_t count, int root, char **err);

#ifdef __cplusplus
}
#endif

#endif /* CTORCH_H */
