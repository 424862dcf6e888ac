// ctorch_distributed.cpp — data parallelism over libtorch's c10d: a TCPStore rendezvous and a Gloo
// (CPU) or NCCL (CUDA) process group, and the two collectives a data-parallel trainer needs (the
// gradient all-reduce after backward, a broadcast). libtorch has no C++ DistributedDataParallel; the
// all-reduce after backward is the trainer's own.
//
// Which backends exist depends on the build: LOOM_WITH_GLOO when Gloo's headers were found (the wheel
// compiles Gloo in but ships no gloo/*.h; Debian's libgloo-dev supplies them — only the class layouts
// of c10d's ProcessGroupGloo are taken from them, every Gloo call runs inside libtorch), LOOM_WITH_NCCL
// when the CUDA build's NCCL header was found. Without either, creating a group says what is missing.
#include "ctorch_internal.hpp"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#if defined(LOOM_WITH_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(LOOM_WITH_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <stdexcept>

struct ctorch_process_group_s {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::Backend> backend;
    std::chrono::milliseconds timeout;
    int rank;
    int world_size;
};

using ctorch::guarded;

namespace {

ctorch_process_group_s &group_of(ctorch_process_group group) {
    if (group == nullptr) throw std::invalid_argument("process group handle is NULL");
    return *group;
}

std::vector<at::Tensor> tensors_of(const ctorch_tensor *tensors, size_t count) {
    std::vector<at::Tensor> result;
    result.reserve(count);
    for (size_t i = 0; i < count; i++) {
        if (tensors[i] == nullptr) throw std::invalid_argument("tensor " + std::to_string(i) + " is NULL");
        result.push_back(tensors[i]->tensor);
    }
    return result;
}

// The tensors as one contiguous buffer (of the first tensor's dtype and device), so that one collective
// moves all of them.
at::Tensor flattened(const std::vector<at::Tensor> &tensors) {
    std::vector<at::Tensor> flat;
    flat.reserve(tensors.size());
    for (const auto &tensor : tensors) flat.push_back(tensor.reshape({-1}).to(tensors.front().scalar_type()));
    return flat.size() == 1 ? flat.front().clone() : at::cat(flat);
}

void scatter_back(const at::Tensor &buffer, const std::vector<at::Tensor> &tensors) {
    int64_t offset = 0;
    for (const auto &tensor : tensors) {
        const int64_t count = tensor.numel();
        at::Tensor target = tensor;
        target.copy_(buffer.narrow(0, offset, count).view(tensor.sizes()));
        offset += count;
    }
}

void wait(ctorch_process_group_s &group, const c10::intrusive_ptr<c10d::Work> &work, const char *what) {
    if (!work->wait(group.timeout)) {
        throw std::runtime_error(std::string(what) + " did not complete within " + std::to_string(group.timeout.count()) + " ms");
    }
}

}  // namespace

extern "C" {

char *ctorch_process_group_backends(void) {
    std::string names;
#if defined(LOOM_WITH_GLOO)
    names += "gloo";
#endif
#if defined(LOOM_WITH_NCCL)
    if (!names.empty()) names += ",";
    names += "nccl";
#endif
    return ctorch::copy_message(names);
}

int ctorch_process_group_new(const char *host, int port, int rank, int world_size, const char *backend, int64_t timeout_ms,
                             ctorch_process_group *out, char **err) {
    return guarded(err, [&] {
        if (host == nullptr || backend == nullptr) throw std::invalid_argument("host and backend must not be NULL");
        if (world_size < 1 || rank < 0 || rank >= world_size) {
            throw std::invalid_argument("rank " + std::to_string(rank) + " is outside a world of " + std::to_string(world_size));
        }
        if (port < 1 || port > 65535) throw std::invalid_argument("port " + std::to_string(port) + " is not in 1…65535");
        const std::string name(backend);
        auto group = std::make_unique<ctorch_process_group_s>();
        group->timeout = std::chrono::milliseconds(timeout_ms);
        group->rank = rank;
        group->world_size = world_size;

        c10d::TCPStoreOptions options;
        options.port = static_cast<uint16_t>(port);
        options.isServer = rank == 0;
        options.numWorkers = world_size;
        options.waitWorkers = true;
        options.timeout = group->timeout;
        group->store = c10::make_intrusive<c10d::TCPStore>(std::string(host), options);

        if (name == "gloo") {
#if defined(LOOM_WITH_GLOO)
            auto gloo = c10d::ProcessGroupGloo::Options::create(group->timeout);
            gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
            group->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(group->store, rank, world_size, gloo);
#else
            throw std::runtime_error(
                "this build of the torch shim has no Gloo backend: Gloo's headers were not found when it was built "
                "(install Debian's libgloo-dev, or set GLOO_INCLUDE, and rebuild)");
#endif
        } else if (name == "nccl") {
#if defined(LOOM_WITH_NCCL)
            auto nccl = c10d::ProcessGroupNCCL::Options::create();
            nccl->timeout = group->timeout;
            group->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(group->store, rank, world_size, nccl);
#else
            throw std::runtime_error(
                "this build of the torch shim has no NCCL backend: it needs libtorch's CUDA build, NCCL's header "
                "(nccl.h, from the nvidia-nccl wheel or NCCL_INCLUDE) and CUDA's headers (a CUDA toolkit, CUDA_HOME) "
                "when it is built; build-shim.sh says which was missing");
#endif
        } else {
            throw std::invalid_argument("unknown process group backend '" + name + "' (expected gloo or nccl)");
        }
        *out = group.release();
    }, [&] {
        return std::string("process group rendezvous at ") + (host ? host : "?") + ":" + std::to_string(port) + " as rank " +
               std::to_string(rank) + " of " + std::to_string(world_size);
    });
}

void ctorch_process_group_free(ctorch_process_group group) {
    try {
        delete group;
    } catch (...) {
    }
}

int ctorch_process_group_all_reduce(ctorch_process_group group, const ctorch_tensor *tensors, size_t count, double scale,
                                    char **err) {
    return guarded(err, [&] {
        auto &g = group_of(group);
        if (count == 0) return;
        auto list = tensors_of(tensors, count);
        std::vector<at::Tensor> buffer{flattened(list)};
        c10d::AllreduceOptions options;
        options.reduceOp = c10d::ReduceOp::SUM;
        options.timeout = g.timeout;
        wait(g, g.backend->allreduce(buffer, options), "all-reduce");
        if (scale != 1.0) buffer.front().mul_(scale);
        scatter_back(buffer.front(), list);
    }, [&] { return "all-reduce of " + std::to_string(count) + " tensors"; });
}

int ctorch_process_group_broadcast(ctorch_process_group group, const ctorch_tensor *tensors, size_t count, int root, char **err) {
    return guarded(err, [&] {
        auto &g = group_of(group);
        if (count == 0) return;
        if (root < 0 || root >= g.world_size) throw std::invalid_argument("root rank " + std::to_string(root) + " is outside the group");
        auto list = tensors_of(tensors, count);
        std::vector<at::Tensor> buffer{flattened(list)};
        c10d::BroadcastOptions options;
        options.rootRank = root;
        options.timeout = g.timeout;
        wait(g, g.backend->broadcast(buffer, options), "broadcast");
        scatter_back(buffer.front(), list);
    }, [&] { return "broadcast of " + std::to_string(count) + " tensors from rank " + std::to_string(root); });
}

}  // extern "C"
