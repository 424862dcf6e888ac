// ctorch_internal.hpp — what every ctorch_*.cpp shares: the handle structs, the one exception boundary
// (`guarded`), and conversions between the C types of ctorch.h and ATen's. Not part of the C API.
#pragma once

#if defined(LOOM_LIBTORCH_MISSING)
#error "no libtorch found: run `make` (it creates .venv/ with the pinned torch wheel) or set LIBTORCH=/path/to/libtorch (a directory holding include/ and lib/)"
#endif

#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/ParallelGuard.h>
#include <torch/cuda.h>
#include <algorithm>
#include <atomic>
#include <dlfcn.h>
#include <exception>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct ctorch_tensor_s {
    at::Tensor tensor;
};

struct ctorch_generator_s {
    at::Generator generator;
};

namespace ctorch {

inline char *copy_message(const std::string &text) {
    char *message = static_cast<char *>(std::malloc(text.size() + 1));
    if (message != nullptr) std::memcpy(message, text.c_str(), text.size() + 1);
    return message;
}

// libtorch messages carry a C++ backtrace after the first line of context; people want the text.
inline std::string without_backtrace(const std::string &what) {
    auto cut = what.find("\nException raised from");
    return cut == std::string::npos ? what : what.substr(0, cut);
}

inline std::string no_context() { return {}; }

// The one exception boundary: runs `body`, turning any exception into CTORCH_ERROR + message. On error,
// `context()` (run only then, so it costs nothing on success) names the op and its operands, which
// makes a libtorch message such as "size of tensor a (3) must match…" say which call and which shapes.
template <typename Body, typename Context = std::string (*)()>
int guarded(char **err, Body &&body, Context &&context = no_context) noexcept {
    std::string message;
    try {
        body();
        return CTORCH_OK;
    } catch (const c10::Error &error) {
        message = without_backtrace(error.what_without_backtrace());
    } catch (const std::exception &error) {
        message = error.what();
    } catch (...) {
        message = "unknown C++ exception in libtorch";
    }
    if (err != nullptr) {
        try {
            std::string where = context();
            if (!where.empty()) message += " (in " + where + ")";
        } catch (...) {
        }
        *err = copy_message(message);
    }
    return CTORCH_ERROR;
}

inline at::ScalarType scalar_type(ctorch_dtype dtype) {
    switch (dtype) {
    case CTORCH_F32: return at::kFloat;
    case CTORCH_BF16: return at::kBFloat16;
    case CTORCH_F16: return at::kHalf;
    case CTORCH_I64: return at::kLong;
    case CTORCH_U8: return at::kByte;
    case CTORCH_BOOL: return at::kBool;
    case CTORCH_I32: return at::kInt;
    case CTORCH_I8: return at::kChar;
    case CTORCH_F64: return at::kDouble;
    }
    throw std::invalid_argument("unknown ctorch_dtype " + std::to_string(static_cast<int>(dtype)));
}

inline ctorch_dtype loom_dtype(at::ScalarType type) {
    switch (type) {
    case at::kFloat: return CTORCH_F32;
    case at::kBFloat16: return CTORCH_BF16;
    case at::kHalf: return CTORCH_F16;
    case at::kLong: return CTORCH_I64;
    case at::kByte: return CTORCH_U8;
    case at::kBool: return CTORCH_BOOL;
    case at::kInt: return CTORCH_I32;
    case at::kChar: return CTORCH_I8;
    case at::kDouble: return CTORCH_F64;
    default: throw std::invalid_argument(std::string("dtype ") + c10::toString(type) + " is not used by Loom");
    }
}

// Loom's short dtype names (the ones Swift's DType prints), for error messages.
inline std::string dtype_name(at::ScalarType type) {
    switch (type) {
    case at::kFloat: return "f32";
    case at::kBFloat16: return "bf16";
    case at::kHalf: return "f16";
    case at::kLong: return "i64";
    case at::kByte: return "u8";
    case at::kBool: return "bool";
    case at::kInt: return "i32";
    case at::kChar: return "i8";
    case at::kDouble: return "f64";
    default: return c10::toString(type);
    }
}

// CUDA devices the linked libtorch can use (0 for a CPU-only build), probed once.
inline int64_t cuda_device_count() {
    static const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
    return count;
}

// Checked here so that asking a CPU-only libtorch for CUDA says so, instead of libtorch's
// "Could not run 'aten::empty.memory_format' with arguments from the 'CUDA' backend…".
inline at::Device device_of(ctorch_device device) {
    switch (device.type) {
    case CTORCH_DEVICE_CPU: return at::Device(at::kCPU);
    case CTORCH_DEVICE_CUDA: {
        if (device.index < 0) throw std::invalid_argument("cuda device index must be ≥ 0, got " + std::to_string(device.index));
        const int64_t available = cuda_device_count();
        if (device.index >= available)
            throw std::invalid_argument("device cuda:" + std::to_string(device.index) + " is not available: the linked libtorch sees " +
                                        std::to_string(available) + " CUDA device(s)" +
                                        (available == 0 ? " (a CPU-only build, or no visible GPU; build with LIBTORCH set to a CUDA libtorch)" : ""));
        return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device.index));
    }
    }
    throw std::invalid_argument("unknown device type " + std::to_string(device.type));
}

inline at::Scalar scalar_of(ctorch_scalar value) {
    switch (value.kind) {
    case CTORCH_SCALAR_REAL: return at::Scalar(value.real);
    case CTORCH_SCALAR_INT: return at::Scalar(value.integer);
    case CTORCH_SCALAR_BOOL: return at::Scalar(value.integer != 0);
    }
    throw std::invalid_argument("unknown scalar kind " + std::to_string(value.kind));
}

inline c10::optional<at::Scalar> optional_scalar(const ctorch_scalar *value) {
    if (value == nullptr) return c10::nullopt;
    return scalar_of(*value);
}

inline const at::Tensor &borrow(ctorch_tensor handle) {
    if (handle == nullptr) throw std::invalid_argument("null tensor handle");
    return handle->tensor;
}

// Mutable access for in-place ops (the handle's at::Tensor is a reference; its storage is what changes).
inline at::Tensor &borrow_mut(ctorch_tensor handle) {
    if (handle == nullptr) throw std::invalid_argument("null tensor handle");
    return handle->tensor;
}

inline c10::optional<at::Generator> generator_of(ctorch_generator handle) {
    if (handle == nullptr) return c10::nullopt;
    return handle->generator;
}

inline std::vector<int64_t> int_list(const int64_t *values, int count) {
    if (count < 0) throw std::invalid_argument("negative list length " + std::to_string(count));
    if (count > 0 && values == nullptr) throw std::invalid_argument("null list with length " + std::to_string(count));
    return std::vector<int64_t>(values, values + count);
}

// Allocates the handle as the last step of a call, after everything that can fail has run.
inline ctorch_tensor make_handle(at::Tensor tensor) { return new ctorch_tensor_s{std::move(tensor)}; }

// "[2, 3] f32" — how error messages name an operand.
inline std::string describe(ctorch_tensor handle) {
    if (handle == nullptr) return "null";
    const at::Tensor &t = handle->tensor;
    if (!t.defined()) return "undefined";
    std::string text = c10::str(t.sizes()) + " " + dtype_name(t.scalar_type());
    if (!t.device().is_cpu()) text += " on " + t.device().str();
    return text;
}

inline std::string describe_op(const char *op, std::initializer_list<ctorch_tensor> operands) {
    std::string text = std::string(op) + " of ";
    bool first = true;
    for (ctorch_tensor operand : operands) {
        if (!first) text += " and ";
        text += describe(operand);
        first = false;
    }
    return text;
}

// ── Loom's CPU loops on libtorch's threads ──
//
// ATen's at::parallel_for is a header template that forks only where its caller is compiled with OpenMP
// (`_OPENMP` defined); the shim is not — the Swift toolchain's clang would emit calls to LLVM's OpenMP
// runtime, while the torch wheel ships GCC's libgomp — so there every kernel of ours ran on one thread.
// `parallel_for` forks through libgomp's GOMP_parallel, the entry point GCC itself emits for `#pragma omp
// parallel`, found in the process (libtorch_cpu loads it): the kernels share torch's thread team, split
// the range as ATen does (contiguous chunks, at most one per `grain` items), and MKL called inside sees
// the parallel region and stays on its thread. Where libtorch is not an OpenMP build (its native thread
// pool, which at::parallel_for reaches from any caller) or libgomp is not found, at::parallel_for runs.
namespace openmp {
struct Runtime {
    void (*parallel)(void (*)(void *), void *, unsigned, unsigned);
    int (*thread_num)();
    int (*num_threads)();
};

inline const Runtime *runtime() {
    static const Runtime found = [] {
        Runtime r{};
        r.parallel = reinterpret_cast<decltype(r.parallel)>(dlsym(RTLD_DEFAULT, "GOMP_parallel"));
        r.thread_num = reinterpret_cast<decltype(r.thread_num)>(dlsym(RTLD_DEFAULT, "omp_get_thread_num"));
        r.num_threads = reinterpret_cast<decltype(r.num_threads)>(dlsym(RTLD_DEFAULT, "omp_get_num_threads"));
        return r;
    }();
    return AT_PARALLEL_OPENMP && found.parallel != nullptr && found.thread_num != nullptr && found.num_threads != nullptr ? &found : nullptr;
}
} // namespace openmp

template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F &f) {
    if (begin >= end) return;
    const openmp::Runtime *omp = openmp::runtime();
    if (omp == nullptr) {
        at::parallel_for(begin, end, grain, f);
        return;
    }
    // The calling thread's OpenMP team size follows at::set_num_threads (as ATen's own loop arranges).
    at::internal::lazy_init_num_threads();
    const int64_t count = end - begin;
    if (count <= grain || count == 1 || at::get_num_threads() <= 1 || at::in_parallel_region()) {
        at::internal::ThreadIdGuard id(0);
        c10::ParallelGuard guard(true);
        f(begin, end);
        return;
    }
    struct Task {
        const F &f;
        int64_t begin, end, grain;
        const openmp::Runtime *omp;
        std::atomic_flag failed = ATOMIC_FLAG_INIT;
        std::exception_ptr error;
    } task{f, begin, end, grain, omp};
    // 0 threads: the team's default size, which at::set_num_threads sets (as ATen's own `omp parallel`).
    omp->parallel([](void *data) {
        Task &t = *static_cast<Task *>(data);
        int64_t threads = t.omp->num_threads();
        if (t.grain > 0) threads = std::min(threads, (t.end - t.begin + t.grain - 1) / t.grain);
        const int64_t id = t.omp->thread_num(), chunk = (t.end - t.begin + threads - 1) / threads;
        const int64_t first = t.begin + id * chunk;
        if (id >= threads || first >= t.end) return;
        try {
            at::internal::ThreadIdGuard guard_id(id);
            c10::ParallelGuard guard(true);
            t.f(first, std::min(t.end, first + chunk));
        } catch (...) {
            if (!t.failed.test_and_set()) t.error = std::current_exception();
        }
    }, &task, 0, 0);
    if (task.error) std::rethrow_exception(task.error);
}

} // namespace ctorch
