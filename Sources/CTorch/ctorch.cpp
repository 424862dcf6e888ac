// ctorch.cpp — the C++ side of the libtorch shim. See include/ctorch.h for the conventions:
// status + out-parameters, one exception boundary per entry point, handles made last.
#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <cstdlib>
#include <cstring>
#include <string>
#include <torch/cuda.h>
#include <torch/version.h>

struct ctorch_tensor_s {
    at::Tensor tensor;
};

namespace {

char *copy_message(const char *text) {
    size_t length = std::strlen(text);
    char *message = static_cast<char *>(std::malloc(length + 1));
    if (message != nullptr) std::memcpy(message, text, length + 1);
    return message;
}

// libtorch messages carry a C++ backtrace after the first line of context; people want the text.
std::string without_backtrace(const std::string &what) {
    auto cut = what.find("\nException raised from");
    return cut == std::string::npos ? what : what.substr(0, cut);
}

// The one exception boundary: runs `body`, turning any exception into CTORCH_ERROR + message.
template <typename Body>
int guarded(char **err, Body &&body) noexcept {
    try {
        body();
        return CTORCH_OK;
    } catch (const c10::Error &error) {
        if (err != nullptr) *err = copy_message(without_backtrace(error.what_without_backtrace()).c_str());
    } catch (const std::exception &error) {
        if (err != nullptr) *err = copy_message(error.what());
    } catch (...) {
        if (err != nullptr) *err = copy_message("unknown C++ exception in libtorch");
    }
    return CTORCH_ERROR;
}

at::ScalarType scalar_type(ctorch_dtype dtype) {
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

ctorch_dtype loom_dtype(at::ScalarType type) {
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

const at::Tensor &borrow(ctorch_tensor handle) {
    if (handle == nullptr) throw std::invalid_argument("null tensor handle");
    return handle->tensor;
}

// Allocates the handle as the last step of a call, after everything that can fail has run.
ctorch_tensor make_handle(at::Tensor tensor) { return new ctorch_tensor_s{std::move(tensor)}; }

} // namespace

extern "C" {

void ctorch_free_string(char *message) { std::free(message); }

int ctorch_version(const char **out_version, char **err) {
    return guarded(err, [&] {
        static const std::string version = std::to_string(TORCH_VERSION_MAJOR) + "." +
                                           std::to_string(TORCH_VERSION_MINOR) + "." +
                                           std::to_string(TORCH_VERSION_PATCH);
        *out_version = version.c_str();
    });
}

int ctorch_cuda_is_available(int *out_available, char **err) {
    return guarded(err, [&] { *out_available = torch::cuda::is_available() ? 1 : 0; });
}

int ctorch_cuda_device_count(int *out_count, char **err) {
    return guarded(err, [&] { *out_count = static_cast<int>(torch::cuda::device_count()); });
}

int ctorch_set_num_threads(int threads, char **err) {
    return guarded(err, [&] {
        if (threads < 1) throw std::invalid_argument("thread count must be at least 1, got " + std::to_string(threads));
        at::set_num_threads(threads);
    });
}

int ctorch_get_num_threads(int *out_threads, char **err) {
    return guarded(err, [&] { *out_threads = at::get_num_threads(); });
}

int ctorch_manual_seed(uint64_t seed, char **err) {
    return guarded(err, [&] {
        at::manual_seed(seed);
    });
}

int ctorch_tensor_from_bytes(const void *data, size_t byte_count, const int64_t *shape, int ndim,
                             ctorch_dtype dtype, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        if (ndim < 0) throw std::invalid_argument("negative ndim");
        std::vector<int64_t> sizes(shape, shape + ndim);
        auto options = at::TensorOptions().dtype(scalar_type(dtype));
        at::Tensor tensor = at::empty(sizes, options);
        size_t expected = static_cast<size_t>(tensor.numel()) * tensor.element_size();
        if (expected != byte_count)
            throw std::invalid_argument("byte count " + std::to_string(byte_count) + " does not match shape " +
                                        c10::str(tensor.sizes()) + " of " + c10::toString(tensor.scalar_type()) +
                                        " (" + std::to_string(expected) + " bytes)");
        if (byte_count > 0) std::memcpy(tensor.data_ptr(), data, byte_count);
        *out = make_handle(std::move(tensor));
    });
}

void ctorch_tensor_free(ctorch_tensor tensor) { delete tensor; }

int ctorch_tensor_ndim(ctorch_tensor tensor, int *out_ndim, char **err) {
    return guarded(err, [&] { *out_ndim = static_cast<int>(borrow(tensor).dim()); });
}

int ctorch_tensor_shape(ctorch_tensor tensor, int64_t *out_shape, int capacity, char **err) {
    return guarded(err, [&] {
        const auto &t = borrow(tensor);
        if (capacity < t.dim()) throw std::invalid_argument("shape buffer too small");
        for (int64_t i = 0; i < t.dim(); ++i) out_shape[i] = t.size(i);
    });
}

int ctorch_tensor_dtype(ctorch_tensor tensor, ctorch_dtype *out_dtype, char **err) {
    return guarded(err, [&] { *out_dtype = loom_dtype(borrow(tensor).scalar_type()); });
}

int ctorch_tensor_copy_to_bytes(ctorch_tensor tensor, void *dst, size_t byte_count, char **err) {
    return guarded(err, [&] {
        at::Tensor cpu = borrow(tensor).detach().to(at::kCPU).contiguous();
        size_t expected = static_cast<size_t>(cpu.numel()) * cpu.element_size();
        if (expected != byte_count)
            throw std::invalid_argument("destination holds " + std::to_string(byte_count) + " bytes, tensor " +
                                        c10::str(cpu.sizes()) + " needs " + std::to_string(expected));
        if (byte_count > 0) std::memcpy(dst, cpu.data_ptr(), byte_count);
    });
}

} // extern "C"
