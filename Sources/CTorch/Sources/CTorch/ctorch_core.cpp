// ctorch_core.cpp — the shim's foundations: library facts, threads, handles, bytes in and out,
// factories, dtype/device conversion, autograd and generators. Conventions: include/ctorch.h.
#include "ctorch_internal.hpp"

#include <algorithm>
#include <c10/core/CachingDeviceAllocator.h>  // peak memory of a device's caching allocator, no CUDA headers

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <c10/core/GradMode.h>
#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sstream>
#include <torch/cuda.h>
#include <torch/version.h>

using namespace ctorch;

namespace {

at::TensorOptions options(ctorch_dtype dtype, ctorch_device device) {
    return at::TensorOptions().dtype(scalar_type(dtype)).device(device_of(device));
}

size_t byte_size(const at::Tensor &tensor) { return static_cast<size_t>(tensor.numel()) * tensor.element_size(); }

std::string describe_shape(const int64_t *shape, int ndim) {
    try {
        return c10::str(at::IntArrayRef(int_list(shape, ndim)));
    } catch (...) {
        return "(invalid shape)";
    }
}

at::Generator &borrow_generator(ctorch_generator handle) {
    if (handle == nullptr) throw std::invalid_argument("null generator handle");
    return handle->generator;
}

} // namespace

extern "C" {

// ───────────────────────────── library, threads, global seed ─────────────────────────────

void ctorch_free_string(char *message) { std::free(message); }

int ctorch_version(const char **out_version, char **err) {
    return guarded(err, [&] {
        static const std::string version = std::to_string(TORCH_VERSION_MAJOR) + "." +
                                           std::to_string(TORCH_VERSION_MINOR) + "." +
                                           std::to_string(TORCH_VERSION_PATCH);
        *out_version = version.c_str();
    });
}

int ctorch_libtorch_location(const char **out_loaded, const char **out_built_against, char **err) {
    return guarded(err, [&] {
        // The file the dynamic loader mapped for libtorch_cpu: the library of a symbol defined there.
        static const std::string loaded = [] {
            Dl_info info{};
            if (dladdr(reinterpret_cast<void *>(&at::show_config), &info) == 0 || info.dli_fname == nullptr) {
                throw std::runtime_error("dladdr could not name the library holding at::show_config");
            }
            return std::string(info.dli_fname);
        }();
        *out_loaded = loaded.c_str();
#if defined(LOOM_LIBTORCH_LIB)
        *out_built_against = LOOM_LIBTORCH_LIB;
#else
        *out_built_against = "";
#endif
    });
}

int ctorch_build_configuration(const char **out_text, char **err) {
    return guarded(err, [&] {
        static const std::string text = at::show_config();
        *out_text = text.c_str();
    });
}

int ctorch_cuda_is_available(int *out_available, char **err) {
    return guarded(err, [&] { *out_available = torch::cuda::is_available() ? 1 : 0; });
}

int ctorch_cuda_device_count(int *out_count, char **err) {
    return guarded(err, [&] { *out_count = static_cast<int>(torch::cuda::device_count()); });
}

int ctorch_cuda_memory_peak(int device, int reset, int64_t *out_allocated, int64_t *out_reserved, char **err) {
    return guarded(err, [&] {
        // The device-generic allocator interface (c10::DeviceAllocator, which CUDA's caching allocator
        // implements): the same statistics as torch.cuda.max_memory_allocated/_reserved, without CUDA's headers.
        const auto index = static_cast<c10::DeviceIndex>(device);
        auto *allocator = c10::getDeviceAllocator(c10::DeviceType::CUDA);
        const auto stats = allocator->getDeviceStats(index);
        const auto aggregate = static_cast<size_t>(c10::CachingDeviceAllocator::StatType::AGGREGATE);
        *out_allocated = stats.allocated_bytes[aggregate].peak;
        *out_reserved = stats.reserved_bytes[aggregate].peak;
        if (reset) allocator->resetPeakStats(index);
    });
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

int ctorch_parallel_loop_check(int64_t items, int64_t fail_at, int *out_threads, int *out_openmp, char **err) {
    return guarded(err, [&] {
        if (items < 1) throw std::invalid_argument("parallel loop check: items must be at least 1, got " + std::to_string(items));
        std::vector<int> ran_by(static_cast<size_t>(items), -1);
        ctorch::parallel_for(0, items, 1, [&](int64_t first, int64_t last) {
            for (int64_t i = first; i < last; ++i) {
                if (i == fail_at) throw std::runtime_error("item " + std::to_string(i) + " failed, as asked");
                ran_by[static_cast<size_t>(i)] = at::get_thread_num();
            }
        });
        std::vector<int> threads(ran_by);
        std::sort(threads.begin(), threads.end());
        if (threads.front() < 0) throw std::runtime_error("parallel loop check: an item did not run");
        *out_threads = static_cast<int>(std::unique(threads.begin(), threads.end()) - threads.begin());
        *out_openmp = ctorch::openmp::runtime() != nullptr ? 1 : 0;
    });
}

int ctorch_manual_seed(uint64_t seed, char **err) {
    return guarded(err, [&] { at::manual_seed(seed); });
}

int ctorch_release_free_heap_memory(char **err) {
    return guarded(err, [&] {
#if defined(__GLIBC__)
        malloc_trim(0);
#endif
    });
}

// ───────────────────────────── tensor handles and facts ─────────────────────────────

void ctorch_tensor_free(ctorch_tensor tensor) { delete tensor; }

int ctorch_tensor_share(ctorch_tensor tensor, ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(borrow(tensor)); });
}

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

int ctorch_tensor_device(ctorch_tensor tensor, ctorch_device *out_device, char **err) {
    return guarded(err, [&] {
        const at::Device device = borrow(tensor).device();
        if (device.is_cpu()) {
            *out_device = ctorch_device{CTORCH_DEVICE_CPU, 0};
        } else if (device.is_cuda()) {
            *out_device = ctorch_device{CTORCH_DEVICE_CUDA, device.has_index() ? device.index() : 0};
        } else {
            throw std::invalid_argument("device " + device.str() + " is not used by Loom");
        }
    });
}

int ctorch_tensor_numel(ctorch_tensor tensor, int64_t *out_numel, char **err) {
    return guarded(err, [&] { *out_numel = borrow(tensor).numel(); });
}

int ctorch_tensor_is_contiguous(ctorch_tensor tensor, int *out_contiguous, char **err) {
    return guarded(err, [&] { *out_contiguous = borrow(tensor).is_contiguous() ? 1 : 0; });
}

int ctorch_tensor_to_string(ctorch_tensor tensor, char **out, char **err) {
    return guarded(err, [&] {
        std::ostringstream text;
        text << borrow(tensor);
        char *copy = copy_message(text.str());
        if (copy == nullptr) throw std::bad_alloc();
        *out = copy;
    });
}

// ───────────────────────────── bytes in and out ─────────────────────────────

int ctorch_tensor_from_bytes(const void *data, size_t byte_count, const int64_t *shape, int ndim,
                             ctorch_dtype dtype, ctorch_tensor *out, char **err) {
    return ctorch_tensor_from_bytes_as(data, byte_count, shape, ndim, dtype, dtype,
                                       ctorch_device{CTORCH_DEVICE_CPU, 0}, out, err);
}

int ctorch_tensor_from_bytes_as(const void *data, size_t byte_count, const int64_t *shape, int ndim,
                                ctorch_dtype source_dtype, ctorch_dtype target_dtype, ctorch_device device,
                                ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const std::vector<int64_t> sizes = int_list(shape, ndim);
        const at::ScalarType source = scalar_type(source_dtype);
        const auto source_options = at::TensorOptions().dtype(source);
        int64_t numel = 1;
        for (int64_t size : sizes) {
            if (size < 0) throw std::invalid_argument("negative size in shape " + c10::str(at::IntArrayRef(sizes)));
            numel *= size;
        }
        const size_t element = c10::elementSize(source);
        const size_t expected = static_cast<size_t>(numel) * element;
        if (expected != byte_count)
            throw std::invalid_argument("byte count " + std::to_string(byte_count) + " does not match shape " +
                                        c10::str(at::IntArrayRef(sizes)) + " of " + dtype_name(source) + " (" +
                                        std::to_string(expected) + " bytes)");
        if (byte_count > 0 && data == nullptr) throw std::invalid_argument("null data pointer");
        const auto target_options = at::TensorOptions().dtype(scalar_type(target_dtype)).device(device_of(device));
        at::Tensor result;
        const bool aligned = reinterpret_cast<uintptr_t>(data) % element == 0;
        if (byte_count > 0 && aligned) {
            // A borrowed view of the caller's bytes, converted and copied in one pass.
            at::Tensor view = at::from_blob(const_cast<void *>(data), sizes, source_options);
            result = view.to(target_options, /*non_blocking=*/false, /*copy=*/true);
        } else {
            at::Tensor staged = at::empty(sizes, source_options);
            if (byte_count > 0) std::memcpy(staged.data_ptr(), data, byte_count);
            result = staged.to(target_options);
        }
        *out = make_handle(std::move(result));
    }, [&] { return "tensor_from_bytes of shape " + describe_shape(shape, ndim); });
}

int ctorch_tensor_copy_to_bytes(ctorch_tensor tensor, ctorch_dtype dtype, void *dst, size_t byte_count, char **err) {
    return guarded(err, [&] {
        const at::Tensor source = borrow(tensor).detach();
        const auto options = at::TensorOptions().dtype(scalar_type(dtype));
        const size_t expected = static_cast<size_t>(source.numel()) * c10::elementSize(scalar_type(dtype));
        if (expected != byte_count)
            throw std::invalid_argument("destination holds " + std::to_string(byte_count) + " bytes, tensor " +
                                        c10::str(source.sizes()) + " as " + dtype_name(scalar_type(dtype)) +
                                        " needs " + std::to_string(expected));
        if (byte_count == 0) return;
        // Conversion, gathering of a strided source and the device copy all land in `dst` in one pass.
        at::from_blob(dst, source.sizes(), options).copy_(source);
    }, [&] { return describe_op("copy_to_bytes", {tensor}); });
}

int ctorch_tensor_data(ctorch_tensor tensor, void **out_data, char **err) {
    return guarded(err, [&] {
        const at::Tensor &t = borrow(tensor);
        if (!t.device().is_cpu()) throw std::invalid_argument("tensor is on " + t.device().str() + ", not the CPU");
        if (!t.is_contiguous()) throw std::invalid_argument("tensor is not contiguous");
        *out_data = t.data_ptr();
    }, [&] { return describe_op("data", {tensor}); });
}

int ctorch_tensor_item(ctorch_tensor tensor, ctorch_scalar *out, char **err) {
    return guarded(err, [&] {
        const at::Scalar value = borrow(tensor).item();
        if (value.isFloatingPoint()) {
            *out = ctorch_scalar{CTORCH_SCALAR_REAL, value.toDouble(), 0};
        } else if (value.isBoolean()) {
            *out = ctorch_scalar{CTORCH_SCALAR_BOOL, 0, value.toBool() ? 1 : 0};
        } else if (value.isIntegral(false)) {
            *out = ctorch_scalar{CTORCH_SCALAR_INT, 0, value.toLong()};
        } else {
            throw std::invalid_argument("complex values are not used by Loom");
        }
    }, [&] { return describe_op("item", {tensor}); });
}

int ctorch_tensor_equal(ctorch_tensor a, ctorch_tensor b, int *out_equal, char **err) {
    return guarded(err, [&] {
        const at::Tensor &x = borrow(a), &y = borrow(b);
        *out_equal = (x.sizes() == y.sizes() && x.scalar_type() == y.scalar_type() && at::equal(x, y)) ? 1 : 0;
    }, [&] { return describe_op("equal", {a, b}); });
}

// ───────────────────────────── factories ─────────────────────────────

int ctorch_empty(const int64_t *shape, int ndim, ctorch_dtype dtype, ctorch_device device, ctorch_tensor *out,
                 char **err) {
    return guarded(err, [&] { *out = make_handle(at::empty(int_list(shape, ndim), options(dtype, device))); },
                   [&] { return "empty of shape " + describe_shape(shape, ndim); });
}

int ctorch_full(const int64_t *shape, int ndim, ctorch_scalar value, ctorch_dtype dtype, ctorch_device device,
                ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const at::Scalar fill = scalar_of(value);
        const auto sizes = int_list(shape, ndim);
        at::Tensor result = (fill.isIntegral(false) && fill.toLong() == 0) ? at::zeros(sizes, options(dtype, device))
                                                                          : at::full(sizes, fill, options(dtype, device));
        *out = make_handle(std::move(result));
    }, [&] { return "full of shape " + describe_shape(shape, ndim); });
}

int ctorch_full_like(ctorch_tensor like, ctorch_scalar value, int empty, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const at::Tensor &t = borrow(like);
        *out = make_handle(empty ? at::empty_like(t, at::MemoryFormat::Contiguous)
                                 : at::full_like(t, scalar_of(value), {}, at::MemoryFormat::Contiguous));
    }, [&] { return describe_op("full_like", {like}); });
}

int ctorch_arange(ctorch_scalar start, ctorch_scalar end, ctorch_scalar step, ctorch_dtype dtype,
                  ctorch_device device, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        *out = make_handle(at::arange(scalar_of(start), scalar_of(end), scalar_of(step), options(dtype, device)));
    }, [] { return std::string("arange"); });
}

int ctorch_random(ctorch_random_kind kind, double a, double b, const int64_t *shape, int ndim, ctorch_dtype dtype,
                  ctorch_device device, ctorch_generator generator, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        at::Tensor result = at::empty(int_list(shape, ndim), options(dtype, device));
        switch (kind) {
        case CTORCH_RANDOM_UNIFORM: result.uniform_(a, b, generator_of(generator)); break;
        case CTORCH_RANDOM_NORMAL: result.normal_(a, b, generator_of(generator)); break;
        default: throw std::invalid_argument("unknown random kind " + std::to_string(kind));
        }
        *out = make_handle(std::move(result));
    }, [&] { return "random of shape " + describe_shape(shape, ndim); });
}

int ctorch_randint(int64_t low, int64_t high, const int64_t *shape, int ndim, ctorch_dtype dtype,
                   ctorch_device device, ctorch_generator generator, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        *out = make_handle(at::randint(low, high, int_list(shape, ndim), generator_of(generator), options(dtype, device)));
    }, [&] { return "randint of shape " + describe_shape(shape, ndim); });
}

int ctorch_randperm(int64_t n, ctorch_device device, ctorch_generator generator, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        *out = make_handle(at::randperm(n, generator_of(generator), options(CTORCH_I64, device)));
    }, [] { return std::string("randperm"); });
}

// ───────────────────────────── conversion ─────────────────────────────

int ctorch_to_dtype(ctorch_tensor tensor, ctorch_dtype dtype, ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(borrow(tensor).to(scalar_type(dtype))); },
                   [&] { return describe_op("to_dtype", {tensor}); });
}

int ctorch_to_device(ctorch_tensor tensor, ctorch_device device, ctorch_tensor *out, char **err) {
    return guarded(err, [&] { *out = make_handle(borrow(tensor).to(device_of(device))); },
                   [&] { return describe_op("to_device", {tensor}); });
}

// ───────────────────────────── autograd ─────────────────────────────

int ctorch_requires_grad(ctorch_tensor tensor, int *out_requires_grad, char **err) {
    return guarded(err, [&] { *out_requires_grad = borrow(tensor).requires_grad() ? 1 : 0; });
}

int ctorch_set_requires_grad(ctorch_tensor tensor, int requires_grad, char **err) {
    return guarded(err, [&] { borrow_mut(tensor).set_requires_grad(requires_grad != 0); },
                   [&] { return describe_op("set_requires_grad", {tensor}); });
}

int ctorch_is_leaf(ctorch_tensor tensor, int *out_is_leaf, char **err) {
    return guarded(err, [&] { *out_is_leaf = borrow(tensor).is_leaf() ? 1 : 0; });
}

int ctorch_retain_grad(ctorch_tensor tensor, char **err) {
    return guarded(err, [&] { borrow(tensor).retain_grad(); }, [&] { return describe_op("retain_grad", {tensor}); });
}

int ctorch_backward(ctorch_tensor tensor, ctorch_tensor gradient, int retain_graph, char **err) {
    return guarded(err, [&] {
        const at::Tensor seed = gradient == nullptr ? at::Tensor() : borrow(gradient);
        borrow(tensor).backward(seed, retain_graph != 0, /*create_graph=*/false);
    }, [&] { return describe_op("backward", {tensor}); });
}

int ctorch_grad(ctorch_tensor tensor, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        const at::Tensor &grad = borrow(tensor).grad();
        *out = grad.defined() ? make_handle(grad) : nullptr;
    }, [&] { return describe_op("grad", {tensor}); });
}

int ctorch_set_grad(ctorch_tensor tensor, ctorch_tensor gradient, char **err) {
    return guarded(err, [&] {
        at::Tensor &target = borrow_mut(tensor);
        if (gradient == nullptr) {
            target.mutable_grad().reset();
            return;
        }
        const at::Tensor &grad = borrow(gradient);
        if (grad.sizes() != target.sizes())
            throw std::invalid_argument("gradient shape " + c10::str(grad.sizes()) + " does not match tensor shape " +
                                        c10::str(target.sizes()));
        target.mutable_grad() = grad;
    }, [&] { return describe_op("set_grad", {tensor, gradient}); });
}

int ctorch_set_grad_enabled(int enabled, int *out_previous, char **err) {
    return guarded(err, [&] {
        const bool previous = c10::GradMode::is_enabled();
        c10::GradMode::set_enabled(enabled != 0);
        if (out_previous != nullptr) *out_previous = previous ? 1 : 0;
    });
}

int ctorch_is_grad_enabled(int *out_enabled, char **err) {
    return guarded(err, [&] { *out_enabled = c10::GradMode::is_enabled() ? 1 : 0; });
}

// ───────────────────────────── generators ─────────────────────────────

int ctorch_generator_new(ctorch_device device, uint64_t seed, ctorch_generator *out, char **err) {
    return guarded(err, [&] {
        const at::Device where = device_of(device);
        at::Generator generator;
        if (where.is_cpu()) {
            generator = at::make_generator<at::CPUGeneratorImpl>(seed);
        } else {
            // A fresh stream of the device's own kind, without compiling against CUDA headers.
            generator = at::globalContext().defaultGenerator(where).clone();
            generator.set_current_seed(seed);
        }
        *out = new ctorch_generator_s{std::move(generator)};
    });
}

void ctorch_generator_free(ctorch_generator generator) { delete generator; }

int ctorch_generator_set_seed(ctorch_generator generator, uint64_t seed, char **err) {
    return guarded(err, [&] {
        at::Generator &g = borrow_generator(generator);
        std::lock_guard<std::mutex> lock(g.mutex());
        g.set_current_seed(seed);
    });
}

int ctorch_generator_seed(ctorch_generator generator, uint64_t *out_seed, char **err) {
    return guarded(err, [&] { *out_seed = borrow_generator(generator).current_seed(); });
}

int ctorch_generator_get_state(ctorch_generator generator, ctorch_tensor *out, char **err) {
    return guarded(err, [&] {
        at::Generator &g = borrow_generator(generator);
        at::Tensor state;
        {
            std::lock_guard<std::mutex> lock(g.mutex());
            state = g.get_state();
        }
        *out = make_handle(std::move(state));
    });
}

int ctorch_generator_set_state(ctorch_generator generator, ctorch_tensor state, char **err) {
    return guarded(err, [&] {
        at::Generator &g = borrow_generator(generator);
        const at::Tensor &bytes = borrow(state);
        if (bytes.scalar_type() != at::kByte || !bytes.device().is_cpu())
            throw std::invalid_argument("generator state must be a uint8 CPU tensor, got " + describe(state));
        std::lock_guard<std::mutex> lock(g.mutex());
        g.set_state(bytes.contiguous());
    });
}

} // extern "C"
