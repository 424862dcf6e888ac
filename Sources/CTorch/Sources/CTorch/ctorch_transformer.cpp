// ctorch_transformer.cpp — fused kernels of a Llama decoder layer, each an autograd Function whose
// composite of ATen ops was measured to cost more (probe: `loom-torch probe-lora-step`):
//  - attention heads: the fused q|k|v projection → head-major q, k (rotated, RoPE) and v in one pass.
//    The composite (split, view, rotate-half with cat/neg/mul/add, transpose, contiguous) makes ~10
//    passes, and autograd's backward of the split concatenates three strided gradients — slow in
//    libtorch 1.13 (50 ms for a 2048×1536 gradient); here backward writes the one gradient directly.
//  - SwiGLU: silu(gate)·up from the fused gate|up projection, and its gradient as one tensor.
//  - cross-entropy: the mean loss and its gradient (softmax − one-hot) computed in one forward pass, so
//    backward only scales; no log-probability tensor of (tokens × vocabulary) is materialised.
//  - LoRA updates of a projection (a fused one's parts, or a single one): y[:, part i] +=
//    s_i·(x·A_iᵀ)·B_iᵀ written into the base output in place, each part's GEMM only over its own columns
//    (the alternative, one GEMM against a block-diagonal matrix of the B's, multiplies the zero blocks
//    too, and copies the output).
//  - causal attention: softmax(q·kᵀ/√D + causal mask)·v by blocks of queries, each multiplied only with
//    the keys it may see (5/8 of the products at T = 256 instead of all), the mask and softmax applied to
//    the scores in place, the result written token-major for o_proj; backward likewise.
#include "ctorch_internal.hpp"

#include <dlfcn.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <algorithm>
#include <cmath>
#include <mutex>

using namespace ctorch;

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// A 2-D tensor whose rows are unit-stride (a column block of a fused projection qualifies), else a
// contiguous copy.
at::Tensor unit_stride_rows(const at::Tensor &x) {
    return x.dim() == 2 && x.stride(1) == 1 ? x : x.contiguous();
}

// These kernels are CPU loops; the model runs their composites of ATen ops elsewhere.
void require_cpu(const at::Tensor &x, const char *kernel) {
    if (!x.device().is_cpu()) throw std::invalid_argument(std::string(kernel) + " runs on CPU tensors, got one on " + x.device().str());
}

// Rows per parallel task so that a task has ~32k elements of work.
int64_t row_grain(int64_t width) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(width, 1)); }

// ───────────────────────────── attention heads with RoPE ─────────────────────────────

struct AttentionHeads : public torch::autograd::Function<AttentionHeads> {
    static variable_list forward(AutogradContext *ctx, const at::Tensor &qkv, const at::Tensor &cos, const at::Tensor &sin,
                                 int64_t batch, int64_t heads, int64_t kv_heads) {
        const int64_t rows = qkv.size(0), length = rows / batch, dim = cos.size(1), half = dim / 2;
        const int64_t width = (heads + 2 * kv_heads) * dim;
        if (qkv.dim() != 2 || qkv.size(1) != width || rows != batch * length)
            throw std::invalid_argument("attention heads: qkv must be [" + std::to_string(batch) + "·T, " + std::to_string(width) +
                                        "], got " + c10::str(qkv.sizes()));
        if (cos.sizes() != sin.sizes() || cos.dim() != 2 || cos.size(0) != length || dim % 2 != 0)
            throw std::invalid_argument("attention heads: cos/sin must both be [" + std::to_string(length) + ", head_dim] with an even head_dim, got " +
                                        c10::str(cos.sizes()) + " and " + c10::str(sin.sizes()));
        const at::Tensor x = unit_stride_rows(qkv);
        const at::Tensor c = cos.to(at::kFloat).contiguous(), s = sin.to(at::kFloat).contiguous();
        const auto options = x.options();
        at::Tensor q = at::empty({batch, heads, length, dim}, options);
        at::Tensor k = at::empty({batch, kv_heads, length, dim}, options);
        at::Tensor v = at::empty({batch, kv_heads, length, dim}, options);
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "attention_heads", [&] {
            const scalar_t *in = x.data_ptr<scalar_t>();
            const int64_t stride = x.stride(0);
            scalar_t *qp = q.data_ptr<scalar_t>(), *kp = k.data_ptr<scalar_t>(), *vp = v.data_ptr<scalar_t>();
            const float *cp = c.data_ptr<float>(), *sp = s.data_ptr<float>();
            ctorch::parallel_for(0, rows, row_grain(width), [&](int64_t first, int64_t last) {
                for (int64_t n = first; n < last; ++n) {
                    const int64_t b = n / length, t = n % length;
                    const scalar_t *row = in + n * stride;
                    const float *cr = cp + t * dim, *sr = sp + t * dim;
                    auto rotate = [&](const scalar_t *src, scalar_t *dst) {
                        for (int64_t i = 0; i < half; ++i) {
                            const float x1 = static_cast<float>(src[i]), x2 = static_cast<float>(src[i + half]);
                            dst[i] = static_cast<scalar_t>(x1 * cr[i] - x2 * sr[i]);
                            dst[i + half] = static_cast<scalar_t>(x2 * cr[i + half] + x1 * sr[i + half]);
                        }
                    };
                    for (int64_t h = 0; h < heads; ++h) rotate(row + h * dim, qp + ((b * heads + h) * length + t) * dim);
                    for (int64_t g = 0; g < kv_heads; ++g) {
                        rotate(row + (heads + g) * dim, kp + ((b * kv_heads + g) * length + t) * dim);
                        std::copy_n(row + (heads + kv_heads + g) * dim, dim, vp + ((b * kv_heads + g) * length + t) * dim);
                    }
                }
            });
        });
        ctx->save_for_backward({c, s});
        ctx->saved_data["batch"] = batch;
        ctx->saved_data["heads"] = heads;
        ctx->saved_data["kv_heads"] = kv_heads;
        return {q, k, v};
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &c = saved[0], &s = saved[1];
        const int64_t batch = ctx->saved_data["batch"].toInt(), heads = ctx->saved_data["heads"].toInt(),
                      kv_heads = ctx->saved_data["kv_heads"].toInt();
        const int64_t length = c.size(0), dim = c.size(1), half = dim / 2, rows = batch * length;
        const int64_t width = (heads + 2 * kv_heads) * dim;
        at::Tensor reference = grads[0].defined() ? grads[0] : grads[1].defined() ? grads[1] : grads[2];
        at::Tensor gx = at::empty({rows, width}, reference.options());
        // An output nobody used has no gradient: its block of gx is zero.
        auto dense = [&](const at::Tensor &g, int64_t count) {
            return g.defined() ? g.contiguous() : at::zeros({batch, count, length, dim}, reference.options());
        };
        const at::Tensor gq = dense(grads[0], heads), gk = dense(grads[1], kv_heads), gv = dense(grads[2], kv_heads);
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, gx.scalar_type(), "attention_heads_backward", [&] {
            scalar_t *out = gx.data_ptr<scalar_t>();
            const scalar_t *qp = gq.data_ptr<scalar_t>(), *kp = gk.data_ptr<scalar_t>(), *vp = gv.data_ptr<scalar_t>();
            const float *cp = c.data_ptr<float>(), *sp = s.data_ptr<float>();
            ctorch::parallel_for(0, rows, row_grain(width), [&](int64_t first, int64_t last) {
                for (int64_t n = first; n < last; ++n) {
                    const int64_t b = n / length, t = n % length;
                    scalar_t *row = out + n * width;
                    const float *cr = cp + t * dim, *sr = sp + t * dim;
                    // The transpose of the rotation: (g1, g2) ↦ (g1·c + g2·s′, −g1·s + g2·c′).
                    auto unrotate = [&](const scalar_t *src, scalar_t *dst) {
                        for (int64_t i = 0; i < half; ++i) {
                            const float g1 = static_cast<float>(src[i]), g2 = static_cast<float>(src[i + half]);
                            dst[i] = static_cast<scalar_t>(g1 * cr[i] + g2 * sr[i + half]);
                            dst[i + half] = static_cast<scalar_t>(g2 * cr[i + half] - g1 * sr[i]);
                        }
                    };
                    for (int64_t h = 0; h < heads; ++h) unrotate(qp + ((b * heads + h) * length + t) * dim, row + h * dim);
                    for (int64_t g = 0; g < kv_heads; ++g) {
                        unrotate(kp + ((b * kv_heads + g) * length + t) * dim, row + (heads + g) * dim);
                        std::copy_n(vp + ((b * kv_heads + g) * length + t) * dim, dim, row + (heads + kv_heads + g) * dim);
                    }
                }
            });
        });
        return {gx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

// ───────────────────────────── vectorisable row arithmetic ─────────────────────────────

// exp(x) for x ≤ 0 (a softmax's shifted scores) in a form the compiler vectorises: 2^(x·log2 e) split
// into an integer power (built in the exponent bits) and a degree-5 polynomial on [−½, ½]; relative
// error < 2e-7. Below −87 the result is 0.
inline float exp_nonpositive(float x) {
    x = std::max(x, -87.0f);
    const float t = x * 1.44269504088896341f;
    // Round to nearest by the 1.5·2²³ trick (plain adds, which vectorise without SSE4.1's roundps).
    const float n = (t + 12582912.0f) - 12582912.0f;
    const float f = (t - n) * 0.693147180559945309f;
    float p = 1.0f + f * (1.0f + f * (0.5f + f * (0.166666671633f + f * (0.0416664853692f + f * 0.00833336077631f))));
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// The row loops below are built three times — AVX-512, AVX2 and baseline x86-64 — and the loader picks
// the one the CPU runs (an ifunc), so one shim binary is fast everywhere. Elsewhere they build once.
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__)) && defined(__linux__)
#define LOOM_ROW_KERNEL __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LOOM_ROW_KERNEL
#endif

// Reductions kept in kLanes partial results, so that the compiler vectorises them without reordering
// a single sum (which it may not do for floats): one lane per element of a 512-bit register.
constexpr int64_t kLanes = 16;

// σ(x) = 1 / (1 + e^−x) with the exponent never positive (no overflow): e = exp(−|x|), σ = 1/(1 + e) for
// x ≥ 0 and e/(1 + e) below. Branch-free, so a row of it vectorises.
inline float sigmoid(float x) {
    const float e = exp_nonpositive(-std::fabs(x));
    const float inverse = 1.0f / (1.0f + e);
    return x >= 0 ? inverse : e * inverse;
}

// ───────────────────────────── SwiGLU ─────────────────────────────

// σ(gate) is computed in the same pass as the products (`sigmoid` above) and again in backward, so
// neither pass writes or reads a separate σ tensor: the kernel moves only the gate|up input, the output
// and their gradients.
struct SwiGLU : public torch::autograd::Function<SwiGLU> {
    static at::Tensor forward(AutogradContext *ctx, const at::Tensor &gate_up) {
        if (gate_up.dim() != 2 || gate_up.size(1) % 2 != 0)
            throw std::invalid_argument("swiglu: expected [rows, 2·intermediate], got " + c10::str(gate_up.sizes()));
        const at::Tensor x = unit_stride_rows(gate_up);
        const int64_t rows = x.size(0), inner = x.size(1) / 2;
        at::Tensor y = at::empty({rows, inner}, x.options());
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "swiglu", [&] {
            const scalar_t *in = x.data_ptr<scalar_t>();
            scalar_t *out = y.data_ptr<scalar_t>();
            const int64_t stride = x.stride(0);
            ctorch::parallel_for(0, rows, row_grain(inner), [&](int64_t first, int64_t last) {
                for (int64_t n = first; n < last; ++n) {
                    const scalar_t *g = in + n * stride, *u = g + inner;
                    scalar_t *o = out + n * inner;
                    for (int64_t j = 0; j < inner; ++j) {
                        const float gate = static_cast<float>(g[j]);
                        o[j] = static_cast<scalar_t>(gate * sigmoid(gate) * static_cast<float>(u[j]));
                    }
                }
            });
        });
        ctx->save_for_backward({x});
        return y;
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &x = saved[0];
        const at::Tensor gy = grads[0].contiguous();
        const int64_t rows = x.size(0), inner = x.size(1) / 2;
        at::Tensor gx = at::empty({rows, 2 * inner}, x.options());
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "swiglu_backward", [&] {
            const scalar_t *in = x.data_ptr<scalar_t>(), *go = gy.data_ptr<scalar_t>();
            scalar_t *out = gx.data_ptr<scalar_t>();
            const int64_t stride = x.stride(0);
            ctorch::parallel_for(0, rows, row_grain(inner), [&](int64_t first, int64_t last) {
                for (int64_t n = first; n < last; ++n) {
                    const scalar_t *g = in + n * stride, *u = g + inner, *d = go + n * inner;
                    scalar_t *dg = out + n * 2 * inner, *du = dg + inner;
                    for (int64_t j = 0; j < inner; ++j) {
                        const float gate = static_cast<float>(g[j]), up = static_cast<float>(u[j]), grad = static_cast<float>(d[j]);
                        const float s = sigmoid(gate);
                        // d silu(g)/dg = σ(g)·(1 + g·(1 − σ(g)))
                        dg[j] = static_cast<scalar_t>(grad * up * s * (1.0f + gate * (1.0f - s)));
                        du[j] = static_cast<scalar_t>(grad * gate * s);
                    }
                }
            });
        });
        return {gx};
    }
};

// ───────────────────────────── cross-entropy ─────────────────────────────

// The targets that count for a mean cross-entropy (those not ignore_index), each checked to be a class.
int64_t counted_targets(const int64_t *targets, int64_t rows, int64_t classes, int64_t ignore_index, const char *kernel) {
    int64_t counted = 0;
    for (int64_t n = 0; n < rows; ++n) {
        if (targets[n] == ignore_index) continue;
        if (targets[n] < 0 || targets[n] >= classes)
            throw std::invalid_argument(std::string(kernel) + ": target " + std::to_string(targets[n]) + " at row " + std::to_string(n) +
                                        " is out of range for " + std::to_string(classes) + " classes");
        ++counted;
    }
    return counted;
}

// Mean cross-entropy over the targets that are not `ignore_index`. Forward computes the softmax (ATen's
// vectorised kernel), reads each row's loss −log p[target] from it and turns it in place into the
// gradient softmax − one-hot (zero for ignored rows); backward scales that by the upstream gradient
// over the count. The composite (log_softmax, nll_loss and their backwards) makes about three more
// passes over the (tokens × vocabulary) matrix.
struct CrossEntropy : public torch::autograd::Function<CrossEntropy> {
    static at::Tensor forward(AutogradContext *ctx, const at::Tensor &logits, const at::Tensor &targets, int64_t ignore_index) {
        if (logits.dim() != 2 || targets.dim() != 1 || targets.size(0) != logits.size(0) || targets.scalar_type() != at::kLong)
            throw std::invalid_argument("cross_entropy: expected logits [N, C] and int64 targets [N], got " + c10::str(logits.sizes()) +
                                        " and " + c10::str(targets.sizes()) + " " + dtype_name(targets.scalar_type()));
        const at::Tensor t = targets.contiguous();
        const int64_t rows = logits.size(0), classes = logits.size(1);
        const int64_t *tp = t.data_ptr<int64_t>();
        const int64_t counted = counted_targets(tp, rows, classes, ignore_index, "cross_entropy");
        at::Tensor probabilities = at::softmax(logits, 1, at::kFloat).contiguous();
        double total = 0;
        float *p = probabilities.data_ptr<float>();
        for (int64_t n = 0; n < rows; ++n) {
            float *row = p + n * classes;
            if (tp[n] == ignore_index) {
                std::fill_n(row, classes, 0.0f);
                continue;
            }
            // log(softmax) from the softmax: within f32 rounding of log_softmax for p ≫ 1e-38.
            total -= std::log(std::max(static_cast<double>(row[tp[n]]), 1e-45));
            row[tp[n]] -= 1.0f;
        }
        ctx->save_for_backward({probabilities});
        ctx->saved_data["count"] = counted;
        ctx->saved_data["dtype"] = static_cast<int64_t>(logits.scalar_type());
        return at::scalar_tensor(counted > 0 ? total / static_cast<double>(counted) : std::nan(""), logits.options());
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads) {
        const at::Tensor gradient = ctx->get_saved_variables()[0];
        const int64_t count = ctx->saved_data["count"].toInt();
        const auto dtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
        const at::Tensor scale = grads[0].to(at::kFloat) / static_cast<double>(std::max<int64_t>(count, 1));
        return {(gradient * scale).to(dtype), at::Tensor(), at::Tensor()};
    }
};


// ───────────────────────────── causal attention ─────────────────────────────

// The Fortran BLAS sgemm that libtorch itself calls (OpenBLAS here), found at run time in the process:
// libtorch links it but does not re-export it, and small per-block GEMMs through ATen would cost more
// in dispatch than in arithmetic. nullptr when absent (the kernel then reports an error).
using sgemm_fn = void (*)(const char *, const char *, const int *, const int *, const int *, const float *, const float *,
                          const int *, const float *, const int *, const float *, float *, const int *);

sgemm_fn blas_sgemm() {
    static const sgemm_fn function = reinterpret_cast<sgemm_fn>(dlsym(RTLD_DEFAULT, "sgemm_"));
    return function;
}

// Row-major C (m×n, ldc) = alpha·op(A)·op(B) + beta·C, op(A) m×k and op(B) k×n: the column-major
// product Cᵀ = op(B)ᵀ·op(A)ᵀ, which is BLAS's view of the same memory.
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
          const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    const char ta = transpose_a ? 'T' : 'N', tb = transpose_b ? 'T' : 'N';
    const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
    const int la = static_cast<int>(lda), lb = static_cast<int>(ldb), lc = static_cast<int>(ldc);
    blas_sgemm()(&tb, &ta, &ni, &mi, &ki, &alpha, b, &lb, a, &la, &beta, c, &lc);
}

// row[0, width): softmax over [begin, end), zero outside it (a query's causal window of scaled scores, or
// a whole row of logits). Returns the log-sum-exp of [begin, end), from which the row can be rebuilt
// (`probabilities_row`).
LOOM_ROW_KERNEL float softmax_row(float *row, int64_t begin, int64_t end, int64_t width) {
    float lanes[kLanes];
    std::fill_n(lanes, kLanes, -std::numeric_limits<float>::infinity());
    int64_t j = begin;
    for (; j + kLanes <= end; j += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) lanes[l] = std::max(lanes[l], row[j + l]);
    float high = -std::numeric_limits<float>::infinity();
    for (; j < end; ++j) high = std::max(high, row[j]);
    for (int64_t l = 0; l < kLanes; ++l) high = std::max(high, lanes[l]);
    for (j = begin; j < end; ++j) row[j] = exp_nonpositive(row[j] - high);
    std::fill_n(lanes, kLanes, 0.0f);
    for (j = begin; j + kLanes <= end; j += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) lanes[l] += row[j + l];
    float sum = 0;
    for (; j < end; ++j) sum += row[j];
    for (int64_t l = 0; l < kLanes; ++l) sum += lanes[l];
    const float inverse = 1.0f / sum;
    for (j = 0; j < begin; ++j) row[j] = 0;
    for (j = begin; j < end; ++j) row[j] *= inverse;
    for (j = end; j < width; ++j) row[j] = 0;
    return high + std::log(sum);
}

// The same row again from its scaled scores and log-sum-exp: exp(score − lse) over [begin, end), zero outside.
LOOM_ROW_KERNEL void probabilities_row(float *row, int64_t begin, int64_t end, int64_t width, float lse) {
    int64_t j = 0;
    for (; j < begin; ++j) row[j] = 0;
    for (; j < end; ++j) row[j] = exp_nonpositive(row[j] - lse);
    for (; j < width; ++j) row[j] = 0;
}

// The softmax's backward for one row, in place over dp: ds = p ⊙ (dp − δ) · scale, where δ = Σ_j p·dp,
// computed as dO·O (the same sum: O = P·V and dp = dO·Vᵀ).
LOOM_ROW_KERNEL void softmax_backward_row(const float *p, float *ds, int64_t width, float delta, float scale) {
    for (int64_t j = 0; j < width; ++j) ds[j] = p[j] * (ds[j] - delta) * scale;
}

// Σ_d a[d]·b[d] over one head's dim, in lanes.
LOOM_ROW_KERNEL float dot_row(const float *a, const float *b, int64_t n) {
    float lanes[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) lanes[l] += a[j + l] * b[j + l];
    float sum = 0;
    for (; j < n; ++j) sum += a[j] * b[j];
    for (int64_t l = 0; l < kLanes; ++l) sum += lanes[l];
    return sum;
}

constexpr int64_t kQueryBlock = 64;

// The keys query block [t0, t1) may see: [low, high) of the S keys (queries sit at offset + t).
inline std::pair<int64_t, int64_t> key_range(int64_t t0, int64_t t1, int64_t offset, int64_t window) {
    const int64_t high = offset + t1;
    const int64_t low = window > 0 ? std::max<int64_t>(0, offset + t0 - window + 1) : 0;
    return {low, high};
}

// Flash-style: forward keeps only each query's log-sum-exp (B, H, T) beside q, k, v and the output;
// backward rebuilds each block's probabilities from the scores (one more GEMM per block) instead of
// holding a (B, H, T, S) matrix per layer between the passes. Scores live in a per-thread scratch of
// kQueryBlock × S floats.
struct CausalAttention : public torch::autograd::Function<CausalAttention> {
    // q [B, H, T, D], k, v [B, KV, S, D] contiguous f32 → [B·T, H·D].
    static at::Tensor forward(AutogradContext *ctx, const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, int64_t window) {
        const int64_t batch = q.size(0), heads = q.size(1), length = q.size(2), dim = q.size(3);
        const int64_t kv_heads = k.size(1), keys = k.size(2), group = heads / kv_heads, offset = keys - length;
        const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
        at::Tensor out = at::empty({batch * length, heads * dim}, q.options());
        at::Tensor lse = at::empty({batch, heads, length}, q.options());
        const float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>();
        float *op = out.data_ptr<float>(), *lp = lse.data_ptr<float>();
        ctorch::parallel_for(0, batch * heads, 1, [&](int64_t first, int64_t last) {
            std::vector<float> scratch(static_cast<size_t>(kQueryBlock * keys));
            for (int64_t bh = first; bh < last; ++bh) {
                const int64_t b = bh / heads, h = bh % heads, g = b * kv_heads + h / group;
                const float *qh = qp + bh * length * dim, *kg = kp + g * keys * dim, *vg = vp + g * keys * dim;
                for (int64_t t0 = 0; t0 < length; t0 += kQueryBlock) {
                    const int64_t t1 = std::min(length, t0 + kQueryBlock), rows = t1 - t0;
                    const auto [low, high] = key_range(t0, t1, offset, window);
                    const int64_t span = high - low;
                    float *scores = scratch.data();  // rows × span
                    gemm(false, true, rows, span, dim, scale, qh + t0 * dim, dim, kg + low * dim, dim, 0.0f, scores, span);
                    for (int64_t i = 0; i < rows; ++i) {
                        const int64_t position = offset + t0 + i;
                        const int64_t first_key = window > 0 ? std::max<int64_t>(low, position - window + 1) : low;
                        lp[bh * length + t0 + i] = softmax_row(scores + i * span, first_key - low, position + 1 - low, span);
                    }
                    // out rows (b, t0..t1) at head h: P · V[low, high), leading dimension H·D.
                    gemm(false, false, rows, dim, span, 1.0f, scores, span, vg + low * dim, dim, 0.0f,
                         op + ((b * length + t0) * heads + h) * dim, heads * dim);
                }
            }
        });
        ctx->save_for_backward({q, k, v, out, lse});
        ctx->saved_data["window"] = window;
        return out;
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &out = saved[3], &lse = saved[4];
        const int64_t window = ctx->saved_data["window"].toInt();
        const int64_t batch = q.size(0), heads = q.size(1), length = q.size(2), dim = q.size(3);
        const int64_t kv_heads = k.size(1), keys = k.size(2), group = heads / kv_heads, offset = keys - length;
        const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
        const at::Tensor grad_out = grads[0].contiguous();
        at::Tensor gq = at::empty_like(q), gk = at::zeros_like(k), gv = at::zeros_like(v);
        const float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>();
        const float *op = out.data_ptr<float>(), *lp = lse.data_ptr<float>(), *gop = grad_out.data_ptr<float>();
        float *gqp = gq.data_ptr<float>(), *gkp = gk.data_ptr<float>(), *gvp = gv.data_ptr<float>();
        // One task per key/value head: the query heads of a group add into the same dk and dv.
        ctorch::parallel_for(0, batch * kv_heads, 1, [&](int64_t first, int64_t last) {
            std::vector<float> probabilities(static_cast<size_t>(kQueryBlock * keys)), scratch(static_cast<size_t>(kQueryBlock * keys));
            for (int64_t bg = first; bg < last; ++bg) {
                const int64_t b = bg / kv_heads;
                const float *kg = kp + bg * keys * dim, *vg = vp + bg * keys * dim;
                float *gkg = gkp + bg * keys * dim, *gvg = gvp + bg * keys * dim;
                for (int64_t h = (bg % kv_heads) * group; h < (bg % kv_heads + 1) * group; ++h) {
                    const int64_t bh = b * heads + h;
                    const float *qh = qp + bh * length * dim;
                    for (int64_t t0 = 0; t0 < length; t0 += kQueryBlock) {
                        const int64_t t1 = std::min(length, t0 + kQueryBlock), rows = t1 - t0;
                        const auto [low, high] = key_range(t0, t1, offset, window);
                        const int64_t span = high - low;
                        const int64_t token = (b * length + t0) * heads + h;
                        const float *dout = gop + token * dim, *o = op + token * dim;  // rows × D, leading dimension H·D
                        // P of the block again: exp(scale·Q·Kᵀ − lse).
                        float *p = probabilities.data();
                        gemm(false, true, rows, span, dim, scale, qh + t0 * dim, dim, kg + low * dim, dim, 0.0f, p, span);
                        for (int64_t i = 0; i < rows; ++i) {
                            const int64_t position = offset + t0 + i;
                            const int64_t first_key = window > 0 ? std::max<int64_t>(low, position - window + 1) : low;
                            probabilities_row(p + i * span, first_key - low, position + 1 - low, span, lp[bh * length + t0 + i]);
                        }
                        // dV[low, high) += Pᵀ · dO
                        gemm(true, false, span, dim, rows, 1.0f, p, span, dout, heads * dim, 1.0f, gvg + low * dim, dim);
                        // dP = dO · V[low, high)ᵀ, then dS = P ⊙ (dP − dO·O) · scale, in place.
                        float *ds = scratch.data();
                        gemm(false, true, rows, span, dim, 1.0f, dout, heads * dim, vg + low * dim, dim, 0.0f, ds, span);
                        for (int64_t i = 0; i < rows; ++i)
                            softmax_backward_row(p + i * span, ds + i * span, span, dot_row(dout + i * heads * dim, o + i * heads * dim, dim), scale);
                        // dQ = dS · K[low, high);  dK[low, high) += dSᵀ · Q
                        gemm(false, false, rows, dim, span, 1.0f, ds, span, kg + low * dim, dim, 0.0f, gqp + (bh * length + t0) * dim, dim);
                        gemm(true, false, span, dim, rows, 1.0f, ds, span, qh + t0 * dim, dim, 1.0f, gkg + low * dim, dim);
                    }
                }
            }
        });
        return {gq, gk, gv, at::Tensor()};
    }
};

// ───────────────────────────── head + cross-entropy, by chunks of rows ─────────────────────────────

// Mean cross-entropy of hidden (N, C) · weightᵀ (V, C) against targets (N), ignoring ignore_index, with
// both gradients computed in the forward pass a chunk of rows at a time (as Liger's fused linear
// cross-entropy): each chunk's logits are made by one GEMM, turned into softmax − one-hot in place, and
// multiplied back into the chunk's input gradient (and, when the head is trained, added into its weight
// gradient) while still in cache. No (N, V) tensor ever exists; backward only scales what forward kept.
struct LinearCrossEntropy : public torch::autograd::Function<LinearCrossEntropy> {
    static at::Tensor forward(AutogradContext *ctx, const at::Tensor &hidden, const at::Tensor &weight, const at::Tensor &targets,
                              int64_t ignore_index, int64_t chunk_rows, bool input_grad, bool weight_grad) {
        const int64_t rows = hidden.size(0), width = hidden.size(1), classes = weight.size(0);
        const at::Tensor t = targets.contiguous();
        const int64_t *tp = t.data_ptr<int64_t>();
        const int64_t counted = counted_targets(tp, rows, classes, ignore_index, "linear cross-entropy");
        const at::Tensor h = hidden.contiguous(), w = weight.contiguous();
        // Without a graph (evaluation) neither gradient is made: one GEMM per chunk instead of two or three.
        at::Tensor grad_hidden = input_grad ? at::empty({rows, width}, h.options()) : at::Tensor();
        at::Tensor grad_weight = weight_grad ? at::zeros({classes, width}, w.options()) : at::Tensor();
        const int64_t chunk = std::max<int64_t>(1, std::min(chunk_rows, rows));
        at::Tensor logits = at::empty({chunk, classes}, h.options());
        std::vector<double> row_loss(static_cast<size_t>(chunk));
        const float *hp = h.data_ptr<float>(), *wp = w.data_ptr<float>();
        float *lp = logits.data_ptr<float>(), *ghp = input_grad ? grad_hidden.data_ptr<float>() : nullptr;
        float *gwp = weight_grad ? grad_weight.data_ptr<float>() : nullptr;
        double total = 0;
        for (int64_t c0 = 0; c0 < rows; c0 += chunk) {
            const int64_t count = std::min(chunk, rows - c0);
            gemm(false, true, count, classes, width, 1.0f, hp + c0 * width, width, wp, width, 0.0f, lp, classes);
            ctorch::parallel_for(0, count, row_grain(classes), [&](int64_t first, int64_t last) {
                for (int64_t r = first; r < last; ++r) {
                    float *row = lp + r * classes;
                    const int64_t target = tp[c0 + r];
                    if (target == ignore_index) {
                        std::fill_n(row, classes, 0.0f);
                        row_loss[static_cast<size_t>(r)] = 0;
                        continue;
                    }
                    const float logit = row[target];
                    row_loss[static_cast<size_t>(r)] = static_cast<double>(softmax_row(row, 0, classes, classes)) - logit;
                    row[target] -= 1.0f;
                }
            });
            for (int64_t r = 0; r < count; ++r) total += row_loss[static_cast<size_t>(r)];
            if (input_grad) gemm(false, false, count, width, classes, 1.0f, lp, classes, wp, width, 0.0f, ghp + c0 * width, width);
            if (weight_grad) gemm(true, false, classes, width, count, 1.0f, lp, classes, hp + c0 * width, width, 1.0f, gwp, width);
        }
        ctx->save_for_backward({input_grad ? grad_hidden : at::empty({0}, h.options()), weight_grad ? grad_weight : at::empty({0}, h.options())});
        ctx->saved_data["count"] = counted;
        ctx->saved_data["input_grad"] = input_grad;
        ctx->saved_data["weight_grad"] = weight_grad;
        return at::scalar_tensor(counted > 0 ? total / static_cast<double>(counted) : std::nan(""), h.options());
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const at::Tensor scale = grads[0].to(at::kFloat) / static_cast<double>(std::max<int64_t>(ctx->saved_data["count"].toInt(), 1));
        return {ctx->saved_data["input_grad"].toBool() ? saved[0] * scale : at::Tensor(),
                ctx->saved_data["weight_grad"].toBool() ? saved[1] * scale : at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
                at::Tensor(), at::Tensor()};
    }
};

// ───────────────────────────── LoRA updates of a projection, in place ─────────────────────────────

// output (N, W) += Σ_i scale_i · low_rank[:, columns of i] · B_iᵀ into output columns [offset_i,
// offset_i + out_i), in place. low_rank (N, Σ r_i) holds dropout(x)·A_iᵀ side by side; B_i is (out_i, r_i).
// Up to kMaxParts B's, passed as separate arguments (libtorch 1.13's custom functions track Tensor
// arguments, neither lists nor undefined tensors); the unused ones are empty placeholders.
constexpr size_t kMaxParts = 3;

struct LoRAUpdate : public torch::autograd::Function<LoRAUpdate> {
    static at::Tensor forward(AutogradContext *ctx, at::Tensor output, const at::Tensor &low_rank, const at::Tensor &b0,
                              const at::Tensor &b1, const at::Tensor &b2, std::vector<int64_t> offsets, std::vector<double> scales) {
        std::vector<at::Tensor> b_matrices;
        for (const at::Tensor *b : {&b0, &b1, &b2})
            if (b->numel() > 0) b_matrices.push_back(*b);
        const int64_t rows = output.size(0), width = output.size(1), ranks = low_rank.size(1);
        if (!output.is_contiguous() || low_rank.size(0) != rows || b_matrices.size() != offsets.size() || offsets.size() != scales.size())
            throw std::invalid_argument("lora update: expected a contiguous output [N, W], low-rank inputs [N, Σr] and one offset and scale per B");
        const at::Tensor inputs = low_rank.contiguous();
        std::vector<at::Tensor> bs;
        int64_t column = 0;
        for (size_t i = 0; i < b_matrices.size(); ++i) {
            const at::Tensor b = b_matrices[i].contiguous();
            if (b.dim() != 2 || offsets[i] < 0 || offsets[i] + b.size(0) > width || column + b.size(1) > ranks)
                throw std::invalid_argument("lora update: B " + std::to_string(i) + " " + c10::str(b.sizes()) + " does not fit at output column " +
                                            std::to_string(offsets[i]) + " of " + std::to_string(width));
            column += b.size(1);
            bs.push_back(b);
        }
        if (column != ranks) throw std::invalid_argument("lora update: the ranks of the B's do not add up to the low-rank width");
        float *out = output.data_ptr<float>();
        const float *in = inputs.data_ptr<float>();
        column = 0;
        for (size_t i = 0; i < bs.size(); ++i) {
            const int64_t out_features = bs[i].size(0), rank = bs[i].size(1);
            gemm(false, true, rows, out_features, rank, static_cast<float>(scales[i]), in + column, ranks, bs[i].data_ptr<float>(), rank, 1.0f,
                 out + offsets[i], width);
            column += rank;
        }
        ctx->mark_dirty({output});
        std::vector<at::Tensor> saved{inputs};
        saved.insert(saved.end(), bs.begin(), bs.end());
        ctx->save_for_backward(saved);
        ctx->saved_data["offsets"] = offsets;
        ctx->saved_data["scales"] = scales;
        return output;
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &inputs = saved[0];
        const auto offsets = ctx->saved_data["offsets"].toIntVector();
        const auto scales = ctx->saved_data["scales"].toDoubleVector();
        const at::Tensor g = grads[0].contiguous();
        const int64_t rows = g.size(0), width = g.size(1), ranks = inputs.size(1);
        at::Tensor grad_inputs = at::empty_like(inputs);
        const float *gp = g.data_ptr<float>(), *in = inputs.data_ptr<float>();
        float *gi = grad_inputs.data_ptr<float>();
        variable_list result{grads[0], grad_inputs};
        const size_t parts = saved.size() - 1;
        std::vector<int64_t> columns(parts, 0);  // where part i's rank columns start in low_rank
        for (size_t i = 1; i < parts; ++i) columns[i] = columns[i - 1] + saved[i].size(1);
        // Both GEMMs of a part read the same rows of g, which is wide (N × W) while their outputs are
        // narrow: by blocks of rows, each block of g is read from memory once and again from cache.
        //   d low_rank[rows, i] = s·g[rows, part i]·B_i ;  d B_i += s·g[rows, part i]ᵀ·low_rank[rows, i]
        // Each task sums its blocks' d B_i in its own tensor; the tasks' sums are added in row order.
        constexpr int64_t kRowBlock = 128;
        std::mutex mutex;
        std::vector<std::pair<int64_t, at::Tensor>> sums;
        ctorch::parallel_for(0, (rows + kRowBlock - 1) / kRowBlock, 1, [&](int64_t first, int64_t last) {
            at::Tensor partial = at::zeros({ranks, width}, g.options());  // d B_iᵀ of every part, side by side
            float *pp = partial.data_ptr<float>();
            for (int64_t block = first; block < last; ++block) {
                const int64_t r0 = block * kRowBlock, count = std::min(kRowBlock, rows - r0);
                for (size_t i = 0; i < parts; ++i) {
                    const at::Tensor &b = saved[i + 1];
                    const int64_t out_features = b.size(0), rank = b.size(1);
                    const float scale = static_cast<float>(scales[i]);
                    const float *g_rows = gp + r0 * width + offsets[i];
                    gemm(false, false, count, rank, out_features, scale, g_rows, width, b.data_ptr<float>(), rank, 0.0f,
                         gi + r0 * ranks + columns[i], ranks);
                    // (d B_i)ᵀ (rank × out) += s·low_rank[rows, i]ᵀ·g[rows, part i], into the slot's rows of part i.
                    gemm(true, false, rank, out_features, count, scale, in + r0 * ranks + columns[i], ranks, g_rows, width, 1.0f,
                         pp + columns[i] * width + offsets[i], width);
                }
            }
            const std::lock_guard<std::mutex> lock(mutex);
            sums.emplace_back(first, partial);
        });
        std::sort(sums.begin(), sums.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
        at::Tensor total = sums.empty() ? at::zeros({ranks, width}, g.options()) : sums.front().second;
        for (size_t k = 1; k < sums.size(); ++k) total.add_(sums[k].second);
        for (size_t i = 0; i < parts; ++i) {
            const int64_t out_features = saved[i + 1].size(0), rank = saved[i + 1].size(1);
            result.push_back(total.narrow(0, columns[i], rank).narrow(1, offsets[i], out_features).t().contiguous());
        }
        result.resize(2 + kMaxParts + 2);  // no gradient for the unused B slots, the offsets, the scales
        return result;
    }
};

} // namespace

extern "C" {

int ctorch_attention_heads(ctorch_tensor qkv, ctorch_tensor cos, ctorch_tensor sin, int64_t batch, int64_t heads, int64_t kv_heads,
                           ctorch_tensor *out_q, ctorch_tensor *out_k, ctorch_tensor *out_v, char **err) {
    return guarded(err, [&] {
        if (batch <= 0 || heads <= 0 || kv_heads <= 0 || heads % kv_heads != 0)
            throw std::invalid_argument("attention heads: batch, heads and kv_heads must be positive, kv_heads dividing heads");
        const at::Tensor &x = borrow(qkv);
        if (x.dim() != 2 || x.size(0) % batch != 0)
            throw std::invalid_argument("attention heads: qkv must be [batch·T, width], got " + c10::str(x.sizes()));
        require_cpu(x, "attention heads");
        variable_list out = AttentionHeads::apply(x, borrow(cos), borrow(sin), batch, heads, kv_heads);
        ctorch_tensor k = make_handle(out[1]);
        ctorch_tensor v = make_handle(out[2]);
        *out_q = make_handle(out[0]);
        *out_k = k;
        *out_v = v;
    }, [&] { return describe_op("attention_heads", {qkv, cos, sin}); });
}

int ctorch_swiglu(ctorch_tensor gate_up, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const at::Tensor &x = borrow(gate_up);
        require_cpu(x, "swiglu");
        *out = make_handle(SwiGLU::apply(x));
    }, [&] { return describe_op("swiglu", {gate_up}); });
}

int ctorch_cross_entropy_fused(ctorch_tensor logits, ctorch_tensor targets, int64_t ignore_index, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const at::Tensor &x = borrow(logits);
        require_cpu(x, "cross_entropy_fused");
        *out = make_handle(CrossEntropy::apply(x, borrow(targets), ignore_index));
    }, [&] { return describe_op("cross_entropy_fused", {logits, targets}); });
}

int ctorch_linear_cross_entropy(ctorch_tensor hidden, ctorch_tensor weight, ctorch_tensor targets, int64_t ignore_index, int64_t chunk_rows,
                                ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const at::Tensor &h = borrow(hidden), &w = borrow(weight), &t = borrow(targets);
        if (h.dim() != 2 || w.dim() != 2 || h.size(1) != w.size(1) || t.dim() != 1 || t.size(0) != h.size(0) || t.scalar_type() != at::kLong)
            throw std::invalid_argument("linear cross-entropy: expected hidden [N, C], weight [V, C] and int64 targets [N], got " +
                                        c10::str(h.sizes()) + ", " + c10::str(w.sizes()) + " and " + c10::str(t.sizes()) + " " +
                                        dtype_name(t.scalar_type()));
        for (const at::Tensor *x : {&h, &w}) {
            require_cpu(*x, "linear cross-entropy");
            if (x->scalar_type() != at::kFloat) throw std::invalid_argument("linear cross-entropy runs on f32 tensors");
        }
        if (chunk_rows < 1) throw std::invalid_argument("linear cross-entropy: chunk_rows must be at least 1, got " + std::to_string(chunk_rows));
        if (blas_sgemm() == nullptr) throw std::runtime_error("linear cross-entropy: no BLAS sgemm_ in the process");
        const bool recording = at::GradMode::is_enabled();
        *out = make_handle(LinearCrossEntropy::apply(h, w, t, ignore_index, chunk_rows, recording && h.requires_grad(),
                                                     recording && w.requires_grad()));
    }, [&] { return describe_op("linear_cross_entropy", {hidden, weight, targets}); });
}

int ctorch_scaled_dot_product_attention(ctorch_tensor q, ctorch_tensor k, ctorch_tensor v, ctorch_tensor mask, int is_causal,
                                        double scale, int enable_gqa, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        std::optional<at::Tensor> attention_mask;
        if (mask != nullptr) attention_mask = borrow(mask);
        std::optional<double> factor;
        if (scale > 0) factor = scale;
        *out = make_handle(at::scaled_dot_product_attention(borrow(q), borrow(k), borrow(v), attention_mask, 0.0, is_causal != 0,
                                                            factor, enable_gqa != 0));
    }, [&] { return describe_op("scaled_dot_product_attention", {q, k, v}); });
}

int ctorch_causal_attention(ctorch_tensor q, ctorch_tensor k, ctorch_tensor v, int64_t window, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const at::Tensor &queries = borrow(q), &keys = borrow(k), &values = borrow(v);
        if (queries.dim() != 4 || keys.dim() != 4 || values.sizes() != keys.sizes() || keys.size(0) != queries.size(0) ||
            keys.size(3) != queries.size(3) || keys.size(1) <= 0 || queries.size(1) % keys.size(1) != 0 || keys.size(2) < queries.size(2))
            throw std::invalid_argument("causal attention: expected q [B, H, T, D] and k, v [B, KV, S, D] with KV dividing H and S ≥ T");
        for (const at::Tensor *t : {&queries, &keys, &values}) {
            require_cpu(*t, "causal attention");
            if (t->scalar_type() != at::kFloat) throw std::invalid_argument("causal attention runs on f32 tensors");
        }
        if (blas_sgemm() == nullptr) throw std::runtime_error("causal attention: no BLAS sgemm_ in the process");
        *out = make_handle(CausalAttention::apply(queries.contiguous(), keys.contiguous(), values.contiguous(), window));
    }, [&] { return describe_op("causal_attention", {q, k, v}); });
}

int ctorch_lora_update_inplace(ctorch_tensor output, ctorch_tensor low_rank, const ctorch_tensor *b_matrices, const int64_t *offsets,
                               const double *scales, int count, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        if (count <= 0 || static_cast<size_t>(count) > kMaxParts)
            throw std::invalid_argument("lora update: expected 1 to " + std::to_string(kMaxParts) + " B matrices, got " + std::to_string(count));
        at::Tensor &y = borrow_mut(output);
        const at::Tensor &x = borrow(low_rank);
        std::vector<at::Tensor> bs;
        for (int i = 0; i < count; ++i) bs.push_back(borrow(b_matrices[i]));
        while (bs.size() < kMaxParts) bs.push_back(at::empty({0}, x.options()));
        for (const at::Tensor *t : {static_cast<const at::Tensor *>(&y), &x}) {
            require_cpu(*t, "lora update");
            if (t->scalar_type() != at::kFloat) throw std::invalid_argument("lora update runs on f32 tensors");
        }
        for (const at::Tensor &b : bs)
            if (!b.device().is_cpu() || b.scalar_type() != at::kFloat)
                throw std::invalid_argument("lora update: B matrices must be f32 CPU tensors");
        if (blas_sgemm() == nullptr) throw std::runtime_error("lora update: no BLAS sgemm_ in the process");
        *out = make_handle(LoRAUpdate::apply(y, x, bs[0], bs[1], bs[2], std::vector<int64_t>(offsets, offsets + count),
                                             std::vector<double>(scales, scales + count)));
    }, [&] { return describe_op("lora_update_inplace", {output, low_rank}); });
}

} // extern "C"
