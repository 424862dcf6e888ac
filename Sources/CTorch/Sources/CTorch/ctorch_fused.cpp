// ctorch_fused.cpp — fused C++ kernels for composites that are measured hot spots (see bench/torch-ops):
// block-wise 4-bit codebook quantisation and dequantisation (QLoRA's NF4 storage), where the composite of
// ATen ops makes several full-size passes with int64 index tensors and the loop here makes one; and the
// linear layer over such a weight, which recomputes the weight in backward instead of keeping it; and
// RMSNorm, one pass each way instead of ~16.
#include "ctorch_internal.hpp"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <array>
#include <cmath>

using namespace ctorch;

namespace {

constexpr int64_t kCodes = 16;

std::array<float, kCodes> codebook_values(const at::Tensor &codebook) {
    if (codebook.numel() != kCodes || !codebook.is_floating_point())
        throw std::invalid_argument("codebook must hold 16 floating-point values, got " + c10::str(codebook.sizes()) + " " +
                                    dtype_name(codebook.scalar_type()));
    const at::Tensor values = codebook.detach().to(at::kCPU, at::kFloat).contiguous();
    std::array<float, kCodes> result{};
    std::memcpy(result.data(), values.data_ptr<float>(), sizeof(float) * kCodes);
    return result;
}

void check_block_size(int64_t block_size) {
    if (block_size <= 0 || block_size % 2 != 0)
        throw std::invalid_argument("block size must be a positive even number, got " + std::to_string(block_size));
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Blocks per parallel task: about 16k elements, so that small tensors stay on one thread.
int64_t block_grain(int64_t block_size) { return std::max<int64_t>(1, 16384 / block_size); }

// Σ a[j]·b[j]·c[j] in f32 with eight independent partial sums, a shape the compiler vectorises (a
// single running sum must keep its order and stays scalar). `c` is a pointer or `Ones()` (Σ a·b).
template <typename T, typename U, typename V>
float sum_of_products(const T *a, const U *b, const V &c, int64_t n) {
    float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; ++k)
            partial[k] += static_cast<float>(a[j + k]) * static_cast<float>(b[j + k]) * static_cast<float>(c[j + k]);
    float sum = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
    for (; j < n; ++j) sum += static_cast<float>(a[j]) * static_cast<float>(b[j]) * static_cast<float>(c[j]);
    return sum;
}

// A row of ones: the third factor of sum_of_products when there are only two.
struct Ones {
    float operator[](int64_t) const { return 1.0f; }
};

void check_packed_codes(const at::Tensor &codes, int64_t n, const std::vector<int64_t> &sizes) {
    if (codes.scalar_type() != at::kByte || codes.numel() != ceil_div(n, 2))
        throw std::invalid_argument("packed codes must be u8 with " + std::to_string(ceil_div(n, 2)) + " elements for shape " +
                                    c10::str(at::IntArrayRef(sizes)) + ", got " + c10::str(codes.sizes()) + " " +
                                    dtype_name(codes.scalar_type()));
}

// The absmax of a 4-bit weight's blocks, in one of two forms: f32, one per block; or double-quantised as
// QLoRA stores them — one u8 code per block into a 256-entry f32 table, times the f32 scale of its group
// of `group` codes, plus one offset (absmax = table[code]·scale + offset, in f32). Reading the codes
// directly lets a 4-bit linear keep only them (a quarter of the f32 bytes) from forward to backward.
struct BlockAbsmax {
    at::Tensor values; // f32 absmax, or u8 codes
    at::Tensor scales; // f32 per group (double-quantised only)
    at::Tensor table;  // f32 [256] (double-quantised only)
    double offset = 0;
    int64_t group = 0;

    bool double_quantized() const { return scales.defined(); }

    void check(int64_t blocks, int64_t block_size) const {
        if (!double_quantized()) {
            if (values.scalar_type() != at::kFloat || values.numel() != blocks)
                throw std::invalid_argument("absmax must be f32 with " + std::to_string(blocks) + " elements (one per block of " +
                                            std::to_string(block_size) + "), got " + c10::str(values.sizes()) + " " +
                                            dtype_name(values.scalar_type()));
            return;
        }
        if (group <= 0) throw std::invalid_argument("absmax block size must be positive, got " + std::to_string(group));
        if (values.scalar_type() != at::kByte || values.numel() != blocks)
            throw std::invalid_argument("absmax codes must be u8 with " + std::to_string(blocks) + " elements (one per block of " +
                                        std::to_string(block_size) + "), got " + c10::str(values.sizes()) + " " +
                                        dtype_name(values.scalar_type()));
        if (scales.scalar_type() != at::kFloat || scales.numel() != ceil_div(blocks, group))
            throw std::invalid_argument("absmax scales must be f32 with " + std::to_string(ceil_div(blocks, group)) +
                                        " elements (one per " + std::to_string(group) + " absmax), got " + c10::str(scales.sizes()) +
                                        " " + dtype_name(scales.scalar_type()));
        if (table.scalar_type() != at::kFloat || table.numel() != 256)
            throw std::invalid_argument("absmax code table must be f32 with 256 elements, got " + c10::str(table.sizes()) + " " +
                                        dtype_name(table.scalar_type()));
    }

    // Every absmax as f32 (for devices without the CPU loops).
    at::Tensor dense(int64_t blocks) const {
        if (!double_quantized()) return values;
        const at::Tensor levels = table.index_select(0, values.reshape({-1}).to(at::kLong));
        const at::Tensor per_block = scales.reshape({-1}).repeat_interleave(group).narrow(0, 0, blocks);
        return levels * per_block + offset;
    }
};

// Raw pointers into a CPU BlockAbsmax; `at(b)` is block b's absmax.
struct BlockAbsmaxReader {
    at::Tensor values, scales, table; // contiguous CPU copies kept alive while reading
    const float *f32 = nullptr;
    const uint8_t *codes = nullptr;
    const float *scale = nullptr;
    const float *levels = nullptr;
    float offset = 0;
    int64_t group = 1;

    explicit BlockAbsmaxReader(const BlockAbsmax &absmax) : values(absmax.values.contiguous()) {
        if (!absmax.double_quantized()) {
            f32 = values.data_ptr<float>();
            return;
        }
        scales = absmax.scales.contiguous();
        table = absmax.table.contiguous();
        codes = values.data_ptr<uint8_t>();
        scale = scales.data_ptr<float>();
        levels = table.data_ptr<float>();
        offset = static_cast<float>(absmax.offset);
        group = absmax.group;
    }

    float at(int64_t block) const {
        if (f32 != nullptr) return f32[block];
        // Two statements, so that no fused multiply-add changes the rounding of the tensor-op composite.
        const float scaled = levels[codes[block]] * scale[block / group];
        return scaled + offset;
    }
};

// Elements [begin, end) of the row-major 4-bit weight, codebook[code] · absmax, written to o[0…end−begin).
template <typename scalar_t>
void dequantize_range(const uint8_t *c, const BlockAbsmaxReader &absmax, const std::array<float, kCodes> &levels,
                      int64_t block_size, int64_t begin, int64_t end, scalar_t *o) {
    if (begin >= end) return;
    const int64_t first_block = begin / block_size, last_block = ceil_div(end, block_size);
    ctorch::parallel_for(first_block, last_block, block_grain(block_size), [&](int64_t first, int64_t last) {
        for (int64_t b = first; b < last; ++b) {
            const float scale = absmax.at(b);
            scalar_t table[kCodes];
            for (int64_t k = 0; k < kCodes; ++k) table[k] = static_cast<scalar_t>(levels[k] * scale);
            const int64_t low = std::max(begin, b * block_size), high = std::min(end, (b + 1) * block_size);
            int64_t i = low;
            if (i % 2 != 0 && i < high) {
                o[i - begin] = table[c[i / 2] & 15];
                ++i;
            }
            for (; i + 1 < high; i += 2) {
                const uint8_t byte = c[i / 2];
                o[i - begin] = table[byte >> 4];
                o[i + 1 - begin] = table[byte & 15];
            }
            if (i < high) o[i - begin] = table[c[i / 2] >> 4];
        }
    });
}

// codebook[code] · absmax[block] for every element, as `target` (computed in f32, then converted).
at::Tensor dequantize_4bit(const at::Tensor &codes, const BlockAbsmax &absmax, const at::Tensor &book, int64_t block_size,
                           const std::vector<int64_t> &sizes, at::ScalarType target) {
    check_block_size(block_size);
    int64_t n = 1;
    for (int64_t size : sizes) n *= size;
    check_packed_codes(codes, n, sizes);
    absmax.check(ceil_div(n, block_size), block_size);
    if (!at::isFloatingType(target)) throw std::invalid_argument("dequantize_4bit produces floating-point tensors");

    if (!codes.device().is_cpu()) {
        // The same arithmetic as ATen ops, for devices without the loop below.
        const at::Tensor high = at::bitwise_right_shift(codes.reshape({-1}), 4);
        const at::Tensor low = at::bitwise_and(codes.reshape({-1}), 15);
        const at::Tensor index = at::stack({high, low}, 1).reshape({-1}).narrow(0, 0, n).to(at::kLong);
        const at::Tensor levels = book.to(codes.device(), at::kFloat).reshape({-1}).index_select(0, index);
        const at::Tensor per_element = absmax.dense(ceil_div(n, block_size)).reshape({-1}).repeat_interleave(block_size).narrow(0, 0, n);
        return (levels * per_element).reshape(sizes).to(target);
    }

    const auto levels = codebook_values(book);
    const BlockAbsmaxReader reader(absmax);
    const at::Tensor code_values = codes.contiguous();
    at::Tensor result = at::empty(sizes, at::TensorOptions().dtype(target));
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, target, "dequantize_4bit", [&] {
        dequantize_range(code_values.data_ptr<uint8_t>(), reader, levels, block_size, 0, n, result.data_ptr<scalar_t>());
    });
    return result;
}

// The most bytes of dequantised weight a 4-bit linear holds at once: the weight is rebuilt and multiplied
// in blocks of rows of about this size (a hidden-2048 model's 2048×5632 f32 weight would be 46 MB).
constexpr int64_t kRowBlockBytes = 4 << 20;

// The 4-bit weight [out_features, in_features]: its codes, absmax and codebook, and how to rebuild rows.
struct Weight4Bit {
    at::Tensor packed;
    BlockAbsmax absmax;
    at::Tensor codebook;
    int64_t block_size, out_features, in_features;

    void check() const {
        check_block_size(block_size);
        check_packed_codes(packed, out_features * in_features, {out_features, in_features});
        absmax.check(ceil_div(out_features * in_features, block_size), block_size);
    }

    at::Tensor dense(at::ScalarType dtype) const {
        return dequantize_4bit(packed, absmax, codebook, block_size, {out_features, in_features}, dtype);
    }

    // Calls body(first_row, rows) with `rows` rows dequantised into a (rows, in_features) tensor of
    // `dtype`, block after block; one buffer of at most kRowBlockBytes serves every block.
    template <typename Body>
    void for_each_row_block(at::ScalarType dtype, const Body &body) const {
        const int64_t row_bytes = std::max<int64_t>(1, in_features * static_cast<int64_t>(c10::elementSize(dtype)));
        const int64_t rows_per_block = std::max<int64_t>(1, std::min(out_features, kRowBlockBytes / row_bytes));
        const auto levels = codebook_values(codebook);
        const BlockAbsmaxReader reader(absmax);
        const at::Tensor codes = packed.contiguous();
        const at::Tensor buffer = at::empty({rows_per_block, in_features}, at::TensorOptions().dtype(dtype));
        for (int64_t first = 0; first < out_features; first += rows_per_block) {
            const int64_t rows = std::min(rows_per_block, out_features - first);
            const at::Tensor block = buffer.narrow(0, 0, rows);
            AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, dtype, "dequantize_4bit_rows", [&] {
                dequantize_range(codes.data_ptr<uint8_t>(), reader, levels, block_size, first * in_features,
                                 (first + rows) * in_features, block.data_ptr<scalar_t>());
            });
            body(first, rows, block);
        }
    }

    // x · Wᵀ, x [..., in_features]: on the CPU each block of rows yields its columns of the output.
    at::Tensor linear(const at::Tensor &x) const {
        if (x.dim() == 0 || x.size(-1) != in_features)
            throw std::invalid_argument("input's last dimension must be " + std::to_string(in_features) + ", got shape " +
                                        c10::str(x.sizes()));
        if (!x.device().is_cpu() || !packed.device().is_cpu()) return at::linear(x, dense(x.scalar_type()));
        const at::Tensor input = x.reshape({-1, in_features}).contiguous();
        // The result is allocated in its final shape and written through a 2-D view: a view returned
        // from a custom autograd function could not be modified in place (the LoRA update adds into it).
        std::vector<int64_t> sizes(x.sizes().begin(), x.sizes().end());
        sizes.back() = out_features;
        at::Tensor y = at::empty(sizes, input.options());
        const at::Tensor matrix = y.view({input.size(0), out_features});
        for_each_row_block(x.scalar_type(), [&](int64_t first, int64_t rows, const at::Tensor &block) {
            at::Tensor columns = matrix.narrow(1, first, rows);
            at::mm_out(columns, input, block.t());
        });
        return y;
    }

    // grad · W, grad [..., out_features]: the blocks of rows' contributions summed.
    at::Tensor grad_input(const at::Tensor &grad) const {
        if (!grad.device().is_cpu() || !packed.device().is_cpu()) return grad.matmul(dense(grad.scalar_type()));
        const at::Tensor g = grad.reshape({-1, out_features}).contiguous();
        std::vector<int64_t> sizes(grad.sizes().begin(), grad.sizes().end());
        sizes.back() = in_features;
        at::Tensor result = at::empty(sizes, g.options());
        at::Tensor matrix = result.view({g.size(0), in_features});
        for_each_row_block(grad.scalar_type(), [&](int64_t first, int64_t rows, const at::Tensor &block) {
            const at::Tensor columns = g.narrow(1, first, rows);
            if (first == 0) at::mm_out(matrix, columns, block);
            else matrix.addmm_(columns, block);
        });
        return result;
    }
};

// y = x · Wᵀ with W [out, in] stored as 4-bit codes. Differentiable with respect to x only (W is frozen):
// W is dequantised in forward and again in backward instead of being saved, so between forward and
// backward a stack of quantised layers holds only their codes and absmax (codes too when
// double-quantised) — what keeps QLoRA's memory small (a plain dequantise-then-linear would have autograd
// keep every dequantised weight alive). On the CPU the weight is rebuilt a block of rows at a time
// (kRowBlockBytes), so not even one whole dense weight exists during the call.
struct Linear4Bit : public torch::autograd::Function<Linear4Bit> {
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, const at::Tensor &packed,
                              const at::Tensor &absmax, const c10::optional<at::Tensor> &absmax_scales,
                              const c10::optional<at::Tensor> &absmax_table, double absmax_offset, int64_t absmax_group,
                              const at::Tensor &codebook, int64_t block_size, int64_t out_features, int64_t in_features) {
        // The scales and table are absent (not undefined tensors, which autograd's inputs cannot be) for f32 absmax.
        const at::Tensor scales = absmax_scales.value_or(at::Tensor()), table = absmax_table.value_or(at::Tensor());
        const Weight4Bit weight{packed, BlockAbsmax{absmax, scales, table, absmax_offset, absmax_group}, codebook, block_size,
                                out_features, in_features};
        weight.check();
        ctx->save_for_backward({packed, absmax, scales, table, codebook});
        ctx->saved_data["absmax_offset"] = absmax_offset;
        ctx->saved_data["absmax_group"] = absmax_group;
        ctx->saved_data["block_size"] = block_size;
        ctx->saved_data["out_features"] = out_features;
        ctx->saved_data["in_features"] = in_features;
        return weight.linear(x);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                   torch::autograd::variable_list grad_outputs) {
        const auto saved = ctx->get_saved_variables();
        const Weight4Bit weight{saved[0],
                                BlockAbsmax{saved[1], saved[2], saved[3], ctx->saved_data["absmax_offset"].toDouble(),
                                            ctx->saved_data["absmax_group"].toInt()},
                                saved[4],
                                ctx->saved_data["block_size"].toInt(),
                                ctx->saved_data["out_features"].toInt(),
                                ctx->saved_data["in_features"].toInt()};
        return {weight.grad_input(grad_outputs[0]), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
                at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

// RMSNorm over the last dimension, y = weight · x / sqrt(mean(x²) + eps), as Llama's (statistics in
// f32 whatever x's dtype). The composite (pow, mean, add, rsqrt, mul, mul) makes six passes forward and
// about ten in backward, saving several full-size intermediates; this makes one pass each way and saves
// only x and one f32 per row.
struct RMSNorm : public torch::autograd::Function<RMSNorm> {
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, const at::Tensor &weight,
                              double eps) {
        const int64_t hidden = x.size(-1);
        if (weight.dim() != 1 || weight.size(0) != hidden)
            throw std::invalid_argument("RMSNorm weight must be [" + std::to_string(hidden) + "], got " + c10::str(weight.sizes()));
        const at::Tensor input = x.contiguous();
        const at::Tensor w = weight.to(at::kFloat).contiguous();
        const int64_t rows = input.numel() / std::max<int64_t>(hidden, 1);
        at::Tensor rstd = at::empty({rows}, input.options().dtype(at::kFloat));
        at::Tensor y = at::empty_like(input);
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, input.scalar_type(), "rms_norm", [&] {
            const scalar_t *in = input.data_ptr<scalar_t>();
            scalar_t *out = y.data_ptr<scalar_t>();
            const float *wp = w.data_ptr<float>();
            float *r = rstd.data_ptr<float>();
            ctorch::parallel_for(0, rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(hidden, 1)), [&](int64_t first, int64_t last) {
                for (int64_t row = first; row < last; ++row) {
                    const scalar_t *xr = in + row * hidden;
                    const float sum = sum_of_products(xr, xr, Ones(), hidden);
                    const float inverse = 1.0f / std::sqrt(sum / static_cast<float>(hidden) + static_cast<float>(eps));
                    r[row] = inverse;
                    scalar_t *yr = out + row * hidden;
                    for (int64_t j = 0; j < hidden; ++j)
                        yr[j] = static_cast<scalar_t>(wp[j] * static_cast<float>(static_cast<scalar_t>(static_cast<float>(xr[j]) * inverse)));
                }
            });
        });
        ctx->save_for_backward({input, weight, rstd});
        return y;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                   torch::autograd::variable_list grad_outputs) {
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &input = saved[0], &weight = saved[1], &rstd = saved[2];
        const at::Tensor grad = grad_outputs[0].contiguous();
        const int64_t hidden = input.size(-1);
        const int64_t rows = input.numel() / std::max<int64_t>(hidden, 1);
        const at::Tensor w = weight.to(at::kFloat).contiguous();
        at::Tensor grad_input = at::empty_like(input);
        const bool weight_needs_grad = weight.requires_grad();
        // Per-row partial sums of grad·x̂ for the weight's gradient, reduced after the parallel loop.
        at::Tensor grad_weight_rows = weight_needs_grad ? at::empty({rows, hidden}, input.options().dtype(at::kFloat)) : at::Tensor();
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, input.scalar_type(), "rms_norm_backward", [&] {
            const scalar_t *in = input.data_ptr<scalar_t>();
            const scalar_t *g = grad.data_ptr<scalar_t>();
            scalar_t *gi = grad_input.data_ptr<scalar_t>();
            const float *wp = w.data_ptr<float>();
            const float *r = rstd.data_ptr<float>();
            float *gw = weight_needs_grad ? grad_weight_rows.data_ptr<float>() : nullptr;
            ctorch::parallel_for(0, rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(hidden, 1)), [&](int64_t first, int64_t last) {
                for (int64_t row = first; row < last; ++row) {
                    const scalar_t *xr = in + row * hidden;
                    const scalar_t *gr = g + row * hidden;
                    const float inverse = r[row];
                    // mean over the row of (g·w)·x̂, with x̂ = x·inverse
                    const float mean_dot = sum_of_products(gr, wp, xr, hidden) * inverse / static_cast<float>(hidden);
                    scalar_t *gir = gi + row * hidden;
                    for (int64_t j = 0; j < hidden; ++j) {
                        const float normalized = static_cast<float>(xr[j]) * inverse;
                        gir[j] = static_cast<scalar_t>(inverse * (static_cast<float>(gr[j]) * wp[j] - normalized * mean_dot));
                        if (gw != nullptr) gw[row * hidden + j] = static_cast<float>(gr[j]) * normalized;
                    }
                }
            });
        });
        at::Tensor grad_weight = weight_needs_grad ? grad_weight_rows.sum(0).to(weight.scalar_type()) : at::Tensor();
        return {grad_input, grad_weight, at::Tensor()};
    }
};

} // namespace

extern "C" {

int ctorch_quantize_4bit(ctorch_tensor values, ctorch_tensor codebook, int64_t block_size, ctorch_tensor *out_packed,
                         ctorch_tensor *out_absmax, char **err) {
    return guarded(err, [&] {
        check_block_size(block_size);
        const at::Tensor &source = borrow(values);
        if (!source.is_floating_point()) throw std::invalid_argument("values must be floating point");
        // The codes are computed on the CPU (once per weight, at load) and handed back on the source's device.
        const c10::Device device = source.device();
        const auto levels = codebook_values(borrow(codebook));
        std::array<float, kCodes - 1> midpoints{};
        for (int64_t k = 0; k + 1 < kCodes; ++k) {
            if (!(levels[k] < levels[k + 1])) throw std::invalid_argument("codebook must be strictly ascending");
            midpoints[k] = (levels[k] + levels[k + 1]) / 2;
        }
        const at::Tensor x = source.detach().to(at::kCPU, at::kFloat).contiguous();
        const int64_t n = x.numel();
        const int64_t blocks = ceil_div(n, block_size);
        at::Tensor packed = at::zeros({ceil_div(n, 2)}, at::TensorOptions().dtype(at::kByte));
        at::Tensor absmax = at::empty({blocks}, at::TensorOptions().dtype(at::kFloat));
        const float *in = x.data_ptr<float>();
        uint8_t *codes = packed.data_ptr<uint8_t>();
        float *scales = absmax.data_ptr<float>();
        // Blocks are even-sized, so no byte is shared between two blocks (or two threads).
        ctorch::parallel_for(0, blocks, block_grain(block_size), [&](int64_t first, int64_t last) {
            for (int64_t b = first; b < last; ++b) {
                const int64_t begin = b * block_size, end = std::min(n, begin + block_size);
                float amax = 0;
                for (int64_t i = begin; i < end; ++i) amax = std::max(amax, std::fabs(in[i]));
                scales[b] = amax;
                const float inverse = amax > 0 ? 1.0f / amax : 0.0f;
                for (int64_t i = begin; i < end; ++i) {
                    const float v = in[i] * inverse;
                    uint8_t code = 0;
                    for (float m : midpoints) code += v > m ? 1 : 0;
                    codes[i / 2] |= (i % 2 == 0) ? static_cast<uint8_t>(code << 4) : code;
                }
            }
        });
        ctorch_tensor absmax_handle = make_handle(absmax.to(device));
        *out_packed = make_handle(packed.to(device));
        *out_absmax = absmax_handle;
    }, [&] { return describe_op("quantize_4bit", {values, codebook}); });
}

int ctorch_dequantize_4bit(ctorch_tensor packed, ctorch_tensor absmax, ctorch_tensor codebook, int64_t block_size,
                           const int64_t *shape, int ndim, ctorch_dtype dtype, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        *out = make_handle(dequantize_4bit(borrow(packed), BlockAbsmax{borrow(absmax)}, borrow(codebook), block_size,
                                           int_list(shape, ndim), scalar_type(dtype)));
    }, [&] { return describe_op("dequantize_4bit", {packed, absmax, codebook}); });
}

int ctorch_linear_4bit(ctorch_tensor x, ctorch_tensor packed, ctorch_tensor absmax, ctorch_tensor codebook,
                       int64_t block_size, int64_t out_features, int64_t in_features, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        *out = make_handle(Linear4Bit::apply(borrow(x), borrow(packed), borrow(absmax), c10::optional<at::Tensor>(),
                                             c10::optional<at::Tensor>(), 0.0, int64_t{0}, borrow(codebook), block_size,
                                             out_features, in_features));
    }, [&] { return describe_op("linear_4bit", {x, packed, absmax}); });
}

int ctorch_linear_4bit_double_quantized(ctorch_tensor x, ctorch_tensor packed, ctorch_tensor absmax_codes,
                                        ctorch_tensor absmax_scales, ctorch_tensor absmax_table, double absmax_offset,
                                        int64_t absmax_block_size, ctorch_tensor codebook, int64_t block_size,
                                        int64_t out_features, int64_t in_features, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        if (absmax_block_size <= 0)
            throw std::invalid_argument("absmax block size must be positive, got " + std::to_string(absmax_block_size));
        *out = make_handle(Linear4Bit::apply(borrow(x), borrow(packed), borrow(absmax_codes),
                                             c10::optional<at::Tensor>(borrow(absmax_scales)),
                                             c10::optional<at::Tensor>(borrow(absmax_table)), absmax_offset, absmax_block_size, borrow(codebook),
                                             block_size, out_features, in_features));
    }, [&] { return describe_op("linear_4bit_double_quantized", {x, packed, absmax_codes, absmax_scales}); });
}

int ctorch_rms_norm(ctorch_tensor x, ctorch_tensor weight, double eps, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const at::Tensor &input = borrow(x), &w = borrow(weight);
        if (input.device().is_cpu()) {
            *out = make_handle(RMSNorm::apply(input, w, eps));
            return;
        }
        // Other devices: the composite of ATen ops (their autograd applies).
        const at::Tensor xf = input.to(at::kFloat);
        const at::Tensor normed = (xf * at::rsqrt(xf.pow(2).mean({-1}, true) + eps)).to(input.scalar_type());
        *out = make_handle(w.to(input.scalar_type()) * normed);
    },
                   [&] { return describe_op("rms_norm", {x, weight}); });
}

} // extern "C"
