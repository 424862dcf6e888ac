// ctorch_ops.cpp — tensor math through the shim: elementwise (out-of-place and in-place), shape and
// layout, splitting, indexing, reductions, sorting, sampling and the neural-network ops. Every op is
// an ATen call, so autograd records it when grad mode is on. Conventions: include/ctorch.h.
#include "ctorch_internal.hpp"

#include <ATen/ScalarOps.h>

using namespace ctorch;

namespace {

const char *unary_name(ctorch_unary_op op) {
    static const char *const names[] = {
        "neg", "abs", "sqrt", "rsqrt", "exp", "log", "log1p", "sin", "cos", "tanh", "sigmoid", "silu", "gelu",
        "gelu_tanh", "relu", "reciprocal", "square", "floor", "ceil", "round", "sign", "erf", "logical_not",
        "bitwise_not", "isnan", "isinf", "isfinite", "contiguous", "clone", "detach"};
    const int index = static_cast<int>(op);
    return index >= 0 && index < static_cast<int>(sizeof names / sizeof *names) ? names[index] : "unary op";
}

const char *binary_name(ctorch_binary_op op) {
    static const char *const names[] = {
        "add", "sub", "mul", "div", "pow", "remainder", "floor_divide", "maximum", "minimum", "atan2",
        "eq", "ne", "lt", "le", "gt", "ge", "bitwise_and", "bitwise_or", "bitwise_xor", "shift_left",
        "shift_right", "logical_and", "logical_or", "matmul", "mm", "bmm"};
    const int index = static_cast<int>(op);
    return index >= 0 && index < static_cast<int>(sizeof names / sizeof *names) ? names[index] : "binary op";
}

const char *shape_name(ctorch_shape_op op) {
    static const char *const names[] = {
        "reshape", "view", "expand", "permute", "repeat", "transpose", "narrow", "slice", "select", "squeeze",
        "unsqueeze", "flatten", "triu", "tril", "cumsum", "softmax", "log_softmax", "repeat_interleave", "roll"};
    const int index = static_cast<int>(op);
    return index >= 0 && index < static_cast<int>(sizeof names / sizeof *names) ? names[index] : "shape op";
}

const char *reduce_name(ctorch_reduce_op op) {
    static const char *const names[] = {"sum", "mean", "amax", "amin", "prod", "logsumexp", "all", "any",
                                        "argmax", "argmin", "var", "std"};
    const int index = static_cast<int>(op);
    return index >= 0 && index < static_cast<int>(sizeof names / sizeof *names) ? names[index] : "reduction";
}

at::Tensor unary(ctorch_unary_op op, const at::Tensor &t) {
    switch (op) {
    case CTORCH_NEG: return at::neg(t);
    case CTORCH_ABS: return at::abs(t);
    case CTORCH_SQRT: return at::sqrt(t);
    case CTORCH_RSQRT: return at::rsqrt(t);
    case CTORCH_EXP: return at::exp(t);
    case CTORCH_LOG: return at::log(t);
    case CTORCH_LOG1P: return at::log1p(t);
    case CTORCH_SIN: return at::sin(t);
    case CTORCH_COS: return at::cos(t);
    case CTORCH_TANH: return at::tanh(t);
    case CTORCH_SIGMOID: return at::sigmoid(t);
    case CTORCH_SILU: return at::silu(t);
    case CTORCH_GELU: return at::gelu(t, "none");
    case CTORCH_GELU_TANH: return at::gelu(t, "tanh");
    case CTORCH_RELU: return at::relu(t);
    case CTORCH_RECIPROCAL: return at::reciprocal(t);
    case CTORCH_SQUARE: return at::square(t);
    case CTORCH_FLOOR: return at::floor(t);
    case CTORCH_CEIL: return at::ceil(t);
    case CTORCH_ROUND: return at::round(t);
    case CTORCH_SIGN: return at::sign(t);
    case CTORCH_ERF: return at::erf(t);
    case CTORCH_LOGICAL_NOT: return at::logical_not(t);
    case CTORCH_BITWISE_NOT: return at::bitwise_not(t);
    case CTORCH_ISNAN: return at::isnan(t);
    case CTORCH_ISINF: return at::isinf(t);
    case CTORCH_ISFINITE: return at::isfinite(t);
    case CTORCH_CONTIGUOUS: return t.contiguous();
    case CTORCH_CLONE: return t.clone();
    case CTORCH_DETACH: return t.detach();
    }
    throw std::invalid_argument("unknown unary op " + std::to_string(static_cast<int>(op)));
}

void unary_inplace(ctorch_unary_op op, at::Tensor &t) {
    switch (op) {
    case CTORCH_NEG: t.neg_(); return;
    case CTORCH_ABS: t.abs_(); return;
    case CTORCH_SQRT: t.sqrt_(); return;
    case CTORCH_RSQRT: t.rsqrt_(); return;
    case CTORCH_EXP: t.exp_(); return;
    case CTORCH_LOG: t.log_(); return;
    case CTORCH_LOG1P: t.log1p_(); return;
    case CTORCH_SIN: t.sin_(); return;
    case CTORCH_COS: t.cos_(); return;
    case CTORCH_TANH: t.tanh_(); return;
    case CTORCH_SIGMOID: t.sigmoid_(); return;
    case CTORCH_SILU: at::silu_(t); return;
    case CTORCH_GELU: at::gelu_(t, "none"); return;
    case CTORCH_GELU_TANH: at::gelu_(t, "tanh"); return;
    case CTORCH_RELU: t.relu_(); return;
    case CTORCH_RECIPROCAL: t.reciprocal_(); return;
    case CTORCH_SQUARE: t.square_(); return;
    case CTORCH_FLOOR: t.floor_(); return;
    case CTORCH_CEIL: t.ceil_(); return;
    case CTORCH_ROUND: t.round_(); return;
    case CTORCH_SIGN: t.sign_(); return;
    case CTORCH_ERF: t.erf_(); return;
    case CTORCH_LOGICAL_NOT: t.logical_not_(); return;
    case CTORCH_BITWISE_NOT: t.bitwise_not_(); return;
    case CTORCH_DETACH: t.detach_(); return;
    case CTORCH_ISNAN:
    case CTORCH_ISINF:
    case CTORCH_ISFINITE:
    case CTORCH_CONTIGUOUS:
    case CTORCH_CLONE: break;
    }
    throw std::invalid_argument(std::string(unary_name(op)) + " has no in-place form");
}

at::Tensor binary(ctorch_binary_op op, const at::Tensor &a, const at::Tensor &b) {
    switch (op) {
    case CTORCH_ADD: return at::add(a, b);
    case CTORCH_SUB: return at::sub(a, b);
    case CTORCH_MUL: return at::mul(a, b);
    case CTORCH_DIV: return at::div(a, b);
    case CTORCH_POW: return at::pow(a, b);
    case CTORCH_REMAINDER: return at::remainder(a, b);
    case CTORCH_FLOOR_DIVIDE: return at::div(a, b, "floor");
    case CTORCH_MAXIMUM: return at::maximum(a, b);
    case CTORCH_MINIMUM: return at::minimum(a, b);
    case CTORCH_ATAN2: return at::atan2(a, b);
    case CTORCH_EQ: return at::eq(a, b);
    case CTORCH_NE: return at::ne(a, b);
    case CTORCH_LT: return at::lt(a, b);
    case CTORCH_LE: return at::le(a, b);
    case CTORCH_GT: return at::gt(a, b);
    case CTORCH_GE: return at::ge(a, b);
    case CTORCH_BITWISE_AND: return at::bitwise_and(a, b);
    case CTORCH_BITWISE_OR: return at::bitwise_or(a, b);
    case CTORCH_BITWISE_XOR: return at::bitwise_xor(a, b);
    case CTORCH_SHIFT_LEFT: return at::bitwise_left_shift(a, b);
    case CTORCH_SHIFT_RIGHT: return at::bitwise_right_shift(a, b);
    case CTORCH_LOGICAL_AND: return at::logical_and(a, b);
    case CTORCH_LOGICAL_OR: return at::logical_or(a, b);
    case CTORCH_MATMUL: return at::matmul(a, b);
    case CTORCH_MM: return at::mm(a, b);
    case CTORCH_BMM: return at::bmm(a, b);
    }
    throw std::invalid_argument("unknown binary op " + std::to_string(static_cast<int>(op)));
}

void binary_inplace(ctorch_binary_op op, at::Tensor &a, const at::Tensor &b) {
    switch (op) {
    case CTORCH_ADD: a.add_(b); return;
    case CTORCH_SUB: a.sub_(b); return;
    case CTORCH_MUL: a.mul_(b); return;
    case CTORCH_DIV: a.div_(b); return;
    case CTORCH_POW: a.pow_(b); return;
    case CTORCH_REMAINDER: a.remainder_(b); return;
    case CTORCH_FLOOR_DIVIDE: a.div_(b, "floor"); return;
    case CTORCH_ATAN2: a.atan2_(b); return;
    case CTORCH_EQ: a.eq_(b); return;
    case CTORCH_NE: a.ne_(b); return;
    case CTORCH_LT: a.lt_(b); return;
    case CTORCH_LE: a.le_(b); return;
    case CTORCH_GT: a.gt_(b); return;
    case CTORCH_GE: a.ge_(b); return;
    case CTORCH_BITWISE_AND: a.bitwise_and_(b); return;
    case CTORCH_BITWISE_OR: a.bitwise_or_(b); return;
    case CTORCH_BITWISE_XOR: a.bitwise_xor_(b); return;
    case CTORCH_SHIFT_LEFT: a.bitwise_left_shift_(b); return;
    case CTORCH_SHIFT_RIGHT: a.bitwise_right_shift_(b); return;
    case CTORCH_LOGICAL_AND: a.logical_and_(b); return;
    case CTORCH_LOGICAL_OR: a.logical_or_(b); return;
    case CTORCH_MAXIMUM:
    case CTORCH_MINIMUM:
    case CTORCH_MATMUL:
    case CTORCH_MM:
    case CTORCH_BMM: break;
    }
    throw std::invalid_argument(std::string(binary_name(op)) + " has no in-place form");
}

// `a op s` through ATen's Scalar overloads where they exist (as PyTorch does for `x.pow(2)`, which
// takes fast paths such as squaring), else with `s` wrapped like a Python number.
at::Tensor binary_scalar(ctorch_binary_op op, const at::Tensor &a, const at::Scalar &s) {
    switch (op) {
    case CTORCH_ADD: return at::add(a, s);
    case CTORCH_SUB: return at::sub(a, s);
    case CTORCH_MUL: return at::mul(a, s);
    case CTORCH_DIV: return at::div(a, s);
    case CTORCH_POW: return at::pow(a, s);
    case CTORCH_REMAINDER: return at::remainder(a, s);
    case CTORCH_EQ: return at::eq(a, s);
    case CTORCH_NE: return at::ne(a, s);
    case CTORCH_LT: return at::lt(a, s);
    case CTORCH_LE: return at::le(a, s);
    case CTORCH_GT: return at::gt(a, s);
    case CTORCH_GE: return at::ge(a, s);
    case CTORCH_BITWISE_AND: return at::bitwise_and(a, s);
    case CTORCH_BITWISE_OR: return at::bitwise_or(a, s);
    case CTORCH_BITWISE_XOR: return at::bitwise_xor(a, s);
    case CTORCH_SHIFT_LEFT: return at::bitwise_left_shift(a, s);
    case CTORCH_SHIFT_RIGHT: return at::bitwise_right_shift(a, s);
    case CTORCH_MATMUL:
    case CTORCH_MM:
    case CTORCH_BMM: throw std::invalid_argument(std::string(binary_name(op)) + " needs two tensors");
    default: return binary(op, a, at::native::wrapped_scalar_tensor(s));
    }
}

// `s op a`, computed as PyTorch computes a Python number on the left: `s / x` is `x.reciprocal() * s`
// (Tensor.__rtruediv__), `s ** x` is pow(Scalar, Tensor), the rest with `s` wrapped like a Python number.
at::Tensor scalar_binary(ctorch_binary_op op, const at::Scalar &s, const at::Tensor &a) {
    switch (op) {
    case CTORCH_DIV: return at::mul(at::reciprocal(a), s);
    case CTORCH_POW: return at::pow(s, a);
    case CTORCH_MATMUL:
    case CTORCH_MM:
    case CTORCH_BMM: throw std::invalid_argument(std::string(binary_name(op)) + " needs two tensors");
    default: return binary(op, at::native::wrapped_scalar_tensor(s), a);
    }
}

void binary_scalar_inplace(ctorch_binary_op op, at::Tensor &a, const at::Scalar &s) {
    switch (op) {
    case CTORCH_ADD: a.add_(s); return;
    case CTORCH_SUB: a.sub_(s); return;
    case CTORCH_MUL: a.mul_(s); return;
    case CTORCH_DIV: a.div_(s); return;
    case CTORCH_POW: a.pow_(s); return;
    case CTORCH_REMAINDER: a.remainder_(s); return;
    case CTORCH_EQ: a.eq_(s); return;
    case CTORCH_NE: a.ne_(s); return;
    case CTORCH_LT: a.lt_(s); return;
    case CTORCH_LE: a.le_(s); return;
    case CTORCH_GT: a.gt_(s); return;
    case CTORCH_GE: a.ge_(s); return;
    case CTORCH_BITWISE_AND: a.bitwise_and_(s); return;
    case CTORCH_BITWISE_OR: a.bitwise_or_(s); return;
    case CTORCH_BITWISE_XOR: a.bitwise_xor_(s); return;
    case CTORCH_SHIFT_LEFT: a.bitwise_left_shift_(s); return;
    case CTORCH_SHIFT_RIGHT: a.bitwise_right_shift_(s); return;
    default: binary_inplace(op, a, at::native::wrapped_scalar_tensor(s)); return;
    }
}

void expect_args(ctorch_shape_op op, int nargs, int expected) {
    if (nargs != expected)
        throw std::invalid_argument(std::string(shape_name(op)) + " takes " + std::to_string(expected) +
                                    " integer arguments, got " + std::to_string(nargs));
}

at::Tensor shape_op(ctorch_shape_op op, const at::Tensor &t, const std::vector<int64_t> &args) {
    const int n = static_cast<int>(args.size());
    switch (op) {
    case CTORCH_RESHAPE: return t.reshape(args);
    case CTORCH_VIEW: return t.view(args);
    case CTORCH_EXPAND: return t.expand(args);
    case CTORCH_PERMUTE: return t.permute(args);
    case CTORCH_REPEAT: return t.repeat(args);
    case CTORCH_TRANSPOSE: expect_args(op, n, 2); return t.transpose(args[0], args[1]);
    case CTORCH_NARROW: expect_args(op, n, 3); return t.narrow(args[0], args[1], args[2]);
    case CTORCH_SLICE: expect_args(op, n, 4); return t.slice(args[0], args[1], args[2], args[3]);
    case CTORCH_SELECT: expect_args(op, n, 2); return t.select(args[0], args[1]);
    case CTORCH_SQUEEZE:
        if (n == 0) return t.squeeze();
        expect_args(op, n, 1);
        return t.squeeze(args[0]);
    case CTORCH_UNSQUEEZE: expect_args(op, n, 1); return t.unsqueeze(args[0]);
    case CTORCH_FLATTEN: expect_args(op, n, 2); return t.flatten(args[0], args[1]);
    case CTORCH_TRIU: expect_args(op, n, 1); return at::triu(t, args[0]);
    case CTORCH_TRIL: expect_args(op, n, 1); return at::tril(t, args[0]);
    case CTORCH_CUMSUM: expect_args(op, n, 1); return at::cumsum(t, args[0]);
    case CTORCH_SOFTMAX: expect_args(op, n, 1); return at::softmax(t, args[0]);
    case CTORCH_LOG_SOFTMAX: expect_args(op, n, 1); return at::log_softmax(t, args[0]);
    case CTORCH_REPEAT_INTERLEAVE: expect_args(op, n, 2); return at::repeat_interleave(t, args[0], args[1]);
    case CTORCH_ROLL: expect_args(op, n, 2); return at::roll(t, {args[0]}, {args[1]});
    }
    throw std::invalid_argument("unknown shape op " + std::to_string(static_cast<int>(op)));
}

std::vector<at::Tensor> tensor_list(const ctorch_tensor *tensors, int count) {
    if (count < 0 || (count > 0 && tensors == nullptr)) throw std::invalid_argument("invalid tensor list");
    std::vector<at::Tensor> list;
    list.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) list.push_back(borrow(tensors[i]));
    return list;
}

std::string describe_list(const char *op, const ctorch_tensor *tensors, int count) {
    std::string text = std::string(op) + " of ";
    for (int i = 0; i < count && tensors != nullptr; ++i) text += (i ? ", " : "") + describe(tensors[i]);
    return text;
}

at::Tensor reduce(ctorch_reduce_op op, const at::Tensor &t, const std::vector<int64_t> &dims, bool keepdim) {
    const bool all = dims.empty();
    auto single = [&]() -> int64_t {
        if (dims.size() != 1) throw std::invalid_argument(std::string(reduce_name(op)) + " takes at most one dim");
        return dims[0];
    };
    auto every_dim = [&] {
        std::vector<int64_t> list(static_cast<size_t>(t.dim()));
        for (int64_t i = 0; i < t.dim(); ++i) list[static_cast<size_t>(i)] = i;
        return list;
    };
    switch (op) {
    case CTORCH_SUM: return all ? (keepdim ? at::sum(t, every_dim(), true) : at::sum(t)) : at::sum(t, dims, keepdim);
    case CTORCH_MEAN: return all ? (keepdim ? at::mean(t, every_dim(), true) : at::mean(t)) : at::mean(t, dims, keepdim);
    case CTORCH_AMAX: return at::amax(t, all ? every_dim() : dims, keepdim);
    case CTORCH_AMIN: return at::amin(t, all ? every_dim() : dims, keepdim);
    case CTORCH_PROD: return all ? at::prod(t) : at::prod(t, single(), keepdim);
    case CTORCH_LOGSUMEXP: return at::logsumexp(t, all ? every_dim() : dims, keepdim);
    case CTORCH_ALL: return all ? at::all(t) : at::all(t, single(), keepdim);
    case CTORCH_ANY: return all ? at::any(t) : at::any(t, single(), keepdim);
    case CTORCH_ARGMAX: return all ? at::argmax(t) : at::argmax(t, single(), keepdim);
    case CTORCH_ARGMIN: return all ? at::argmin(t) : at::argmin(t, single(), keepdim);
    case CTORCH_VAR: return at::var(t, all ? at::OptionalIntArrayRef() : at::OptionalIntArrayRef(dims), true, keepdim);
    case CTORCH_STD: return at::std(t, all ? at::OptionalIntArrayRef() : at::OptionalIntArrayRef(dims), true, keepdim);
    }
    throw std::invalid_argument("unknown reduction " + std::to_string(static_cast<int>(op)));
}

at::Tensor index_update(ctorch_index_update_op op, const at::Tensor &t, int64_t dim, const at::Tensor &index,
                        const at::Tensor &source) {
    switch (op) {
    case CTORCH_INDEX_COPY: return at::index_copy(t, dim, index, source);
    case CTORCH_INDEX_ADD: return at::index_add(t, dim, index, source);
    case CTORCH_SCATTER: return at::scatter(t, dim, index, source);
    case CTORCH_SCATTER_ADD: return at::scatter_add(t, dim, index, source);
    }
    throw std::invalid_argument("unknown index update " + std::to_string(static_cast<int>(op)));
}

void index_update_inplace(ctorch_index_update_op op, at::Tensor &t, int64_t dim, const at::Tensor &index,
                          const at::Tensor &source) {
    switch (op) {
    case CTORCH_INDEX_COPY: t.index_copy_(dim, index, source); return;
    case CTORCH_INDEX_ADD: t.index_add_(dim, index, source); return;
    case CTORCH_SCATTER: t.scatter_(dim, index, source); return;
    case CTORCH_SCATTER_ADD: t.scatter_add_(dim, index, source); return;
    }
    throw std::invalid_argument("unknown index update " + std::to_string(static_cast<int>(op)));
}

} // namespace

extern "C" {

// ───────────────────────────── elementwise ─────────────────────────────

int ctorch_unary(ctorch_unary_op op, ctorch_tensor tensor, ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(unary(op, borrow(tensor))); },
                   [&] { return describe_op(unary_name(op), {tensor}); });
}

int ctorch_unary_inplace(ctorch_unary_op op, ctorch_tensor tensor, char **err) {
    return guarded(err, [&] { unary_inplace(op, borrow_mut(tensor)); },
                   [&] { return describe_op(unary_name(op), {tensor}); });
}

int ctorch_binary(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(binary(op, borrow(a), borrow(b))); },
                   [&] { return describe_op(binary_name(op), {a, b}); });
}

int ctorch_binary_inplace(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b, char **err) {
    return guarded(err, [&] { binary_inplace(op, borrow_mut(a), borrow(b)); },
                   [&] { return std::string("in-place ") + describe_op(binary_name(op), {a, b}); });
}

int ctorch_binary_scalar(ctorch_binary_op op, ctorch_tensor a, ctorch_scalar s, int scalar_first, ctorch_tensor *out,
                         char **err) {
    return guarded(err, [&] {
        const at::Scalar value = scalar_of(s);
        at::Tensor result = scalar_first ? scalar_binary(op, value, borrow(a)) : binary_scalar(op, borrow(a), value);
        *out = make_handle(std::move(result));
    }, [&] { return describe_op(binary_name(op), {a}) + " and a scalar"; });
}

int ctorch_binary_scalar_inplace(ctorch_binary_op op, ctorch_tensor a, ctorch_scalar s, char **err) {
    return guarded(err, [&] { binary_scalar_inplace(op, borrow_mut(a), scalar_of(s)); },
                   [&] { return std::string("in-place ") + describe_op(binary_name(op), {a}) + " and a scalar"; });
}

int ctorch_add_scaled(ctorch_tensor a, ctorch_tensor b, ctorch_scalar alpha, ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(at::add(borrow(a), borrow(b), scalar_of(alpha))); },
                   [&] { return describe_op("add", {a, b}); });
}

int ctorch_add_scaled_inplace(ctorch_tensor a, ctorch_tensor b, ctorch_scalar alpha, char **err) {
    return guarded(err, [&] { borrow_mut(a).add_(borrow(b), scalar_of(alpha)); },
                   [&] { return describe_op("in-place add", {a, b}); });
}

int ctorch_clamp(ctorch_tensor tensor, const ctorch_scalar *min, const ctorch_scalar *max, ctorch_tensor *out,
                 char **err) {
    return guarded(err, [&] { *out = make_handle(at::clamp(borrow(tensor), optional_scalar(min), optional_scalar(max))); },
                   [&] { return describe_op("clamp", {tensor}); });
}

int ctorch_clamp_inplace(ctorch_tensor tensor, const ctorch_scalar *min, const ctorch_scalar *max, char **err) {
    return guarded(err, [&] { borrow_mut(tensor).clamp_(optional_scalar(min), optional_scalar(max)); },
                   [&] { return describe_op("in-place clamp", {tensor}); });
}

int ctorch_where(ctorch_tensor condition, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(at::where(borrow(condition), borrow(a), borrow(b))); },
                   [&] { return describe_op("where", {condition, a, b}); });
}

int ctorch_masked_fill(ctorch_tensor tensor, ctorch_tensor mask, ctorch_scalar value, ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(at::masked_fill(borrow(tensor), borrow(mask), scalar_of(value))); },
                   [&] { return describe_op("masked_fill", {tensor, mask}); });
}

int ctorch_masked_fill_inplace(ctorch_tensor tensor, ctorch_tensor mask, ctorch_scalar value, char **err) {
    return guarded(err, [&] { borrow_mut(tensor).masked_fill_(borrow(mask), scalar_of(value)); },
                   [&] { return describe_op("in-place masked_fill", {tensor, mask}); });
}

// ───────────────────────────── in-place updates ─────────────────────────────

int ctorch_addcmul_inplace(ctorch_tensor self, ctorch_tensor t1, ctorch_tensor t2, ctorch_scalar value, char **err) {
    return guarded(err, [&] { borrow_mut(self).addcmul_(borrow(t1), borrow(t2), scalar_of(value)); },
                   [&] { return describe_op("addcmul_", {self, t1, t2}); });
}

int ctorch_addcdiv_inplace(ctorch_tensor self, ctorch_tensor t1, ctorch_tensor t2, ctorch_scalar value, char **err) {
    return guarded(err, [&] { borrow_mut(self).addcdiv_(borrow(t1), borrow(t2), scalar_of(value)); },
                   [&] { return describe_op("addcdiv_", {self, t1, t2}); });
}

int ctorch_lerp_inplace(ctorch_tensor self, ctorch_tensor end, ctorch_scalar weight, char **err) {
    return guarded(err, [&] { borrow_mut(self).lerp_(borrow(end), scalar_of(weight)); },
                   [&] { return describe_op("lerp_", {self, end}); });
}

int ctorch_copy_inplace(ctorch_tensor self, ctorch_tensor src, char **err) {
    return guarded(err, [&] { borrow_mut(self).copy_(borrow(src)); }, [&] { return describe_op("copy_", {self, src}); });
}

int ctorch_fill_inplace(ctorch_tensor self, ctorch_scalar value, char **err) {
    return guarded(err, [&] {
        const at::Scalar fill = scalar_of(value);
        if (fill.isIntegral(false) && fill.toLong() == 0) borrow_mut(self).zero_();
        else borrow_mut(self).fill_(fill);
    }, [&] { return describe_op("fill_", {self}); });
}

int ctorch_random_inplace(ctorch_tensor self, ctorch_random_kind kind, double a, double b, ctorch_generator generator,
                          char **err) {
    return guarded(err, [&] {
        switch (kind) {
        case CTORCH_RANDOM_UNIFORM: borrow_mut(self).uniform_(a, b, generator_of(generator)); return;
        case CTORCH_RANDOM_NORMAL: borrow_mut(self).normal_(a, b, generator_of(generator)); return;
        }
        throw std::invalid_argument("unknown random kind " + std::to_string(static_cast<int>(kind)));
    }, [&] { return describe_op("random_", {self}); });
}

int ctorch_bernoulli_inplace(ctorch_tensor self, double p, ctorch_generator generator, char **err) {
    return guarded(err, [&] { borrow_mut(self).bernoulli_(p, generator_of(generator)); },
                   [&] { return describe_op("bernoulli_", {self}); });
}

// ───────────────────────────── shape and layout ─────────────────────────────

int ctorch_shape_apply(ctorch_shape_op op, ctorch_tensor tensor, const int64_t *args, int nargs, ctorch_tensor *out,
                    char **err) {
    return guarded(err, [&] { *out = make_handle(shape_op(op, borrow(tensor), int_list(args, nargs))); }, [&] {
        std::string text = describe_op(shape_name(op), {tensor});
        try {
            text += " with arguments " + c10::str(at::IntArrayRef(int_list(args, nargs)));
        } catch (...) {
        }
        return text;
    });
}

int ctorch_cat(const ctorch_tensor *tensors, int count, int64_t dim, int stack, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const auto list = tensor_list(tensors, count);
        *out = make_handle(stack ? at::stack(list, dim) : at::cat(list, dim));
    }, [&] { return describe_list(stack ? "stack" : "cat", tensors, count); });
}

int ctorch_split(ctorch_split_op op, ctorch_tensor tensor, const int64_t *args, int nargs, int64_t dim,
                 ctorch_tensor **out_tensors, int *out_count, char **err) {
    return guarded(err, [&] {
        const at::Tensor &t = borrow(tensor);
        const auto values = int_list(args, nargs);
        std::vector<at::Tensor> pieces;
        switch (op) {
        case CTORCH_SPLIT_SIZE:
            if (values.size() != 1) throw std::invalid_argument("split takes one split size");
            pieces = at::split(t, values[0], dim);
            break;
        case CTORCH_SPLIT_SIZES: pieces = at::split_with_sizes(t, values, dim); break;
        case CTORCH_CHUNK:
            if (values.size() != 1) throw std::invalid_argument("chunk takes one chunk count");
            pieces = at::chunk(t, values[0], dim);
            break;
        case CTORCH_UNBIND: pieces = at::unbind(t, dim); break;
        default: throw std::invalid_argument("unknown split op " + std::to_string(static_cast<int>(op)));
        }
        auto *array = static_cast<ctorch_tensor *>(std::malloc(sizeof(ctorch_tensor) * std::max<size_t>(pieces.size(), 1)));
        if (array == nullptr) throw std::bad_alloc();
        for (size_t i = 0; i < pieces.size(); ++i) array[i] = make_handle(std::move(pieces[i]));
        *out_tensors = array;
        *out_count = static_cast<int>(pieces.size());
    }, [&] { return describe_op("split", {tensor}) + " along dim " + std::to_string(dim); });
}

void ctorch_free_tensor_array(ctorch_tensor *tensors) { std::free(tensors); }

// ───────────────────────────── indexing ─────────────────────────────

int ctorch_index(ctorch_index_op op, ctorch_tensor tensor, int64_t dim, ctorch_tensor index, ctorch_tensor *out,
                 char **err) {
    return guarded(err, [&] {
        switch (op) {
        case CTORCH_INDEX_SELECT: *out = make_handle(at::index_select(borrow(tensor), dim, borrow(index))); return;
        case CTORCH_GATHER: *out = make_handle(at::gather(borrow(tensor), dim, borrow(index))); return;
        }
        throw std::invalid_argument("unknown index op " + std::to_string(static_cast<int>(op)));
    }, [&] { return describe_op(op == CTORCH_GATHER ? "gather" : "index_select", {tensor, index}); });
}

int ctorch_index_update(ctorch_index_update_op op, ctorch_tensor tensor, int64_t dim, ctorch_tensor index,
                        ctorch_tensor source, ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(index_update(op, borrow(tensor), dim, borrow(index), borrow(source))); },
                   [&] { return describe_op("index update", {tensor, index, source}); });
}

int ctorch_index_update_inplace(ctorch_index_update_op op, ctorch_tensor tensor, int64_t dim, ctorch_tensor index,
                                ctorch_tensor source, char **err) {
    return guarded(err, [&] { index_update_inplace(op, borrow_mut(tensor), dim, borrow(index), borrow(source)); },
                   [&] { return describe_op("in-place index update", {tensor, index, source}); });
}

int ctorch_embedding(ctorch_tensor weight, ctorch_tensor indices, int64_t padding_idx, ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(at::embedding(borrow(weight), borrow(indices), padding_idx)); },
                   [&] { return describe_op("embedding", {weight, indices}); });
}

// ───────────────────────────── reductions and sorting ─────────────────────────────

int ctorch_reduce(ctorch_reduce_op op, ctorch_tensor tensor, const int64_t *dims, int ndims, int keepdim,
                  ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(reduce(op, borrow(tensor), int_list(dims, ndims), keepdim != 0)); },
                   [&] { return describe_op(reduce_name(op), {tensor}); });
}

int ctorch_vector_norm(ctorch_tensor tensor, double ord, const int64_t *dims, int ndims, int keepdim,
                       ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const auto list = int_list(dims, ndims);
        const at::OptionalIntArrayRef over = list.empty() ? at::OptionalIntArrayRef() : at::OptionalIntArrayRef(list);
        *out = make_handle(at::linalg_vector_norm(borrow(tensor), ord, over, keepdim != 0));
    }, [&] { return describe_op("vector_norm", {tensor}); });
}

int ctorch_values_indices(ctorch_values_indices_op op, ctorch_tensor tensor, int64_t k, int64_t dim, int descending,
                          int keepdim, ctorch_tensor *out_values, ctorch_tensor *out_indices, char **err) {
    return guarded(err, [&] {
        const at::Tensor &t = borrow(tensor);
        std::tuple<at::Tensor, at::Tensor> result;
        switch (op) {
        case CTORCH_MAX_DIM: result = at::max(t, dim, keepdim != 0); break;
        case CTORCH_MIN_DIM: result = at::min(t, dim, keepdim != 0); break;
        case CTORCH_TOPK: result = at::topk(t, k, dim, descending != 0, /*sorted=*/true); break;
        case CTORCH_SORT: result = at::sort(t, /*stable=*/true, dim, descending != 0); break;
        default: throw std::invalid_argument("unknown values/indices op " + std::to_string(static_cast<int>(op)));
        }
        ctorch_tensor values = make_handle(std::move(std::get<0>(result)));
        *out_indices = make_handle(std::move(std::get<1>(result)));
        *out_values = values;
    }, [&] { return describe_op("values/indices op", {tensor}) + " along dim " + std::to_string(dim); });
}

int ctorch_multinomial(ctorch_tensor probabilities, int64_t samples, int replacement, ctorch_generator generator,
                       ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        *out = make_handle(at::multinomial(borrow(probabilities), samples, replacement != 0, generator_of(generator)));
    }, [&] { return describe_op("multinomial", {probabilities}); });
}

int ctorch_bucketize(ctorch_tensor tensor, ctorch_tensor boundaries, ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(at::bucketize(borrow(tensor), borrow(boundaries))); },
                   [&] { return describe_op("bucketize", {tensor, boundaries}); });
}

// ───────────────────────────── neural-network ops ─────────────────────────────

int ctorch_linear(ctorch_tensor x, ctorch_tensor weight, ctorch_tensor bias, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const c10::optional<at::Tensor> b = bias == nullptr ? c10::nullopt : c10::optional<at::Tensor>(borrow(bias));
        *out = make_handle(at::linear(borrow(x), borrow(weight), b));
    }, [&] { return bias == nullptr ? describe_op("linear", {x, weight}) : describe_op("linear", {x, weight, bias}); });
}

int ctorch_addmm(ctorch_tensor self, ctorch_tensor mat1, ctorch_tensor mat2, ctorch_scalar beta, ctorch_scalar alpha,
                 ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        *out = make_handle(at::addmm(borrow(self), borrow(mat1), borrow(mat2), scalar_of(beta), scalar_of(alpha)));
    }, [&] { return describe_op("addmm", {self, mat1, mat2}); });
}

int ctorch_baddbmm(ctorch_tensor self, ctorch_tensor batch1, ctorch_tensor batch2, ctorch_scalar beta,
                   ctorch_scalar alpha, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        *out = make_handle(at::baddbmm(borrow(self), borrow(batch1), borrow(batch2), scalar_of(beta), scalar_of(alpha)));
    }, [&] { return describe_op("baddbmm", {self, batch1, batch2}); });
}

int ctorch_cross_entropy(ctorch_tensor logits, ctorch_tensor targets, ctorch_reduction reduction,
                         int64_t ignore_index, double label_smoothing, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        if (reduction < CTORCH_REDUCTION_NONE || reduction > CTORCH_REDUCTION_SUM)
            throw std::invalid_argument("unknown reduction " + std::to_string(static_cast<int>(reduction)));
        *out = make_handle(at::cross_entropy_loss(borrow(logits), borrow(targets), {}, static_cast<int64_t>(reduction),
                                                  ignore_index, label_smoothing));
    }, [&] { return describe_op("cross_entropy", {logits, targets}); });
}

} // extern "C"
